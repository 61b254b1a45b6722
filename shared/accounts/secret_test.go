package accounts_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/verifyfn/verifyfn/shared/accounts"
)

// printSecret is the secret of the printing tests.
const printSecret = "Zq7PrintedSecretValue"

// printRegistry returns a registry whose credentials hold printSecret, one
// literal and one from the environment.
func printRegistry(t *testing.T) *accounts.Registry {
	t.Helper()
	const data = `accounts:
  - id: "1"
    credentials:
      - id: AKIDLITERAL
        secret: ` + printSecret + `
        actions: ["*"]
      - id: AKIDENV
        secret: env:KEY
        actions: ["smh:*"]
    products: [smh]
`
	r, err := accounts.Parse("p.yaml", []byte(data), env(map[string]string{"KEY": printSecret}))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSecretRendering(t *testing.T) {
	s := accounts.NewSecret(printSecret)
	for _, tc := range []struct {
		name      string
		got, want string
	}{
		{"%v", fmt.Sprintf("%v", s), "[redacted]"},
		{"%+v", fmt.Sprintf("%+v", s), "[redacted]"},
		{"%#v", fmt.Sprintf("%#v", s), "[redacted]"},
		{"%s", fmt.Sprintf("%s", s), "[redacted]"},
		{"%q", fmt.Sprintf("%q", s), "[redacted]"},
		{"%x", fmt.Sprintf("%x", s), "[redacted]"},
		{"%X", fmt.Sprintf("%X", s), "[redacted]"},
		{"%d", fmt.Sprintf("%d", s), "[redacted]"},
		{"%30s", fmt.Sprintf("%30s", s), "[redacted]"},
		{"pointer %v", fmt.Sprintf("%v", &s), "[redacted]"},
		{"Sprint", fmt.Sprint(s), "[redacted]"},
		{"Sprintln", fmt.Sprintln(s), "[redacted]\n"},
		{"String", s.String(), "[redacted]"},
		{"GoString", s.GoString(), "[redacted]"},
		{"LogValue", s.LogValue().String(), "[redacted]"},
		{"json", mustJSON(t, s), `"[redacted]"`},
		{"json map", mustJSON(t, map[string]accounts.Secret{"k": s}), `{"k":"[redacted]"}`},
		{"yaml", mustYAML(t, s), "'[redacted]'\n"},
		{"text", mustText(t, s), "[redacted]"},
		{"Reveal", s.Reveal(), printSecret},
		{"Bytes", string(s.Bytes()), printSecret},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustYAML(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustText(t *testing.T, s accounts.Secret) string {
	t.Helper()
	b, err := s.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNothingPrintsSecrets prints and logs credentials, secrets and
// registries every way we can think of.
func TestNothingPrintsSecrets(t *testing.T) {
	r := printRegistry(t)
	lit, _ := r.Credential("AKIDLITERAL")
	fromEnv, _ := r.Credential("AKIDENV")
	hidden := struct {
		s    accounts.Secret
		c    accounts.Credential
		cs   []accounts.Credential
		reg  accounts.Registry
		Open accounts.Credential
	}{lit.Secret, *lit, []accounts.Credential{*lit, *fromEnv}, *r, *fromEnv}

	values := map[string]any{
		"secret":            lit.Secret,
		"*credential":       lit,
		"credential":        *lit,
		"env *credential":   fromEnv,
		"env credential":    *fromEnv,
		"[]*credential":     []*accounts.Credential{lit, fromEnv},
		"[]credential":      []accounts.Credential{*lit, *fromEnv},
		"map":               map[string]accounts.Credential{"a": *lit},
		"*registry":         r,
		"registry":          *r,
		"unexported fields": hidden,
		"*unexported":       &hidden,
		"account":           lit.Account,
	}
	var out []string
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			out = append(out, name+" "+verb+": "+fmt.Sprintf(verb, v))
		}
		out = append(out, name+" json: "+mustJSON(t, v))
		out = append(out, name+" yaml: "+mustYAML(t, v))

		var jsonLog, textLog bytes.Buffer
		slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("msg", "v", v, slog.Any("any", v), slog.Group("g", "v", v))
		slog.New(slog.NewTextHandler(&textLog, nil)).Info("msg", "v", v, slog.Any("any", v))
		out = append(out, name+" slog json: "+jsonLog.String(), name+" slog text: "+textLog.String())
	}
	for _, o := range out {
		if strings.Contains(o, printSecret) {
			t.Errorf("a secret was printed: %s", o)
		}
		bytesList := strings.Trim(fmt.Sprint([]byte(printSecret)), "[]")
		for _, part := range []string{fmt.Sprintf("%x", printSecret), fmt.Sprintf("%X", printSecret), bytesList} {
			if strings.Contains(o, part) {
				t.Errorf("a secret was printed encoded: %s", o)
			}
		}
	}
}

func TestLogValues(t *testing.T) {
	r := printRegistry(t)
	c, _ := r.Credential("AKIDENV")
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})).Info("m", "cred", c, "secret", c.Secret, "reg", r)
	got, want := buf.String(), `{"level":"INFO","msg":"m","cred":{"id":"AKIDENV","account":"1"},"secret":"[redacted]","reg":{"accounts":1,"credentials":2}}`+"\n"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got, want := fmt.Sprint(r), "accounts.Registry(1 accounts, 2 credentials)"; got != want {
		t.Errorf("Sprint(registry) = %q, want %q", got, want)
	}
	if got, want := fmt.Sprintf("%+v", *c), "{ID:AKIDENV Secret:[redacted] Actions:[smh:*] Account:0x"; !strings.HasPrefix(got, want) {
		t.Errorf("%%+v of a credential = %q, want it to start with %q", got, want)
	}
}
