package tcapi_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/testclock"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/store/memstore"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

type ctxKey struct{}

// probe is a front door with one action, Probe, of a service
// named smh (the development account has that product; 1 request a second),
// whose handler reports what it saw.
type probe struct {
	url       *url.URL
	real      *testclock.Clock // the clock signatures are checked against
	app       *testclock.Clock // the clock rate limits see
	handled   atomic.Int32
	lastValue atomic.Value
	intercept tcapi.Intercept
}

func startProbe(t *testing.T, intercept tcapi.Intercept) *probe {
	t.Helper()
	p := &probe{real: testclock.New(time.Now()), app: testclock.New(time.Now()), intercept: intercept}
	svc := tcapi.Service{Name: "smh", Version: "2020-01-01", RateLimit: 1, Actions: []tcapi.Action{{
		Name: "Probe", Params: []string{"To"},
		Destination: func(r *tcapi.Request) string { v, _, _ := r.String("To"); return "+" + v },
		Handle: func(ctx context.Context, r *tcapi.Request) (any, error) {
			p.handled.Add(1)
			v, _ := ctx.Value(ctxKey{}).(string)
			p.lastValue.Store(v)
			return nil, nil
		},
	}}}
	st := memstore.New()
	fd, err := tcapi.New(tcapi.Config{Credentials: accounts.Dev(), Limiter: st, Nonces: st, Now: p.real.Now, LimitNow: p.app.Now,
		Intercept: func(ctx context.Context, service, action, account string, dest func() string) (context.Context, error) {
			if p.intercept == nil {
				return ctx, nil
			}
			return p.intercept(ctx, service, action, account, dest)
		}}, svc)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(fd)
	t.Cleanup(ts.Close)
	p.url, _ = url.Parse(ts.URL)
	return p
}

func (p *probe) call(t *testing.T) string {
	t.Helper()
	sr := apitest.SignedRequest{Host: p.url.Host, Service: "smh", Action: "Probe", Version: "2020-01-01",
		Body: []byte(`{"To":"85251234567"}`), Timestamp: p.real.Now().Unix()}
	return apitest.Do(t, sr.Build(t)).Code()
}

// An Intercept error is the answer: the handler does not run, and the
// request counted against the rate as every admitted request does. Its context reaches the handler otherwise, and it sees
// the service, action, account and the action's destination.
func TestIntercept(t *testing.T) {
	var seen []string
	fault := apierr.New("FailedOperation.Probe", "Injected.")
	answer := error(fault)
	p := startProbe(t, func(ctx context.Context, service, action, account string, dest func() string) (context.Context, error) {
		seen = []string{service, action, account, dest()}
		if answer != nil {
			return ctx, answer
		}
		return context.WithValue(ctx, ctxKey{}, "from intercept"), nil
	})
	if got := p.call(t); got != "FailedOperation.Probe" {
		t.Fatalf("intercepted call answered %q", got)
	}
	if p.handled.Load() != 0 {
		t.Fatal("the handler ran for an intercepted call")
	}
	if want := []string{"smh", "Probe", accounts.DevAccountID, "+85251234567"}; len(seen) != 4 || seen[0] != want[0] || seen[1] != want[1] || seen[2] != want[2] || seen[3] != want[3] {
		t.Fatalf("Intercept saw %q, want %q", seen, want)
	}
	answer = nil
	if got := p.call(t); got != tcapi.CodeRequestLimitExceeded {
		t.Fatalf("second call in the same second answered %q: the intercepted call was not counted", got)
	}
	p.app.Advance(time.Second)
	if got := p.call(t); got != "" {
		t.Fatalf("call after a second answered %q", got)
	}
	if p.handled.Load() != 1 || p.lastValue.Load() != "from intercept" {
		t.Fatalf("handled %d times with context value %v", p.handled.Load(), p.lastValue.Load())
	}
}

// Rate limits see LimitNow; signature timestamps are checked against Now,
// so an app clock far ahead frees the rate without expiring signatures.
func TestLimitNowIsNotTheSignatureClock(t *testing.T) {
	p := startProbe(t, nil)
	if got := p.call(t); got != "" {
		t.Fatal(got)
	}
	if got := p.call(t); got != tcapi.CodeRequestLimitExceeded {
		t.Fatalf("second call in the same second: %q", got)
	}
	p.app.Advance(time.Hour)
	if got := p.call(t); got != "" {
		t.Fatalf("call with the app clock an hour ahead: %q (signed with the real time)", got)
	}
	p.real.Advance(301 * time.Second)
	sr := apitest.SignedRequest{Host: p.url.Host, Service: "smh", Action: "Probe", Version: "2020-01-01",
		Body: []byte(`{"To":"85251234567"}`), Timestamp: p.app.Now().Add(-time.Hour).Unix()}
	if got := apitest.Do(t, sr.Build(t)).Code(); got != tcapi.CodeSignatureExpire {
		t.Fatalf("a timestamp 301 s behind the signature clock: %q", got)
	}
}
