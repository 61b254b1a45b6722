package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alibabacloud-go/tea/tea"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/verifyfn/verifyfn/internal/acsclient"
	"github.com/verifyfn/verifyfn/internal/redistest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery/webhook"
	"github.com/verifyfn/verifyfn/shared/metrics"
)

// lockedLog is a server's stderr, read while it writes.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// running is app.RunServer serving in the background.
type running struct {
	api, metrics string // host:port of the API and of the metrics listener
	log          *lockedLog
}

// runServer runs app.RunServer with env (both listeners on loopback port 0
// unless env says otherwise) until the test ends, and returns the addresses
// of its "listening" log line.
func runServer(t *testing.T, env map[string]string) *running {
	t.Helper()
	all := map[string]string{"VERIFYFN_ADDR": "127.0.0.1:0", "VERIFYFN_METRICS_ADDR": "127.0.0.1:0", "VERIFYFN_STORE": "memory",
		"VERIFYFN_OUTBOX": t.TempDir() + "/outbox.jsonl"}
	for k, v := range env {
		all[k] = v
	}
	cfg, err := config.FromEnv(func(k string) string { return all[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{log: &lockedLog{}}
	done := make(chan int, 1)
	go func() { done <- app.RunServer(ctx, cfg, nil, r.log) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("RunServer exited %d:\n%s", code, r.log)
		}
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for line := range strings.SplitSeq(r.log.String(), "\n") {
			var l struct{ Msg, Addr, Metrics string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "listening" {
				r.api, r.metrics = l.Addr, l.Metrics
				return r
			}
		}
		select {
		case code := <-done:
			t.Fatalf("RunServer exited %d:\n%s", code, r.log)
		default:
		}
	}
	t.Fatalf("RunServer did not listen:\n%s", r.log)
	return nil
}

// get fetches path from the metrics listener.
func (r *running) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + r.metrics + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scrape is one scrape of /metrics: its text and its parsed families.
type scrape struct {
	text     string
	families map[string]*dto.MetricFamily
}

func (r *running) scrape(t *testing.T) scrape {
	t.Helper()
	code, text := r.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: HTTP %d", code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, text)
	}
	return scrape{text: text, families: fams}
}

// series returns the series of family name whose labels are exactly want.
func (s scrape) series(name string, want map[string]string) *dto.Metric {
	f := s.families[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
				continue next
			}
		}
		return m
	}
	return nil
}

// count is a counter's value, or a histogram's sample count; 0 when the
// series does not exist.
func (s scrape) count(name string, labels ...string) float64 {
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	m := s.series(name, want)
	switch {
	case m == nil:
		return 0
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return m.GetCounter().GetValue()
}

// total adds up every series of a counter (or the sample counts of a
// histogram).
func (s scrape) total(name string) float64 {
	var n float64
	for _, m := range s.families[name].GetMetric() {
		if m.Histogram != nil {
			n += float64(m.GetHistogram().GetSampleCount())
		} else {
			n += m.GetCounter().GetValue()
		}
	}
	return n
}

// codeHook is a webhook receiver that keeps the codes it is sent.
type codeHook struct {
	key []byte
	mu  sync.Mutex
	got []webhook.Data
}

func (h *codeHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !webhook.Verify(h.key, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p webhook.Payload
	if json.Unmarshal(body, &p) != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.got = append(h.got, p.Data)
	h.mu.Unlock()
}

// last is the last code sent to to.
func (h *codeHook) last(t *testing.T, to string) string {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.got) - 1; i >= 0; i-- {
		if h.got[i].To == to {
			return h.got[i].Code
		}
	}
	t.Fatalf("no code was sent to %s", to)
	return ""
}

// tally counts the answers the official SDKs got, per service, action and
// code, and remembers every request id and code seen.
type tally struct {
	t        *testing.T
	requests map[[3]string]int
	ids      []string
}

func (y *tally) add(service, action string, err error) string {
	y.t.Helper()
	code, id := "OK", ""
	var tc *tcerr.TencentCloudSDKError
	var ali *tea.SDKError
	switch {
	case err == nil:
	case errors.As(err, &tc):
		code, id = tc.Code, tc.RequestId
	case errors.As(err, &ali):
		code = tea.StringValue(ali.Code)
		var data struct{ RequestId string }
		json.Unmarshal([]byte(tea.StringValue(ali.Data)), &data)
		id = data.RequestId
	default:
		y.t.Fatalf("%s %s: not an API answer: %v", service, action, err)
	}
	y.requests[[3]string{service, action, code}]++
	if id != "" {
		y.ids = append(y.ids, id)
	}
	return code
}

// personal matches what could be a number, a code or an address in a label.
var personal = regexp.MustCompile(`[0-9]{4,}|[+@]`)

// wrongCode returns a code of the same length that differs from c.
func wrongCode(c string) string {
	n, _ := strconv.Atoi(c)
	return fmt.Sprintf("%0*d", len(c), (n+1)%1000000)
}

// TestMetricsCountWhatTheSDKsDid runs verifyfn as the local binary does
// (app.RunServer) with two webhook providers on the Hong Kong route, the
// first of which always fails, calls every API through the official SDKs,
// then scrapes /metrics and checks each counter against what the calls
// got: requests per service, action and code, delivery attempts per
// channel, provider, country and outcome, provider durations, checks per
// service and outcome, and one store operation per send and per check. No
// number, address, code, secret, request id or made-up action name appears
// in the scrape.
func TestMetricsCountWhatTheSDKsDid(t *testing.T) {
	key := []byte("metrics-test-webhook-key-0000000")
	const secretVar = "VERIFYFN_METRICSTEST_WEBHOOK_SECRET"
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	t.Setenv(secretVar, secret)
	hook := &codeHook{key: key}
	good := httptest.NewServer(hook)
	defer good.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer broken.Close()
	delivery := fmt.Sprintf(`providers:
  broken: {type: webhook, url: %q, secret: "env:%s", max_attempts: 1}
  hook: {type: webhook, url: %q, secret: "env:%s"}
routes:
  sms: {"852": [broken, hook], "*": [hook]}
  email: {"*": [hook]}
`, broken.URL, secretVar, good.URL, secretVar)
	srv := runServer(t, map[string]string{"VERIFYFN_DELIVERY_YAML": delivery})

	y := &tally{t: t, requests: map[[3]string]int{}}
	tc := tcclient.New(tcclient.Options{Endpoint: srv.api, SecretID: accounts.DevSecretID, SecretKey: accounts.DevSecretKey})
	ali, err := acsclient.New(acsclient.Options{Endpoint: srv.api, AccessKeyID: accounts.DevSecretID, AccessKeySecret: accounts.DevSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	call := func(service, version, action string, params map[string]any) string {
		t.Helper()
		_, err := tc.Call(service, version, action, params)
		return y.add(service, action, err)
	}
	want := func(got, code string) {
		t.Helper()
		if got != code {
			t.Fatalf("answer %s, want %s", got, code)
		}
	}
	const ipmVer, smhVer, domVer, camsVer = "2022-09-28", "2021-07-12", "2018-08-08", "2020-06-06"

	// intlpartnersmgt: a send (the first provider fails, the second
	// delivers), a resend within the cooldown, a wrong code, the right one,
	// and a send to the United Kingdom over the "*" route.
	hk := map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}
	want(call("intlpartnersmgt", ipmVer, "SendVerifyCode", hk), "OK")
	want(call("intlpartnersmgt", ipmVer, "SendVerifyCode", hk), "FailedOperation.SendVerifyCodeLimit60")
	code := hook.last(t, "+85251234567")
	want(call("intlpartnersmgt", ipmVer, "CreateAccount", accountParams(wrongCode(code))), "FailedOperation.VerificationCodeIllegal")
	want(call("intlpartnersmgt", ipmVer, "CreateAccount", accountParams(code)), "OK")
	want(call("intlpartnersmgt", ipmVer, "SendVerifyCode", map[string]any{"CountryCode": "44", "PhoneNum": "7400123456"}), "OK")
	codes := []string{code, hook.last(t, "+447400123456")}

	// domain: an email code, then five wrong guesses: four wrong, the fifth
	// burns the code.
	want(call("domain", domVer, "SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": "bob@example.com"}), "OK")
	mail := hook.last(t, "bob@example.com")
	codes = append(codes, mail)
	for i := range 5 {
		got := call("domain", domVer, "CreateIntlPhoneEmail", map[string]any{"Type": 2, "Code": "bob@example.com", "VerifyCode": wrongCode(mail)})
		if i < 4 {
			want(got, "InternalError.VerifyCodeErr")
		} else {
			want(got, "InternalError.CheckVerifyCodeErr")
		}
	}

	// smh: a check with no code sent.
	want(call("smh", smhVer, "VerifySmsCode", map[string]any{"Purpose": "ChannelUpdateVerify", "InstanceId": accounts.DevInstanceID,
		"PhoneNumber": "18999999999", "Code": "123456"}), "UnauthorizedOperation.SmsCode")

	// cams, through darabonba: a Hong Kong send (failover again) and the
	// registration with its code.
	_, err = ali.Call("GetChatappVerifyCode", camsVer, map[string]any{"CustSpaceId": accounts.DevCAMSSpace, "PhoneNumber": "85261234567", "Method": "sms", "Locale": "en"})
	want(y.add("cams", "GetChatappVerifyCode", err), "OK")
	camsCode := hook.last(t, "+85261234567")
	codes = append(codes, camsCode)
	_, err = ali.Call("ChatappVerifyAndRegister", camsVer, map[string]any{"CustSpaceId": accounts.DevCAMSSpace, "PhoneNumber": "85261234567", "VerifyCode": camsCode})
	want(y.add("cams", "ChatappVerifyAndRegister", err), "OK")

	// Names the front doors do not define are counted as "unknown": the
	// Tencent scope still names the service, the Alibaba request nothing
	// verifyfn knows.
	_, err = tc.Call("intlpartnersmgt", ipmVer, "MadeUpActionXyzzy", nil)
	want(y.add("intlpartnersmgt", "unknown", err), "InvalidAction")
	_, err = ali.Call("MadeUpActionPlugh", camsVer, nil)
	want(y.add("unknown", "unknown", err), "InvalidAction.NotFound")
	// An unsigned request names its action, which is not trusted.
	req, _ := http.NewRequest("POST", "http://"+srv.api+"/", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-TC-Action", "MadeUpActionQuux")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Response struct{ Error struct{ Code string } }
	}
	json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	want(env.Response.Error.Code, "AuthFailure.InvalidAuthorization")
	y.requests[[3]string{"unknown", "unknown", env.Response.Error.Code}]++

	s := srv.scrape(t)

	// Requests: one per call, with the code the SDK got, and a duration
	// sample each.
	var calls float64
	perAction := map[[2]string]float64{}
	for k, n := range y.requests {
		if n == 0 {
			continue
		}
		if got := s.count(metrics.Requests, "service", k[0], "action", k[1], "code", k[2]); got != float64(n) {
			t.Errorf("%s{service=%q,action=%q,code=%q} = %v, want %d", metrics.Requests, k[0], k[1], k[2], got, n)
		}
		calls += float64(n)
		perAction[[2]string{k[0], k[1]}] += float64(n)
	}
	if got := s.total(metrics.Requests); got != calls {
		t.Errorf("%s adds up to %v, want %v (one per call)", metrics.Requests, got, calls)
	}
	for k, n := range perAction {
		if got := s.count(metrics.RequestDuration, "service", k[0], "action", k[1]); got != n {
			t.Errorf("%s{service=%q,action=%q} has %v samples, want %v", metrics.RequestDuration, k[0], k[1], got, n)
		}
	}

	// Delivery attempts: the Hong Kong sends failed at "broken" and were
	// delivered by "hook"; the UK one and the email went straight to "hook".
	for _, c := range []struct {
		channel, provider, country, outcome string
		n                                   float64
	}{
		{"sms", "broken", "HK", "failed", 2},
		{"sms", "hook", "HK", "delivered", 2},
		{"sms", "hook", "GB", "delivered", 1},
		{"email", "hook", "none", "delivered", 1},
	} {
		if got := s.count(metrics.Messages, "channel", c.channel, "provider", c.provider, "country", c.country, "outcome", c.outcome); got != c.n {
			t.Errorf("%s{%s,%s,%s,%s} = %v, want %v", metrics.Messages, c.channel, c.provider, c.country, c.outcome, got, c.n)
		}
	}
	if got := s.total(metrics.Messages); got != 6 {
		t.Errorf("%s adds up to %v, want 6", metrics.Messages, got)
	}
	if got := s.count(metrics.ProviderDuration, "provider", "broken", "outcome", "failed"); got != 2 {
		t.Errorf("provider failures timed: %v, want 2", got)
	}
	if got := s.count(metrics.ProviderDuration, "provider", "hook", "outcome", "delivered"); got != 4 {
		t.Errorf("provider deliveries timed: %v, want 4", got)
	}

	// Checks per service and verdict.
	for _, c := range []struct {
		service, outcome string
		n                float64
	}{
		{"intlpartnersmgt", "wrong", 1}, {"intlpartnersmgt", "verified", 1},
		{"domain", "wrong", 4}, {"domain", "exhausted", 1},
		{"smh", "expired", 1}, {"cams", "verified", 1},
	} {
		if got := s.count(metrics.Checks, "service", c.service, "outcome", c.outcome); got != c.n {
			t.Errorf("%s{service=%q,outcome=%q} = %v, want %v", metrics.Checks, c.service, c.outcome, got, c.n)
		}
	}
	if got := s.total(metrics.Checks); got != 9 {
		t.Errorf("%s adds up to %v, want 9", metrics.Checks, got)
	}

	// The store: one Issue per send that passed validation (the cooldown
	// refusal included), one Check per check, and one more for the
	// CreateAccount that passed (it checks keeping the code while it hashes
	// the password, then consumes it: one verdict); no error.
	if got := s.count(metrics.StoreDuration, "op", "issue"); got != 5 {
		t.Errorf("store issue ops: %v, want 5", got)
	}
	if got := s.count(metrics.StoreDuration, "op", "check"); got != 10 {
		t.Errorf("store check ops: %v, want 10", got)
	}
	if got := s.total(metrics.StoreErrors); got != 0 {
		t.Errorf("store errors: %v", got)
	}

	// Nothing personal, secret or unbounded in any label.
	forbidden := append([]string{"51234567", "7400123456", "61234567", "18999999999", "bob@example.com", "example.com",
		secret, accounts.DevSecretID, accounts.DevSecretKey, accounts.DevAccountID, "MadeUpAction"}, y.ids...)
	for _, c := range codes {
		forbidden = append(forbidden, `"`+c+`"`)
	}
	for _, f := range forbidden {
		if strings.Contains(s.text, f) {
			t.Errorf("the scrape contains %q", f)
		}
	}
	for _, f := range s.families {
		if !strings.HasPrefix(f.GetName(), "verifyfn_") {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if personal.MatchString(l.GetValue()) {
					t.Errorf("%s: label %s=%q", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}

// TestHealthAndReadiness: /healthz answers while the process serves;
// /readyz answers 200 while the store answers and 503 naming the store
// while the test's own redis-server is stopped, and 200 again once it is
// back; the failed store operations are counted per op.
func TestHealthAndReadiness(t *testing.T) {
	redis := redistest.Start(t)
	srv := runServer(t, map[string]string{"VERIFYFN_STORE": redis.URL() + "/0"})
	readiness := func() (int, metrics.Readiness) {
		t.Helper()
		code, body := srv.get(t, "/readyz")
		var r metrics.Readiness
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("/readyz body %q: %v", body, err)
		}
		return code, r
	}
	if code, body := srv.get(t, "/healthz"); code != http.StatusOK || !strings.Contains(body, `"ok"`) {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	if code, r := readiness(); code != http.StatusOK || r.Status != "ready" || r.Checks["store"] != "ok" || r.Checks["delivery"] != "ok" {
		t.Fatalf("/readyz with Redis up: %d %+v", code, r)
	}
	tc := tcclient.New(tcclient.Options{Endpoint: srv.api, SecretID: accounts.DevSecretID, SecretKey: accounts.DevSecretKey})
	send := func(phone string) string {
		_, err := tc.Call("intlpartnersmgt", "2022-09-28", "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": phone})
		return sdkCode(t, err)
	}
	if got := send("51234567"); got != "" {
		t.Fatalf("SendVerifyCode with Redis up: %s", got)
	}

	redis.Kill()
	if got := send("51234568"); got != "InternalError" {
		t.Fatalf("SendVerifyCode with Redis down: %q, want InternalError", got)
	}
	code, r := readiness()
	if code != http.StatusServiceUnavailable || r.Status != "unready" || r.Checks["store"] != "failed" || r.Checks["delivery"] != "ok" {
		t.Fatalf("/readyz with Redis down: %d %+v", code, r)
	}
	if code, _ := srv.get(t, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz with Redis down: %d", code)
	}
	s := srv.scrape(t)
	if got := s.count(metrics.StoreErrors, "op", "issue"); got != 1 {
		t.Errorf("%s{op=issue} = %v, want 1 (the send with Redis down)", metrics.StoreErrors, got)
	}
	if got := s.count(metrics.StoreErrors, "op", "ping"); got != 1 {
		t.Errorf("%s{op=ping} = %v, want 1 (the readiness check with Redis down)", metrics.StoreErrors, got)
	}
	if got := s.count(metrics.Requests, "service", "intlpartnersmgt", "action", "SendVerifyCode", "code", "InternalError"); got != 1 {
		t.Errorf("the failed send is counted %v times", got)
	}
	if strings.Contains(srv.log.String(), "51234568") {
		t.Error("the log shows the number")
	}

	redis.Restart()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		code, r := readiness()
		if code == http.StatusOK && r.Checks["store"] == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after Redis came back: %d %+v", code, r)
		}
	}
	if code, _ := srv.get(t, "/metrics/../../x"); code != http.StatusNotFound {
		t.Errorf("an unknown path: %d", code)
	}
}

// TestMetricsAddr: an explicit VERIFYFN_METRICS_ADDR that cannot be bound
// stops the start (exit 1, naming the variable); unset, the default port in
// use is only warned about; "off" serves no metrics listener.
func TestMetricsAddr(t *testing.T) {
	// Hold the default port (or find it held by someone else): either way
	// verifyfn cannot have it, and serves without metrics.
	if ln, err := net.Listen("tcp", app.DefaultMetricsAddr); err == nil {
		defer ln.Close()
	}
	srv := runServer(t, map[string]string{"VERIFYFN_METRICS_ADDR": ""})
	if srv.metrics != "" || !strings.Contains(srv.log.String(), "no metrics listener") {
		t.Fatalf("default metrics port busy: metrics %q\n%s", srv.metrics, srv.log)
	}

	busy := httptest.NewServer(http.NotFoundHandler())
	defer busy.Close()
	host := strings.TrimPrefix(busy.URL, "http://")
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{"VERIFYFN_ADDR": "127.0.0.1:0", "VERIFYFN_METRICS_ADDR": host, "VERIFYFN_OUTBOX": t.TempDir() + "/o.jsonl"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedLog
	if code := app.RunServer(context.Background(), cfg, nil, &stderr); code != 1 || !strings.Contains(stderr.String(), "VERIFYFN_METRICS_ADDR="+host) {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	srv = runServer(t, map[string]string{"VERIFYFN_METRICS_ADDR": "off"})
	if srv.metrics != "" {
		t.Fatalf("metrics listening on %s with VERIFYFN_METRICS_ADDR=off", srv.metrics)
	}
	if _, err := config.FromEnv(func(k string) string { return map[string]string{"VERIFYFN_METRICS_ADDR": "9190"}[k] }); err == nil ||
		!strings.Contains(err.Error(), "VERIFYFN_METRICS_ADDR") {
		t.Fatalf("VERIFYFN_METRICS_ADDR=9190: %v", err)
	}
}
