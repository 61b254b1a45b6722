package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/verifyfn/verifyfn/internal/emfcheck"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/metrics"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/memstore"
)

// gathered returns the value of one series (a counter's value, a
// histogram's sample count) from the registry, 0 when absent.
func gathered(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, s := range f.GetMetric() {
			if len(s.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range s.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue next
				}
			}
			if h := s.GetHistogram(); h != nil {
				return float64(h.GetSampleCount())
			}
			return s.GetCounter().GetValue()
		}
	}
	return 0
}

func TestNilMetricsDoNothing(t *testing.T) {
	var m *metrics.Metrics
	m.ObserveRequest("smh", "SendSmsCode", "OK", time.Millisecond)
	m.ObserveDelivery(context.Background(), delivery.Message{Channel: delivery.SMS, To: "+85251234567"}, "p", time.Millisecond, nil)
	m.Checked("smh", metrics.Verified)
	m.GuardRefused(metrics.ReasonBudget, "HK")
	if err := m.WriteEMF(new(bytes.Buffer), time.Now()); err != nil {
		t.Fatal(err)
	}
	st := m.Store(memstore.New())
	if _, err := st.Apply(context.Background(), []store.Op{{Kind: store.Insert, Coll: "{1}:c", Key: "k"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Labels stay within their sets whatever the callers pass.
func TestLabelsAreBounded(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.ObserveRequest("", "", "AuthFailure.SignatureFailure", time.Millisecond)
	if got := gathered(t, m, metrics.Requests, map[string]string{"service": "unknown", "action": "unknown", "code": "AuthFailure.SignatureFailure"}); got != 1 {
		t.Errorf("unrouted request: %v", got)
	}
	m.Checked("cams", "made-up")
	m.Checked("cams", metrics.Exhausted)
	if got := testutil.CollectAndCount(m.Registry(), metrics.Checks); got != 1 {
		t.Errorf("%d check series, want 1 (the made-up outcome is ignored)", got)
	}
	m.GuardRefused("because I said so +85251234567", "+852")
	m.GuardRefused(metrics.ReasonPrefixVelocity, "HK")
	m.GuardRefused(metrics.ReasonConversion, "001")
	for _, c := range []struct{ reason, country string }{{"other", "ZZ"}, {"prefix_velocity", "HK"}, {"conversion", "001"}} {
		if got := gathered(t, m, metrics.GuardRefusals, map[string]string{"reason": c.reason, "country": c.country}); got != 1 {
			t.Errorf("guard refusal %v: %v", c, got)
		}
	}
	for to, want := range map[string]string{"+85251234567": "HK", "+447400123456": "GB", "+447624123456": "IM", "+80012345678": "001",
		"+12125550123": "US", "+14165550123": "CA", "+18765550123": "JM", "+999": "ZZ", "+1": "ZZ", "": "ZZ", "+0123": "ZZ"} {
		if got := metrics.Region(delivery.Message{Channel: delivery.SMS, To: to}); got != want {
			t.Errorf("Region(%s) = %q, want %q", to, got, want)
		}
	}
	if got := metrics.Region(delivery.Message{Channel: delivery.Email, To: "bob@example.com"}); got != "none" {
		t.Errorf("Region(email) = %q", got)
	}
}

// failing fails every operation.
type failing struct{ store.Store }

var errDown = errors.New("down")

func (failing) Issue(context.Context, store.IssueOp) (store.IssueResult, error) {
	return store.IssueResult{}, errDown
}
func (failing) Get(context.Context, string, string) ([]byte, bool, error) { return nil, false, errDown }

func TestObservedStore(t *testing.T) {
	m := metrics.New(metrics.Options{})
	ctx := context.Background()
	ok := m.Store(memstore.New())
	ok.Allow(ctx, store.Rate{Key: "{1}:r", Limit: 1, Per: time.Second}, time.Now())
	ok.Allow(ctx, store.Rate{Key: "{1}:r", Limit: 1, Per: time.Second}, time.Now())
	ok.Ping(ctx)
	bad := m.Store(failing{memstore.New()})
	if _, err := bad.Issue(ctx, store.IssueOp{}); !errors.Is(err, errDown) {
		t.Fatalf("Issue: %v", err)
	}
	if err := bad.Ping(ctx); !errors.Is(err, errDown) { // no Ping of its own: a Get
		t.Fatalf("Ping: %v", err)
	}
	for op, want := range map[string][2]float64{"allow": {2, 0}, "ping": {2, 1}, "issue": {1, 1}} {
		l := map[string]string{"op": op}
		if d, e := gathered(t, m, metrics.StoreDuration, l), gathered(t, m, metrics.StoreErrors, l); d != want[0] || e != want[1] {
			t.Errorf("op %s: %v timed, %v errors; want %v", op, d, e, want)
		}
	}
	closed := memstore.New()
	closed.Close()
	if err := m.Store(closed).Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Ping of a closed store: %v", err)
	}
}

func TestHandler(t *testing.T) {
	m := metrics.New(metrics.Options{})
	healthy := true
	h := m.Handler(nil, metrics.Check{Name: "store", Run: func(context.Context) error {
		if healthy {
			return nil
		}
		return errors.New("no")
	}})
	get := func(method, path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec.Code, rec.Body.String()
	}
	m.ObserveRequest("smh", "SendSmsCode", "OK", 3*time.Millisecond)
	if code, body := get("GET", "/metrics"); code != 200 || !strings.Contains(body, `verifyfn_requests_total{action="SendSmsCode",code="OK",service="smh"} 1`) ||
		!strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	if code, _ := get("GET", "/healthz"); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	if code, body := get("GET", "/readyz"); code != 200 || !strings.Contains(body, `"store":"ok"`) {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	healthy = false
	code, body := get("GET", "/readyz")
	var r metrics.Readiness
	if json.Unmarshal([]byte(body), &r); code != http.StatusServiceUnavailable || r.Status != "unready" || r.Checks["store"] != "failed" {
		t.Fatalf("/readyz unhealthy: %d %s", code, body)
	}
	if code, _ := get("POST", "/metrics"); code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /metrics: %d", code)
	}
	if code, _ := get("GET", "/"); code != http.StatusNotFound {
		t.Fatalf("GET /: %d", code)
	}
}

// TestEMF: what was counted since the last write, as documents of the
// specified shape, one per label set; then nothing until more is counted.
func TestEMF(t *testing.T) {
	m := metrics.New(metrics.Options{EMF: true})
	now := time.UnixMilli(1_800_000_000_123)
	m.ObserveRequest("intlpartnersmgt", "SendVerifyCode", "OK", 20*time.Millisecond)
	m.ObserveRequest("intlpartnersmgt", "SendVerifyCode", "OK", 30*time.Millisecond)
	m.ObserveRequest("intlpartnersmgt", "SendVerifyCode", "FailedOperation.SendVerifyCodeLimit60", time.Millisecond)
	m.ObserveDelivery(context.Background(), delivery.Message{Channel: delivery.SMS, To: "+85251234567", Code: "123456"}, "twilio", time.Second, errors.New("x"))
	m.Checked("cams", metrics.Wrong)
	st := m.Store(memstore.New())
	for range 150 { // more values than one array may hold
		st.Ping(context.Background())
	}
	var buf bytes.Buffer
	if err := m.WriteEMF(&buf, now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	var all []emfcheck.Metric
	for _, l := range lines {
		ms, err := emfcheck.Parse([]byte(l))
		if err != nil {
			t.Fatalf("%v:\n%s", err, l)
		}
		all = append(all, ms...)
	}
	if strings.Contains(buf.String(), "51234567") || strings.Contains(buf.String(), "123456") {
		t.Fatalf("a number or code in the EMF:\n%s", buf.String())
	}
	// requests OK, requests Limit60, request duration, message, provider
	// duration, check, ping (two lines: 100 + 50 values)
	if len(lines) != 8 {
		t.Errorf("%d lines, want 8:\n%s", len(lines), buf.String())
	}
	for _, c := range []struct {
		name string
		dims map[string]string
		sum  float64
		n    int
		unit string
	}{
		{metrics.Requests, map[string]string{"service": "intlpartnersmgt", "action": "SendVerifyCode", "code": "OK"}, 2, 1, "Count"},
		{metrics.Requests, map[string]string{"code": "FailedOperation.SendVerifyCodeLimit60"}, 1, 1, "Count"},
		{metrics.RequestDuration, map[string]string{"service": "intlpartnersmgt", "action": "SendVerifyCode"}, 0.051, 3, "Seconds"},
		{metrics.Messages, map[string]string{"channel": "sms", "provider": "twilio", "country": "HK", "outcome": "failed"}, 1, 1, "Count"},
		{metrics.ProviderDuration, map[string]string{"provider": "twilio", "outcome": "failed"}, 1, 1, "Seconds"},
		{metrics.Checks, map[string]string{"service": "cams", "outcome": "wrong"}, 1, 1, "Count"},
	} {
		sum, n := emfcheck.Sum(all, c.name, c.dims)
		if n != c.n || sum < c.sum-1e-9 || sum > c.sum+1e-9 {
			t.Errorf("%s %v: sum %v over %d values, want %v over %d", c.name, c.dims, sum, n, c.sum, c.n)
		}
	}
	if _, n := emfcheck.Sum(all, metrics.StoreDuration, map[string]string{"op": "ping"}); n != 150 {
		t.Errorf("%d ping durations, want 150", n)
	}
	for _, x := range all {
		if x.Namespace != metrics.Namespace || x.Timestamp != now.UnixMilli() {
			t.Errorf("%s: namespace %q, timestamp %d", x.Name, x.Namespace, x.Timestamp)
		}
		if (strings.HasSuffix(x.Name, "_seconds") && x.Unit != "Seconds") || (strings.HasSuffix(x.Name, "_total") && x.Unit != "Count") {
			t.Errorf("%s: unit %s", x.Name, x.Unit)
		}
	}
	buf.Reset()
	if err := m.WriteEMF(&buf, now); err != nil || buf.Len() != 0 {
		t.Fatalf("second write with nothing new: %q, %v", buf.String(), err)
	}
	// The Prometheus side counted the same.
	if got := gathered(t, m, metrics.Requests, map[string]string{"service": "intlpartnersmgt", "action": "SendVerifyCode", "code": "OK"}); got != 2 {
		t.Errorf("prometheus: %v", got)
	}
	// Metrics without EMF write nothing.
	plain := metrics.New(metrics.Options{})
	plain.ObserveRequest("smh", "SendSmsCode", "OK", time.Millisecond)
	if err := plain.WriteEMF(&buf, now); err != nil || buf.Len() != 0 {
		t.Fatalf("without EMF: %q, %v", buf.String(), err)
	}
}

// The checker refuses what the specification forbids, so that TestEMF can
// fail.
func TestEMFCheckRefuses(t *testing.T) {
	for _, doc := range []string{
		`{"a":1}`,
		`{"_aws":{"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"a"}]}]},"a":1}`, // no Timestamp
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["d"]],"Metrics":[{"Name":"a"}]}]},"a":1}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["d"]],"Metrics":[{"Name":"a"}]}]},"a":1,"d":""}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"a","Unit":"Parsecs"}]}]},"a":1}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"a"}]}]},"a":"1"}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"","Dimensions":[[]],"Metrics":[{"Name":"a"}]}]},"a":1}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"a"}]}]},"a":1} x`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"a"}]}]},"a":[` + strings.Repeat("1,", 100) + `1]}`,
	} {
		if _, err := emfcheck.Parse([]byte(doc)); err == nil {
			t.Errorf("accepted %s", doc)
		}
	}
	ok := `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["d"]],"Metrics":[{"Name":"a","Unit":"Count"}]}]},"a":[1,2],"d":"x"}`
	if ms, err := emfcheck.Parse([]byte(ok)); err != nil || len(ms) != 1 || ms[0].Dimensions["d"] != "x" {
		t.Fatalf("refused the valid document: %v %+v", err, ms)
	}
}
