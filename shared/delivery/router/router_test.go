package router_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/router"
)

// fake records what it delivers, or fails with an error that quotes the code
// (as a careless HTTP client might).
type fake struct {
	mu   sync.Mutex
	fail bool
	got  []delivery.Message
}

func (f *fake) Send(_ context.Context, m delivery.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("upstream refused body " + m.Text + " to " + m.To + " (" + strings.TrimPrefix(m.To, "+") + ")")
	}
	f.got = append(f.got, m)
	return nil
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

func msg(ch delivery.Channel, to string) delivery.Message {
	return delivery.Message{Channel: ch, To: to, Code: "493817", Text: "Your code is 493817"}
}

func TestFailover(t *testing.T) {
	var logs bytes.Buffer
	a, b, c := &fake{fail: true}, &fake{}, &fake{}
	r, err := router.New([]router.Route{
		{Channel: delivery.SMS, CountryCode: "*", Providers: []router.Provider{{"a", a}, {"b", b}, {"c", c}}},
	}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Send(context.Background(), msg(delivery.SMS, "+85251234567")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if a.count() != 0 || b.count() != 1 || c.count() != 0 {
		t.Fatalf("deliveries a=%d b=%d c=%d, want exactly one by b", a.count(), b.count(), c.count())
	}
	out := logs.String()
	if !strings.Contains(out, `"provider":"a"`) || !strings.Contains(out, "delivery provider failed") || !strings.Contains(out, "fallback") {
		t.Fatalf("logs %s", out)
	}
	if strings.Contains(out, "493817") || strings.Contains(out, "51234567") {
		t.Fatalf("logs show the code or the full number: %s", out)
	}
}

func TestAllFail(t *testing.T) {
	var logs bytes.Buffer
	r, err := router.New([]router.Route{
		{Channel: delivery.SMS, Providers: []router.Provider{{"first", &fake{fail: true}}, {"second", &fake{fail: true}}}},
	}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	err = r.Send(context.Background(), msg(delivery.SMS, "+85251234567"))
	if err == nil {
		t.Fatal("no error when every provider failed")
	}
	if !strings.Contains(err.Error(), "first:") || !strings.Contains(err.Error(), "second:") {
		t.Fatalf("error %q does not name the providers", err)
	}
	for _, leak := range []string{"493817", "51234567"} {
		if strings.Contains(err.Error(), leak) || strings.Contains(logs.String(), leak) {
			t.Fatalf("%s leaked: %q / %s", leak, err, logs.String())
		}
	}
}

func TestRoutingByCountryCode(t *testing.T) {
	cn, nanp, jm, def, mail := &fake{}, &fake{}, &fake{}, &fake{}, &fake{}
	r, err := router.New([]router.Route{
		{Channel: delivery.SMS, CountryCode: "86", Providers: []router.Provider{{"cn", cn}}},
		{Channel: delivery.SMS, CountryCode: "1", Providers: []router.Provider{{"nanp", nanp}}},
		{Channel: delivery.SMS, CountryCode: "1876", Providers: []router.Provider{{"jm", jm}}},
		{Channel: delivery.SMS, CountryCode: "*", Providers: []router.Provider{{"def", def}}},
		{Channel: delivery.Email, Providers: []router.Provider{{"mail", mail}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, to := range []string{"+8613800138000", "+12025550123", "+18765550123", "+85251234567"} {
		if err := r.Send(ctx, msg(delivery.SMS, to)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Send(ctx, msg(delivery.Email, "a@example.com")); err != nil {
		t.Fatal(err)
	}
	if cn.count() != 1 || nanp.count() != 1 || jm.count() != 1 || def.count() != 1 || mail.count() != 1 {
		t.Fatalf("cn=%d nanp=%d jm=%d def=%d mail=%d", cn.count(), nanp.count(), jm.count(), def.count(), mail.count())
	}
	if cn.got[0].To != "+8613800138000" || jm.got[0].To != "+18765550123" {
		t.Fatal("wrong routing")
	}
	// No voice route: a clear error.
	if err := r.Send(ctx, msg(delivery.Voice, "+8613800138000")); !errors.Is(err, router.ErrNoRoute) {
		t.Fatalf("voice without a route: %v", err)
	}
}

func TestNoDefaultRoute(t *testing.T) {
	r, err := router.New([]router.Route{{Channel: delivery.SMS, CountryCode: "86", Providers: []router.Provider{{"cn", &fake{}}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Send(context.Background(), msg(delivery.SMS, "+85251234567")); !errors.Is(err, router.ErrNoRoute) {
		t.Fatalf("err %v", err)
	}
}

func TestCancelledContextStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	second := &fake{}
	first := delivery.SenderFunc(func(context.Context, delivery.Message) error { cancel(); return errors.New("timeout") })
	r, err := router.New([]router.Route{{Channel: delivery.SMS, Providers: []router.Provider{{"first", first}, {"second", second}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Send(ctx, msg(delivery.SMS, "+85251234567")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if second.count() != 0 {
		t.Fatal("a provider was tried after the context ended")
	}
}

func TestNewRejects(t *testing.T) {
	s := &fake{}
	for _, routes := range [][]router.Route{
		{{Channel: "fax", Providers: []router.Provider{{"a", s}}}},
		{{Channel: delivery.SMS, CountryCode: "+86", Providers: []router.Provider{{"a", s}}}},
		{{Channel: delivery.SMS, CountryCode: "086", Providers: []router.Provider{{"a", s}}}},
		{{Channel: delivery.Email, CountryCode: "86", Providers: []router.Provider{{"a", s}}}},
		{{Channel: delivery.SMS}},
		{{Channel: delivery.SMS, Providers: []router.Provider{{"", s}}}},
		{{Channel: delivery.SMS, Providers: []router.Provider{{"a", s}}}, {Channel: delivery.SMS, CountryCode: "*", Providers: []router.Provider{{"a", s}}}},
	} {
		if _, err := router.New(routes, nil); err == nil {
			t.Errorf("accepted %+v", routes)
		}
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"+85251234567":      "+852****67",
		"alice@example.com": "a***@example.com",
		"@x":                "***@x",
		"12345":             "*****",
	} {
		if got := router.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

// The provider that delivered is named to delivery.WithDeliveredBy's
// reporter; a failing one is not.
func TestDeliveredByNamesTheProvider(t *testing.T) {
	r, err := router.New([]router.Route{
		{Channel: delivery.SMS, CountryCode: "*", Providers: []router.Provider{{"first", &fake{fail: true}}, {"second", &fake{}}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ctx := delivery.WithDeliveredBy(context.Background(), func(p string) { names = append(names, p) })
	if err := r.Send(ctx, msg(delivery.SMS, "+85251234567")); err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0] != "second" {
		t.Fatalf("reported %q, want [second]", names)
	}
	if err := r.Send(context.Background(), msg(delivery.SMS, "+85251234567")); err != nil {
		t.Fatal("Send without a reporter:", err)
	}
}
