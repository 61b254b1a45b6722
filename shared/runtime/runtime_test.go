package runtime

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		env   map[string]string
		want  Platform
		cloud bool
	}{
		{nil, HTTP, false},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, Lambda, true},
		{map[string]string{"_LAMBDA_SERVER_PORT": "28902", "TENCENTCLOUD_RUNENV": "SCF"}, SCF, true},
		{map[string]string{"TENCENTCLOUD_RUNENV": "SCF"}, HTTP, true}, // an SCF web function
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "_LAMBDA_SERVER_PORT": "1"}, Lambda, true},
	} {
		if got := Detect(env(tc.env)); got != tc.want {
			t.Errorf("Detect(%v) = %v, want %v", tc.env, got, tc.want)
		}
		if got := Cloud(env(tc.env)); got != tc.cloud {
			t.Errorf("Cloud(%v) = %v, want %v", tc.env, got, tc.cloud)
		}
	}
}

// syncBuffer collects a process's stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var sendverify = Function{Name: "sendverify", New: func(cfg config.Config, o app.Options) (*app.App, error) {
	o.Services = map[string]bool{intlpartnersmgt.Name: true}
	return app.New(cfg, o)
}}

// serve runs the function in HTTP mode until the test ends and returns its
// address, or the exit code if it ended at once.
func serve(t *testing.T, vars map[string]string, stderr io.Writer) (addr string, code int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan int, 1)
	go func() { done <- sendverify.run(ctx, env(vars), stderr, func(a net.Addr) { ready <- a.String() }) }()
	select {
	case addr = <-ready:
		t.Cleanup(func() {
			cancel()
			if c := <-done; c != 0 {
				t.Errorf("exit code %d after shutdown", c)
			}
		})
		return addr, -1
	case code = <-done:
		cancel()
		return "", code
	}
}

func TestLocalConfigErrorsExit(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"bad variable":               {"VERIFYFN_CODE_TTL": "forever", "VERIFYFN_ADDR": "127.0.0.1:0"},
		"dev account on all ifaces":  {"VERIFYFN_ADDR": "0.0.0.0:0"},
		"both accounts sources":      {"VERIFYFN_ACCOUNTS": "a.yaml", "VERIFYFN_ACCOUNTS_YAML": "accounts: []", "VERIFYFN_ADDR": "127.0.0.1:0"},
		"malformed accounts yaml":    {"VERIFYFN_ACCOUNTS_YAML": "accounts: [", "VERIFYFN_ADDR": "127.0.0.1:0"},
		"missing accounts file read": {"VERIFYFN_ACCOUNTS": "/nonexistent/accounts.yaml", "VERIFYFN_ADDR": "127.0.0.1:0"},
	} {
		t.Run(name, func(t *testing.T) {
			var stderr syncBuffer
			if _, code := serve(t, vars, &stderr); code != 2 {
				t.Fatalf("exit code %d, want 2; stderr %s", code, stderr.String())
			}
			if !strings.HasPrefix(stderr.String(), "sendverify: ") {
				t.Fatalf("stderr %q", stderr.String())
			}
		})
	}
}

// On a cloud platform (here an SCF web function, which is plain HTTP) a bad
// configuration is served: every request gets the InternalError envelope and
// one log line names the cause.
func TestCloudConfigErrorsAreServed(t *testing.T) {
	for name, tc := range map[string]struct {
		vars  map[string]string
		cause string
	}{
		"no accounts": {map[string]string{"VERIFYFN_CODE_KEY": "0123456789abcdef0123"}, "no accounts configured"},
		"no code key": {map[string]string{"VERIFYFN_ACCOUNTS_YAML": "accounts: []"}, "VERIFYFN_CODE_KEY is required"},
		"malformed accounts": {map[string]string{"VERIFYFN_CODE_KEY": "0123456789abcdef0123", "VERIFYFN_ACCOUNTS_YAML": "accounts:\n  - id: [\n"},
			"VERIFYFN_ACCOUNTS_YAML"},
		"bad variable": {map[string]string{"VERIFYFN_RATE_LIMIT": "-1"}, "VERIFYFN_RATE_LIMIT"},
		"documented example credential": {map[string]string{"VERIFYFN_CODE_KEY": "0123456789abcdef0123", "VERIFYFN_ACCOUNTS_YAML": accounts.DevYAML},
			"refusing to serve credential " + accounts.DevSecretID},
	} {
		t.Run(name, func(t *testing.T) {
			tc.vars["TENCENTCLOUD_RUNENV"] = "SCF"
			tc.vars["VERIFYFN_ADDR"] = "127.0.0.1:0"
			var stderr syncBuffer
			addr, code := serve(t, tc.vars, &stderr)
			if addr == "" {
				t.Fatalf("exited with %d: %s", code, stderr.String())
			}
			before := strings.Count(stderr.String(), "\n")
			resp, err := http.Post("http://"+addr+"/", "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var env struct {
				Response struct {
					Error     struct{ Code, Message string }
					RequestID string `json:"RequestId"`
				}
			}
			if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" ||
				env.Response.Error.Code != "InternalError" || env.Response.RequestID == "" {
				t.Fatalf("status %d, %+v", resp.StatusCode, env)
			}
			if strings.Contains(env.Response.Error.Message, tc.cause) {
				t.Fatalf("the cause reached the caller: %q", env.Response.Error.Message)
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")[before:]
			if len(lines) != 1 || !strings.Contains(lines[0], `"msg":"configuration error"`) || !strings.Contains(lines[0], tc.cause) ||
				!strings.Contains(lines[0], env.Response.RequestID) {
				t.Fatalf("log after the request: %q, want one line with the cause %q", lines, tc.cause)
			}
		})
	}
}

func TestLocalDevelopmentAccount(t *testing.T) {
	var stderr syncBuffer
	addr, _ := serve(t, map[string]string{"VERIFYFN_ADDR": "127.0.0.1:0", "VERIFYFN_OUTBOX": t.TempDir() + "/outbox.jsonl"}, &stderr)
	if addr == "" {
		t.Fatalf("not serving: %s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "SecretKey: local-secret-key") {
		t.Fatalf("no development account banner: %s", stderr.String())
	}
}

// Over plain HTTP a function serves metrics only when VERIFYFN_METRICS_ADDR
// is set; they count its requests.
func TestHTTPFunctionMetrics(t *testing.T) {
	var stderr syncBuffer
	vars := map[string]string{"VERIFYFN_ADDR": "127.0.0.1:0", "VERIFYFN_OUTBOX": t.TempDir() + "/outbox.jsonl"}
	if addr, _ := serve(t, vars, &stderr); addr == "" || strings.Contains(stderr.String(), "metrics listening") {
		t.Fatalf("metrics without VERIFYFN_METRICS_ADDR: %s", stderr.String())
	}
	stderr = syncBuffer{}
	vars["VERIFYFN_METRICS_ADDR"] = "127.0.0.1:0"
	addr, _ := serve(t, vars, &stderr)
	var line struct{ Msg, Addr string }
	for l := range strings.SplitSeq(stderr.String(), "\n") {
		if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "metrics listening" {
			break
		}
	}
	if line.Msg != "metrics listening" {
		t.Fatalf("no metrics listener: %s", stderr.String())
	}
	resp, err := http.Post("http://"+addr+"/", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for path, want := range map[string]string{
		"/metrics": `verifyfn_requests_total{action="unknown",code="AuthFailure.InvalidAuthorization",service="unknown"} 1`,
		"/healthz": `"ok"`,
		"/readyz":  `"store":"ok"`,
	} {
		resp, err := http.Get("http://" + line.Addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, want %s in\n%s", path, resp.StatusCode, want, body)
		}
	}
}
