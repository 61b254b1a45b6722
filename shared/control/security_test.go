package control_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/control"
)

// every is a call of each endpoint and method.
var every = []struct{ method, path string }{
	{http.MethodGet, "/_verifyfn/"}, {http.MethodGet, "/_verifyfn"},
	{http.MethodGet, "/_verifyfn/messages"}, {http.MethodDelete, "/_verifyfn/messages"},
	{http.MethodGet, "/_verifyfn/messages/latest?to=%2B85251234567"}, {http.MethodGet, "/_verifyfn/messages/stream"},
	{http.MethodPost, "/_verifyfn/reset"},
	{http.MethodGet, "/_verifyfn/clock"}, {http.MethodPost, "/_verifyfn/clock"}, {http.MethodDelete, "/_verifyfn/clock"},
	{http.MethodGet, "/_verifyfn/faults"}, {http.MethodPost, "/_verifyfn/faults"}, {http.MethodDelete, "/_verifyfn/faults"},
	{http.MethodGet, "/_verifyfn/actions"}, {http.MethodGet, "/_verifyfn/nothing"},
}

// inboxPaths are the dev inbox's files (GET, from a browser).
var inboxPaths = []string{"/_verifyfn/", "/_verifyfn", "/_verifyfn/inbox.js", "/_verifyfn/inbox.css"}

// production is an account of its own (the documented one is refused in
// production) and a provider configuration (the outbox is refused).
func production(t *testing.T, token string) *kit {
	t.Helper()
	reg, err := accounts.Parse("prod", []byte(`accounts:
  - id: "300000000001"
    credentials: [{id: AKIDprod000000000000000000000001, secret: prod-secret-value-0001, actions: ["*"]}]
    products: [intlpartnersmgt, smh, domain, cams]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := apitest.Start(t, apitest.WithAccounts(reg), apitest.WithConfig(func(c *config.Config) {
		c.Env, c.Control.Token = config.EnvProduction, token
		c.Delivery.AllowOutbox = true
	}))
	k := &kit{Server: s, tc: s.Tencent(tcclient.Options{SecretID: "AKIDprod000000000000000000000001", SecretKey: "prod-secret-value-0001", Language: "en-US"})}
	return k
}

// In production without a token the control plane is off: every endpoint
// answers 404 with nothing more, faults cannot be set, and the APIs answer
// as always.
func TestOffInProductionWithoutToken(t *testing.T) {
	k := production(t, "")
	if k.App.Control != nil {
		t.Fatal("the control plane is on in production without a token")
	}
	for _, e := range every {
		for _, auth := range []string{"", "Bearer anything-at-all-0001"} {
			req, _ := http.NewRequestWithContext(t.Context(), e.method, k.URL+e.path, strings.NewReader(`{"advance":"11m","service":"intlpartnersmgt","action":"SendVerifyCode","code":"InternalError"}`))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s (auth %q): HTTP %d, want 404", e.method, e.path, auth, resp.StatusCode)
			}
		}
	}
	for _, path := range inboxPaths {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, k.URL+path, nil)
		req.Header.Set("Accept", "text/html,*/*")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("the inbox's %s: HTTP %d, want 404", path, resp.StatusCode)
		}
	}
	if got := k.sendVerifyCode(t, "51234567"); got != "" {
		t.Fatalf("SendVerifyCode after the control calls: %q (a fault was set?)", got)
	}
	if got := k.sendVerifyCode(t, "51234567"); got != "FailedOperation.SendVerifyCodeLimit60" {
		t.Fatalf("second send: %q (the clock moved?)", got)
	}
}

// In staging or production a token turns the plane on, and every call must
// present it: none, another or a prefix of it answer 401.
func TestTokenRequired(t *testing.T) {
	const token = "control-token-0123456789"
	for _, env := range []string{config.EnvProduction, config.EnvDevelopment} {
		t.Run(env, func(t *testing.T) {
			var k *kit
			if env == config.EnvProduction {
				k = production(t, token)
			} else {
				k = start(t, apitest.WithConfig(func(c *config.Config) { c.Control.Token = token }))
			}
			for _, e := range every {
				for _, bad := range []string{"", "wrong-token-0123456789", token[:10], "Basic " + token, strings.ToUpper(token)} {
					k.token = bad
					if strings.HasPrefix(bad, "Basic ") {
						k.token = ""
					}
					status, _ := k.do(t, e.method, e.path, nil)
					if status != http.StatusUnauthorized {
						t.Errorf("%s %s with token %q: HTTP %d, want 401", e.method, e.path, bad, status)
					}
				}
			}
			k.token = token
			var c control.Clock
			k.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/clock", nil, &c)
			k.fault(t, map[string]any{"service": "intlpartnersmgt", "action": "SendVerifyCode", "code": "FailedOperation.SendVerifyCodeLimit"})
			if got := k.sendVerifyCode(t, "51234567"); got != "FailedOperation.SendVerifyCodeLimit" {
				t.Fatalf("the fault set with the token: %q", got)
			}
		})
	}
}

// VERIFYFN_CONTROL=false turns it off in development too; staging without a
// token has none.
func TestOffWhenDisabled(t *testing.T) {
	k := start(t, apitest.WithConfig(func(c *config.Config) { c.Control.Disabled = true }))
	if k.App.Control != nil {
		t.Fatal("on with VERIFYFN_CONTROL=false")
	}
	k.refused(t, http.StatusNotFound, http.MethodGet, "/_verifyfn/messages", nil)
	for env, want := range map[string]bool{config.EnvDevelopment: true, config.EnvTest: true, config.EnvStaging: false, config.EnvProduction: false} {
		if got := control.On(env, "", false); got != want {
			t.Errorf("On(%s, no token) = %v", env, got)
		}
		if !control.On(env, "a-token-of-16-bytes", false) || control.On(env, "a-token-of-16-bytes", true) {
			t.Errorf("On(%s) with a token or disabled", env)
		}
	}
}

// A web page of another site cannot drive the plane: an Origin other than
// the server's own is refused, and on a loopback listener so is a Host that
// is not a loopback name (a rebound DNS name).
func TestBrowserCallsRefused(t *testing.T) {
	k := start(t)
	call := func(origin, host string) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, k.URL+"/_verifyfn/reset", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		origin, host string
		want         int
	}{
		{"", "", http.StatusNoContent},
		{"http://" + k.Host, "", http.StatusNoContent},
		{"https://evil.example", "", http.StatusForbidden},
		{"null", "", http.StatusForbidden},
		{"", "evil.example:80", http.StatusForbidden},
		{"http://evil.example:80", "evil.example:80", http.StatusForbidden},
		{"", "localhost:1", http.StatusNoContent},
		{"", "[::1]:1", http.StatusNoContent},
	} {
		if got := call(tc.origin, tc.host); got != tc.want {
			t.Errorf("Origin %q Host %q: HTTP %d, want %d", tc.origin, tc.host, got, tc.want)
		}
	}
	// Beyond loopback any host name is served (a CI container's).
	k = start(t, apitest.WithConfig(func(c *config.Config) { c.Addr = "0.0.0.0:9000" }), nonDocumented(t))
	if got := call("", "verifyfn:9000"); got != http.StatusNoContent {
		t.Errorf("beyond loopback, Host verifyfn:9000: HTTP %d", got)
	}
	if !strings.Contains(k.Logs(), "VERIFYFN_CONTROL_TOKEN") {
		t.Error("no warning for a control plane beyond loopback without a token")
	}
}

func nonDocumented(t *testing.T) apitest.Option {
	t.Helper()
	reg, err := accounts.Parse("own", []byte(`accounts:
  - id: "300000000001"
    credentials: [{id: AKIDown0000000000000000000000001, secret: own-secret-value-0001, actions: ["*"]}]
    products: [domain]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	return apitest.WithAccounts(reg)
}

// Wrong methods answer 405 with Allow; unknown paths 404; the index lists
// the endpoints.
func TestRoutes(t *testing.T) {
	k := start(t)
	status, _ := k.do(t, http.MethodPut, "/_verifyfn/clock", nil)
	if status != http.StatusMethodNotAllowed {
		t.Fatalf("PUT clock: %d", status)
	}
	k.refused(t, http.StatusNotFound, http.MethodGet, "/_verifyfn/nothing", nil)
	var idx struct {
		Endpoints []struct {
			Path    string
			Methods []string
		}
	}
	k.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/", nil, &idx)
	if len(idx.Endpoints) != 8 {
		t.Fatalf("index: %+v", idx)
	}
	k.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/messages/", nil, nil) // a trailing slash
}

// The dev inbox's files hold no data and no token, so a browser gets them
// without one (the page asks for it); they carry a strict CSP and nosniff;
// the JSON index still needs the token, and another origin or a
// non-loopback name is refused as everywhere.
func TestInboxPage(t *testing.T) {
	const token = "control-token-0123456789"
	k := production(t, token)
	get := func(path, accept, host string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, k.URL+path, nil)
		req.Header.Set("Accept", accept)
		if host != "" {
			req.Host = host
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for path, typ := range map[string]string{"/_verifyfn/": "text/html", "/_verifyfn/inbox.js": "text/javascript", "/_verifyfn/inbox.css": "text/css"} {
		resp, body := get(path, "text/html,application/xhtml+xml,*/*;q=0.8", "")
		h := resp.Header
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), typ) ||
			!strings.HasPrefix(h.Get("Content-Security-Policy"), "default-src 'self'") || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: HTTP %d %v", path, resp.StatusCode, h)
		}
		if strings.Contains(body, token) || strings.Contains(body, "<script>") || strings.Contains(body, "innerHTML") {
			t.Errorf("%s holds the token, an inline script or innerHTML", path)
		}
		if len(body) > 20<<10 {
			t.Errorf("%s is %d bytes", path, len(body))
		}
	}
	if resp, _ := get("/_verifyfn", "text/html", ""); resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != "/_verifyfn/" {
		t.Errorf("/_verifyfn: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get("/_verifyfn/", "application/json", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the JSON index without the token: HTTP %d", resp.StatusCode)
	}
	if resp, _ := get("/_verifyfn/", "text/html", "rebind.example.com"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the page by a non-loopback name: HTTP %d", resp.StatusCode)
	}
}
