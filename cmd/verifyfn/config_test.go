package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
)

// serveExit runs "verifyfn" with the environment env and returns its exit
// status and what it printed. A configuration that serves is stopped after
// it started (the context ends), and exits 0.
func serveExit(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	dir := t.TempDir()
	base := map[string]string{"VERIFYFN_STORE": "memory", "VERIFYFN_OUTBOX": filepath.Join(dir, "outbox.jsonl"), "VERIFYFN_ADDR": "127.0.0.1:0",
		"VERIFYFN_METRICS_ADDR": "127.0.0.1:0"}
	for k, v := range env {
		base[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out, errs bytes.Buffer
	code := run(ctx, args, func(k string) string { return base[k] }, &out, &errs)
	return code, out.String() + errs.String()
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigurationErrorsExit2: every configuration error stops verifyfn
// with status 2 and names its file and line.
func TestConfigurationErrorsExit2(t *testing.T) {
	malformed := writeFile(t, "accounts.yaml", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDX\n        secret: \"\"\n")
	code, out := serveExit(t, nil, "--accounts", malformed)
	if code != 2 || !strings.Contains(out, malformed+":5") {
		t.Errorf("malformed accounts file: exit %d, want 2 with %s:5:\n%s", code, malformed, out)
	}
	code, out = serveExit(t, map[string]string{"VERIFYFN_ACCOUNTS": malformed})
	if code != 2 || !strings.Contains(out, malformed+":5") {
		t.Errorf("malformed VERIFYFN_ACCOUNTS: exit %d:\n%s", code, out)
	}
	code, out = serveExit(t, map[string]string{"VERIFYFN_CODE_TTL": "forever"})
	if code != 2 {
		t.Errorf("bad VERIFYFN_CODE_TTL: exit %d:\n%s", code, out)
	}
	delivery := writeFile(t, "delivery.yaml", "routes:\n  - {channel: fax}\n")
	code, out = serveExit(t, map[string]string{"VERIFYFN_DELIVERY": delivery})
	if code != 2 || !strings.Contains(out, "delivery.yaml") {
		t.Errorf("bad delivery file: exit %d:\n%s", code, out)
	}
}

// TestDocumentedCredentialOnlyOnLoopback: an accounts file that holds the
// README's example SecretId or SecretKey serves on loopback in development,
// and is refused, naming the credential, on any other address and in
// staging or production.
func TestDocumentedCredentialOnlyOnLoopback(t *testing.T) {
	copied := writeFile(t, "accounts.yaml", accounts.DevYAML)
	ownID := writeFile(t, "accounts.yaml", strings.Replace(accounts.DevYAML, accounts.DevSecretID, "AKIDMINE0000000000000000000000001", 1))
	ownKey := writeFile(t, "accounts.yaml", strings.Replace(accounts.DevYAML, accounts.DevSecretKey, "a-secret-of-my-own", 1))
	for _, tc := range []struct {
		name, file, addr, env string
		refused               bool
		names                 string
	}{
		{"example on loopback", copied, "127.0.0.1:0", "development", false, ""},
		{"example on every address", copied, "0.0.0.0:0", "development", true, accounts.DevSecretID},
		{"example in production", copied, "127.0.0.1:0", "production", true, accounts.DevSecretID},
		{"example in staging", copied, "127.0.0.1:0", "staging", true, accounts.DevSecretID},
		{"example secret, own id", ownID, "0.0.0.0:0", "development", true, "AKIDMINE0000000000000000000000001"},
		{"example id, own secret", ownKey, "0.0.0.0:0", "development", true, accounts.DevSecretID},
		{"own credential", writeFile(t, "accounts.yaml", strings.NewReplacer(accounts.DevSecretID, "AKIDMINE0000000000000000000000001", accounts.DevSecretKey, "a-secret-of-my-own").Replace(accounts.DevYAML)), "0.0.0.0:0", "production", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"VERIFYFN_ACCOUNTS": tc.file, "VERIFYFN_ADDR": tc.addr, "VERIFYFN_ENV": tc.env,
				"VERIFYFN_CODE_KEY": "0123456789abcdef0123456789abcdef", "VERIFYFN_ALLOW_OUTBOX": "true"}
			code, out := serveExit(t, env)
			if tc.refused {
				if code != 2 || !strings.Contains(out, tc.names) || !strings.Contains(out, "documented example") {
					t.Fatalf("exit %d, want 2 naming %s:\n%s", code, tc.names, out)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d, want it served:\n%s", code, out)
			}
		})
	}
}

// TestStartupLogNamesTheDelivery: the startup line names the development
// outbox only when codes go there, and the delivery file otherwise.
func TestStartupLogNamesTheDelivery(t *testing.T) {
	code, out := serveExit(t, nil)
	if code != 0 || !strings.Contains(out, `"outbox":`) {
		t.Errorf("no delivery configured: exit %d:\n%s", code, out)
	}
	delivery := writeFile(t, "delivery.yaml", "providers:\n  box: {type: outbox, path: "+filepath.Join(t.TempDir(), "box.jsonl")+"}\nroutes:\n  sms: {\"*\": [box]}\n  email: {\"*\": [box]}\n")
	code, out = serveExit(t, map[string]string{"VERIFYFN_DELIVERY": delivery})
	if code != 0 || strings.Contains(out, `"outbox":`) || !strings.Contains(out, `"delivery":"`+delivery+`"`) {
		t.Errorf("a delivery file: exit %d:\n%s", code, out)
	}
}
