package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/app/all"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/router"
	"github.com/verifyfn/verifyfn/shared/delivery/webhook"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
	"github.com/verifyfn/verifyfn/shared/services/smh"
)

// sdkCode returns the Code of a TencentCloudSDKError, "" for nil.
func sdkCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *tcerr.TencentCloudSDKError
	if !errors.As(err, &e) {
		t.Fatalf("not an SDK API error: %v", err)
	}
	return e.Code
}

// provider records deliveries, or fails with an error that quotes the text
// (and so the code) and the destination, as a careless client library might.
type provider struct {
	mu   sync.Mutex
	fail bool
	got  []delivery.Message
	seen []delivery.Message // every message it was handed
}

func (p *provider) Send(_ context.Context, m delivery.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, m)
	if p.fail {
		return errors.New("carrier said: message " + m.Text + " to " + m.To + " refused")
	}
	p.got = append(p.got, m)
	return nil
}

func (p *provider) delivered() []delivery.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]delivery.Message(nil), p.got...)
}

func (p *provider) handed() []delivery.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]delivery.Message(nil), p.seen...)
}

func newRouter(t *testing.T, ps ...*provider) *router.Router {
	t.Helper()
	var list []router.Provider
	for i, p := range ps {
		list = append(list, router.Provider{Name: "p" + string(rune('1'+i)), Sender: p})
	}
	r, err := router.New([]router.Route{
		{Channel: delivery.SMS, Providers: list},
		{Channel: delivery.Email, Providers: list},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func withSender(s delivery.Sender) apitest.Option {
	return func(_ *config.Config, o *app.Options) { o.Sender = s }
}

func accountParams(code string) map[string]any {
	return map[string]any{
		"AccountType": "personal", "Mail": "dev@example.com", "Password": "Passw0rd!", "ConfirmPassword": "Passw0rd!",
		"PhoneNum": "51234567", "CountryCode": "852", "Area": "HK", "VerifyCode": code,
		"TradeOne": "kghy_01", "TradeTwo": "kghy_0101", "CustomerName": "Acme Ltd", "Extended": "{}",
	}
}

const (
	ipm    = intlpartnersmgt.Name
	ipmVer = intlpartnersmgt.Version
)

func TestFailoverDeliversOnce(t *testing.T) {
	down, up := &provider{fail: true}, &provider{}
	s := apitest.Start(t, withSender(newRouter(t, down, up)))
	c := s.Tencent(tcclient.Options{})
	if _, err := c.Call(ipm, ipmVer, "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}); err != nil {
		t.Fatalf("SendVerifyCode: %v", err)
	}
	if len(down.handed()) != 1 || len(down.delivered()) != 0 {
		t.Fatalf("the failing provider was handed %d messages", len(down.handed()))
	}
	got := up.delivered()
	if len(got) != 1 {
		t.Fatalf("%d messages delivered, want exactly 1", len(got))
	}
	if _, err := c.Call(ipm, ipmVer, "CreateAccount", accountParams(got[0].Code)); err != nil {
		t.Fatalf("CreateAccount with the delivered code: %v", err)
	}
}

func TestAllProvidersFailThroughTheAPI(t *testing.T) {
	p1, p2 := &provider{fail: true}, &provider{fail: true}
	s := apitest.Start(t, withSender(newRouter(t, p1, p2)))
	c := s.Tencent(tcclient.Options{})

	// intlpartnersmgt SendVerifyCode: InternalError, and the code is dead.
	_, err := c.Call(ipm, ipmVer, "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234567"})
	if got := sdkCode(t, err); got != "InternalError" {
		t.Fatalf("SendVerifyCode: %q, want InternalError", got)
	}
	handed := p2.handed()
	if len(handed) != 1 || len(p1.handed()) != 1 {
		t.Fatalf("providers were handed %d and %d messages", len(p1.handed()), len(handed))
	}
	failed := handed[0].Code
	if _, err := c.Call(ipm, ipmVer, "CreateAccount", accountParams(failed)); err == nil {
		t.Fatal("CreateAccount accepted the code whose delivery failed")
	}
	// The cooldown was released: a retry is not refused as too frequent.
	_, err = c.Call(ipm, ipmVer, "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234567"})
	if got := sdkCode(t, err); got != "InternalError" {
		t.Fatalf("retry: %q", got)
	}

	// smh SendSmsCode: InternalError.SendSms, and VerifySmsCode refuses the code.
	sms := map[string]any{"Purpose": smh.BindSuperAdmin, "PhoneNumber": "18999999998", "InstanceId": accounts.DevInstanceID}
	_, err = c.Call(smh.Name, smh.Version, "SendSmsCode", sms)
	if got := sdkCode(t, err); got != "InternalError.SendSms" {
		t.Fatalf("SendSmsCode: %q", got)
	}
	h := p2.handed()
	sms["Code"] = h[len(h)-1].Code
	_, err = c.Call(smh.Name, smh.Version, "VerifySmsCode", sms)
	if got := sdkCode(t, err); got == "" {
		t.Fatal("VerifySmsCode accepted the code whose delivery failed")
	}

	// domain SendIntlPhoneEmailCode: InternalError.SendVerifyCodeErr.
	_, err = c.Call("domain", "2018-08-08", "SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": "a@example.com"})
	if got := sdkCode(t, err); got != "InternalError.SendVerifyCodeErr" {
		t.Fatalf("SendIntlPhoneEmailCode: %q", got)
	}

	// The failures are logged, without codes or the provider's secret.
	logs := s.Logs()
	if !strings.Contains(logs, "delivery failed") && !strings.Contains(logs, "every provider failed") {
		t.Fatalf("the delivery failure is not logged: %s", logs)
	}
	for _, m := range p2.handed() {
		if showsNumber(logs, m.Code) {
			t.Fatalf("a code (%s) appears in the logs:\n%s", m.Code, logs)
		}
	}
	if strings.Contains(logs, "51234567") || strings.Contains(logs, "18999999998") || strings.Contains(logs, "a@example.com") {
		t.Fatalf("a full destination appears in the logs:\n%s", logs)
	}
}

func TestTestNumbersThroughTheAPI(t *testing.T) {
	rec := &provider{}
	s := apitest.Start(t, withSender(rec), apitest.WithConfig(func(c *config.Config) {
		c.Delivery.TestNumbers = map[string]string{"+85251234567": "135790"}
	}))
	c := s.Tencent(tcclient.Options{})
	send := func() error {
		_, err := c.Call(ipm, ipmVer, "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "5123 4567"})
		return err
	}
	if err := send(); err != nil {
		t.Fatalf("SendVerifyCode to a test number: %v", err)
	}
	if len(rec.handed()) != 0 {
		t.Fatal("a message was delivered to a test number")
	}
	// The cooldown still applies.
	if got := sdkCode(t, send()); got != "FailedOperation.SendVerifyCodeLimit60" {
		t.Fatalf("resend within 60 s: %q", got)
	}
	// A wrong code is refused, the fixed code passes.
	if _, err := c.Call(ipm, ipmVer, "CreateAccount", accountParams("111111")); err == nil {
		t.Fatal("a wrong code passed")
	}
	if _, err := c.Call(ipm, ipmVer, "CreateAccount", accountParams("135790")); err != nil {
		t.Fatalf("CreateAccount with the fixed code: %v", err)
	}
	// Other numbers are delivered as usual.
	if _, err := c.Call(ipm, ipmVer, "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234568"}); err != nil {
		t.Fatal(err)
	}
	if got := rec.delivered(); len(got) != 1 || got[0].To != "+85251234568" || got[0].Code == "135790" {
		t.Fatalf("delivered %+v", got)
	}
}

func TestProductionRefusesOutboxAndTestNumbers(t *testing.T) {
	_, err := config.FromEnv(func(k string) string {
		return map[string]string{"VERIFYFN_ENV": "production"}[k]
	})
	if err == nil || !strings.Contains(err.Error(), "VERIFYFN_ALLOW_OUTBOX") {
		t.Fatalf("config: %v", err)
	}
	// A configuration built by hand is checked again by app.New.
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Outbox = t.TempDir() + "/outbox.jsonl"
	cfg.Env = config.EnvProduction
	// An account of its own: the documented example credential is refused
	// in production before delivery is looked at.
	cfg.AccountsYAML = strings.NewReplacer(accounts.DevSecretID, "AKIDPROD0000000000000000000000001", accounts.DevSecretKey, "a-production-secret").Replace(accounts.DevYAML)
	if _, err := all.New(cfg, app.Options{}); err == nil || !strings.Contains(err.Error(), "outbox is refused") {
		t.Fatalf("app.New: %v", err)
	}
	cfg.Delivery.AllowOutbox = true
	cfg.Delivery.TestNumbers = map[string]string{"+85251234567": "123456"}
	if _, err := all.New(cfg, app.Options{}); err == nil || !strings.Contains(err.Error(), "VERIFYFN_ALLOW_TEST_NUMBERS") {
		t.Fatalf("app.New with test numbers: %v", err)
	}
}

// hookReceiver verifies Standard Webhooks signatures and keeps the payloads.
type hookReceiver struct {
	key  []byte
	mu   sync.Mutex
	got  []webhook.Payload
	bad  int
	fail bool
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !webhook.Verify(h.key, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body) {
		h.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.got = append(h.got, p)
}

func (h *hookReceiver) payloads() []webhook.Payload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]webhook.Payload(nil), h.got...)
}

// TestWebhookProviderFromConfig is `go run ./cmd/verifyfn` with
// VERIFYFN_DELIVERY_YAML naming a webhook: the configuration is read the way
// main reads it, and the code reaches a local receiver.
func TestWebhookProviderFromConfig(t *testing.T) {
	key := []byte("app-test-webhook-key-00000000000")
	const secretVar = "VERIFYFN_APPTEST_WEBHOOK_SECRET"
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	t.Setenv(secretVar, secret)
	hook := &hookReceiver{key: key}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	env := map[string]string{
		"VERIFYFN_DELIVERY_YAML": "providers:\n  hook:\n    type: webhook\n    url: " + srv.URL + "/verifyfn\n    secret: env:" + secretVar +
			"\nroutes:\n  sms:\n    \"*\": [hook]\n  email:\n    \"*\": [hook]\n",
	}
	fromEnv, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) {
		c.Env, c.Delivery = fromEnv.Env, fromEnv.Delivery
	}))
	c := s.Tencent(tcclient.Options{Language: "zh-CN"})
	if _, err := c.Call(ipm, ipmVer, "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}); err != nil {
		t.Fatalf("SendVerifyCode: %v", err)
	}
	got := hook.payloads()
	if len(got) != 1 || hook.bad != 0 {
		t.Fatalf("%d payloads, %d bad signatures", len(got), hook.bad)
	}
	d := got[0].Data
	if d.Channel != "sms" || d.To != "+85251234567" || d.Action != "SendVerifyCode" || d.Account != accounts.DevAccountID ||
		len(d.Code) != 6 || !strings.Contains(d.Text, "您的验证码是"+d.Code) {
		t.Fatalf("payload %+v", d)
	}
	if _, err := c.Call(ipm, ipmVer, "CreateAccount", accountParams(d.Code)); err != nil {
		t.Fatalf("CreateAccount with the webhook's code: %v", err)
	}
	if showsNumber(s.Logs(), d.Code) || strings.Contains(s.Logs(), secret) {
		t.Fatalf("the logs show the code or the secret:\n%s", s.Logs())
	}
}

// TestProvidersDoNotLeakIntoLogs runs a real provider (Tencent SMS against a
// fake that refuses, quoting the request) with a webhook fallback, and greps
// the whole log for the code and every secret.
func TestProvidersDoNotLeakIntoLogs(t *testing.T) {
	const tcSecret = "apptest-tencent-secret-key-0001"
	key := []byte("app-test-webhook-key-11111111111")
	whSecret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	t.Setenv("VERIFYFN_APPTEST_TC_KEY", tcSecret)
	t.Setenv("VERIFYFN_APPTEST_WH_SECRET", whSecret)

	// The fake echoes the whole request body (which holds the code) in its
	// error message, the worst an upstream can do.
	tencent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msg, _ := json.Marshal("rejected " + string(body) + " " + r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"Response":{"Error":{"Code":"FailedOperation.TemplateIncorrectOrUnapproved","Message":`+string(msg)+`},"RequestId":"r1"}}`)
	}))
	defer tencent.Close()
	hook := &hookReceiver{key: key}
	hsrv := httptest.NewServer(hook)
	defer hsrv.Close()

	yaml := `
providers:
  tencent:
    type: tencent_sms
    secret_id: AKIDapptest00000000000000000000001
    secret_key: env:VERIFYFN_APPTEST_TC_KEY
    endpoint: ` + tencent.URL + `
    sdk_app_id: "1400000001"
    template_id: "1"
  hook:
    type: webhook
    url: ` + hsrv.URL + `
    secret: env:VERIFYFN_APPTEST_WH_SECRET
routes:
  sms:
    "852": [tencent, hook]
`
	s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) { c.Delivery.YAML = yaml }))
	c := s.Tencent(tcclient.Options{})
	if _, err := c.Call(ipm, ipmVer, "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}); err != nil {
		t.Fatalf("SendVerifyCode: %v", err)
	}
	got := hook.payloads()
	if len(got) != 1 {
		t.Fatalf("the fallback received %d messages", len(got))
	}
	logs := s.Logs()
	if !strings.Contains(logs, "TemplateIncorrectOrUnapproved") || !strings.Contains(logs, `"provider":"tencent"`) {
		t.Fatalf("the Tencent failure is not logged:\n%s", logs)
	}
	for _, leak := range []string{got[0].Data.Code, tcSecret, whSecret, "51234567"} {
		if strings.Contains(logs, leak) {
			t.Fatalf("the logs contain %q:\n%s", leak, logs)
		}
	}
	// And once every provider fails, the API error's cause (logged) is clean too.
	hook.mu.Lock()
	hook.key = []byte("another-key-so-signatures-fail!!")
	hook.mu.Unlock()
	s.Clock.Advance(2 * time.Minute)
	_, err := c.Call(ipm, ipmVer, "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234567"})
	if got := sdkCode(t, err); got != "InternalError" {
		t.Fatalf("all providers down: %q", got)
	}
	logs = s.Logs()
	for _, leak := range []string{tcSecret, whSecret, "51234567"} {
		if strings.Contains(logs, leak) {
			t.Fatalf("the logs contain %q:\n%s", leak, logs)
		}
	}
	if !strings.Contains(logs, "HTTP 401") {
		t.Fatalf("the webhook failure is not logged:\n%s", logs)
	}
}

// showsNumber reports whether logs hold the digits of code as a number of
// their own, not inside a longer one (a timestamp's nanoseconds).
func showsNumber(logs, code string) bool {
	for i := 0; ; {
		j := strings.Index(logs[i:], code)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(code)
		if (start == 0 || !isDigit(logs[start-1])) && (end == len(logs) || !isDigit(logs[end])) {
			return true
		}
		i = start + 1
	}
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func TestShowsNumber(t *testing.T) {
	for _, tc := range []struct {
		logs string
		want bool
	}{
		{`"time":"2026-12-03T14:15:38.535613942Z"`, false},
		{`code 535613 sent`, true},
		{`535613`, true},
		{`[redacted]`, false},
		{`x1535613 535613`, true},
	} {
		if got := showsNumber(tc.logs, "535613"); got != tc.want {
			t.Errorf("showsNumber(%q) = %v, want %v", tc.logs, got, tc.want)
		}
	}
}
