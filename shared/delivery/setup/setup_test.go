//go:build !verifyfn_providers

// These tests configure every provider type: they run in the default
// build, which has them all (built_test.go runs in every build).

package setup_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/outbox"
	"github.com/verifyfn/verifyfn/shared/delivery/setup"
	"github.com/verifyfn/verifyfn/shared/delivery/webhook"
)

func TestFullConfiguration(t *testing.T) {
	cfg := baseConfig(t)
	cfg.Delivery.YAML = fullYAML
	var logs bytes.Buffer
	s, closer, err := setup.New(cfg, setup.Options{LookupEnv: secrets.lookup, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer closer.Close()
	if s == nil {
		t.Fatal("no sender")
	}
	for _, v := range secrets {
		if strings.Contains(logs.String(), v) {
			t.Fatalf("a secret was logged: %s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), "aliyun,hook,mail,tencent,twilio,twilio-voice") {
		t.Fatalf("logs %s", logs.String())
	}
}

func TestConfigurationErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"literal secret", `
providers:
  hook: {type: webhook, url: "https://x.example", secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}
routes: {sms: {"*": [hook]}}`, []string{":3: providers.hook.secret must be a reference, env:NAME or file:PATH"}},
		{"missing variable", `
providers:
  hook: {type: webhook, url: "https://x.example", secret: env:NOT_SET}
routes: {sms: {"*": [hook]}}`, []string{"providers.hook.secret: environment variable NOT_SET is not set"}},
		{"unknown key", `
providers:
  hook:
    type: webhook
    url: "https://x.example"
    secret: env:WH_SECRET
    retries: 3
routes: {sms: {"*": [hook]}}`, []string{`:7: providers.hook: unknown key "retries"`}},
		{"unknown type", `
providers:
  pigeon: {type: carrier_pigeon}
routes: {sms: {"*": [pigeon]}}`, []string{`providers.pigeon: type "carrier_pigeon" is not one of`}},
		{"unknown provider in route", `
providers:
  hook: {type: webhook, url: "https://x.example", secret: env:WH_SECRET}
routes: {sms: {"*": [hook, nope]}}`, []string{`routes.sms.*: no provider named "nope"`}},
		{"wrong channel", `
providers:
  mail: {type: smtp, host: smtp.example.com, from: a@example.com}
routes: {sms: {"*": [mail]}}`, []string{"routes.sms.*: provider mail (smtp) does not deliver sms", "providers.mail is not used by any route"}},
		{"bad country code", `
providers:
  hook: {type: webhook, url: "https://x.example", secret: env:WH_SECRET}
routes: {sms: {"china": [hook]}, email: {"86": [hook]}}`, []string{`"china" is neither a country calling code`, `routes.email takes only "*"`}},
		{"provider validation", `
providers:
  tw: {type: twilio_sms, account_sid: nope, auth_token: env:TW_TOKEN}
routes: {sms: {"*": [tw]}}`, []string{"providers.tw: account_sid must be an account SID", "providers.tw: from or messaging_service_sid is required"}},
		{"bad webhook secret", `
providers:
  hook: {type: webhook, url: "https://x.example", secret: env:TC_KEY}
routes: {sms: {"*": [hook]}}`, []string{`providers.hook: secret must start with "whsec_"`}},
		{"no routes", `
providers:
  hook: {type: webhook, url: "https://x.example", secret: env:WH_SECRET}`, []string{"routes: at least one route is required"}},
		{"top-level typo", `
provider: {}
routes: {}`, []string{`unknown key "provider"`, "providers: at least one provider is required"}},
		{"bad yaml", "providers: [", []string{"VERIFYFN_DELIVERY_YAML: yaml:"}},
		{"wrong value type", `
providers:
  hook: {type: webhook, url: "https://x.example", secret: env:WH_SECRET, max_attempts: whsec_abcdef}
routes: {sms: {"*": [hook]}}`, []string{"providers.hook: yaml: unmarshal errors"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig(t)
			cfg.Delivery.YAML = tc.yaml
			_, _, err := setup.New(cfg, setup.Options{LookupEnv: secrets.lookup})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, v := range append([]string{"c2VjcmV0c2VjcmV0", "whsec_abcdef"}, values(secrets)...) {
				if strings.Contains(err.Error(), v) {
					t.Errorf("the error quotes a secret: %v", err)
				}
			}
		})
	}
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestFileReferencesAndDeliveryFile(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "webhook-secret")
	if err := os.WriteFile(secretFile, []byte(whSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	file := filepath.Join(dir, "delivery.yaml")
	yaml := "providers:\n  hook:\n    type: webhook\n    url: " + srv.URL + "\n    secret: file:" + secretFile + "\nroutes:\n  sms:\n    \"*\": [hook]\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(t)
	cfg.Delivery.File = file
	s, closer, err := setup.New(cfg, setup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if err := s.Send(context.Background(), msg()); err != nil {
		t.Fatal(err)
	}
	if got := rec.all(); len(got) != 1 || !got[0] {
		t.Fatalf("received %v", got)
	}

	cfg.Delivery.File = filepath.Join(dir, "missing.yaml")
	if _, _, err := setup.New(cfg, setup.Options{}); err == nil || !strings.Contains(err.Error(), "VERIFYFN_DELIVERY: cannot read") {
		t.Fatalf("missing file: %v", err)
	}
}

// recorder is a webhook receiver that records whether each signature held.
type recorder struct {
	mu    sync.Mutex
	valid []bool
	texts []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	ok := webhook.Verify(whKey, req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature"), body)
	r.mu.Lock()
	r.valid = append(r.valid, ok)
	r.texts = append(r.texts, string(body))
	r.mu.Unlock()
}

func (r *recorder) all() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bool(nil), r.valid...)
}

func msg() delivery.Message {
	m := delivery.Message{Channel: delivery.SMS, To: "+85251234567", Code: "123456", Locale: "en", Purpose: "register", TTL: 10 * time.Minute, At: time.Now()}
	m.Subject, m.Text = delivery.DefaultTemplates().Render(m)
	return m
}

func TestOutboxByDefaultAndRefusedInProduction(t *testing.T) {
	cfg := baseConfig(t)
	s, closer, err := setup.New(cfg, setup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), msg()); err != nil {
		t.Fatal(err)
	}
	closer.Close()
	if lines, err := outbox.Read(cfg.Outbox); err != nil || len(lines) != 1 || lines[0].Code != "123456" {
		t.Fatalf("outbox %v %v", lines, err)
	}

	cfg.Env = config.EnvProduction
	if _, _, err := setup.New(cfg, setup.Options{}); err == nil || !strings.Contains(err.Error(), "VERIFYFN_ALLOW_OUTBOX") {
		t.Fatalf("production outbox: %v", err)
	}
	// An outbox provider in the file is refused too.
	cfg.Delivery.YAML = "providers:\n  dev: {type: outbox}\nroutes:\n  sms: {\"*\": [dev]}\n"
	if _, _, err := setup.New(cfg, setup.Options{}); err == nil || !strings.Contains(err.Error(), "providers.dev: the development outbox is refused") {
		t.Fatalf("production outbox provider: %v", err)
	}
	cfg.Delivery.AllowOutbox = true
	var logs bytes.Buffer
	_, closer, err = setup.New(cfg, setup.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("allowed outbox provider: %v", err)
	}
	closer.Close()
	cfg.Delivery.YAML = ""
	_, closer, err = setup.New(cfg, setup.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("allowed outbox: %v", err)
	}
	closer.Close()
	if !strings.Contains(logs.String(), "production is using the development outbox") {
		t.Fatalf("no warning: %s", logs.String())
	}
}

func TestTestNumbersRefusedInProduction(t *testing.T) {
	cfg := baseConfig(t)
	cfg.Env = config.EnvProduction
	cfg.Delivery.AllowOutbox = true
	cfg.Delivery.TestNumbers = map[string]string{"+85251234567": "123456"}
	if _, _, err := setup.New(cfg, setup.Options{}); err == nil || !strings.Contains(err.Error(), "VERIFYFN_ALLOW_TEST_NUMBERS") {
		t.Fatalf("err %v", err)
	}
	cfg.Delivery.AllowTestNumbers = true
	_, closer, err := setup.New(cfg, setup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	closer.Close()
}

func TestTemplatesFile(t *testing.T) {
	dir := t.TempDir()
	tpl := filepath.Join(dir, "templates.yaml")
	if err := os.WriteFile(tpl, []byte("sms:\n  en:\n    register: \"ACME sign-up code {{code}}\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(t)
	cfg.Delivery.TemplatesFile = tpl
	s, closer, err := setup.New(cfg, setup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), msg()); err != nil {
		t.Fatal(err)
	}
	closer.Close()
	lines, err := outbox.Read(cfg.Outbox)
	if err != nil || len(lines) != 1 || lines[0].Text != "ACME sign-up code 123456" {
		t.Fatalf("outbox %+v %v", lines, err)
	}

	if err := os.WriteFile(tpl, []byte("sms:\n  en:\n    register: \"no code\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := setup.New(cfg, setup.Options{}); err == nil || !strings.Contains(err.Error(), "VERIFYFN_TEMPLATES ("+tpl+"):3:") {
		t.Fatalf("bad templates: %v", err)
	}
}
