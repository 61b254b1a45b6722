package control_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/redistest"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/control"
)

func withStore(spec string) apitest.Option {
	return apitest.WithConfig(func(c *config.Config) {
		generous(c)
		c.Store = spec
		c.CodeKey = []byte("one-key-for-every-instance-0123") // instances check each other's codes
	})
}

// Two instances on one Redis share the clock, the faults and a reset; each
// lists the messages it delivered itself.
func TestRedisInstancesShareState(t *testing.T) {
	srv := redistest.Start(t)
	a, b := start(t, withStore(srv.URL())), start(t, withStore(srv.URL()))

	// Messages are per process.
	if got := a.sendVerifyCode(t, "51230001"); got != "" {
		t.Fatal(got)
	}
	code := a.latest(t, "+85251230001").Code
	if got := b.messages(t, ""); len(got) != 0 {
		t.Fatalf("instance b lists a's messages: %+v", got)
	}

	// The clock: advanced through b, seen by a's store operations and
	// clock, and by b's.
	b.advance(t, 11*time.Minute)
	var c control.Clock
	a.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/clock", nil, &c)
	if time.Duration(c.Offset) != 11*time.Minute {
		t.Fatalf("a's clock after b advanced it: %+v", c)
	}
	if got := a.createAccount(t, "51230001", "a@example.com", code); got != "FailedOperation.VerificationCodeIllegal" {
		t.Fatalf("a code 11 minutes old, checked on a: %q", got)
	}
	if got := b.sendVerifyCode(t, "51230001"); got != "" {
		t.Fatalf("b: a send after the cooldown (by the shared clock): %q", got)
	}
	if got := a.sendVerifyCode(t, "51230001"); got != "FailedOperation.SendVerifyCodeLimit60" {
		t.Fatalf("a: a send within b's cooldown: %q", got)
	}
	before := time.Now()
	b.sendContactCode(t, "bob@example.com")
	if m := b.latest(t, "bob@example.com"); m.At.Sub(before) < 11*time.Minute-time.Second {
		t.Fatalf("b's message time %s does not carry the offset", m.At)
	}
	a.must(t, http.StatusOK, http.MethodDelete, "/_verifyfn/clock", nil, nil)
	b.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/clock", nil, &c)
	if c.Offset != 0 {
		t.Fatalf("b's clock after a reset it: %+v", c)
	}

	// Faults: set on a, listed and consumed on b, then gone for a.
	a.fault(t, map[string]any{"service": "domain", "action": "SendIntlPhoneEmailCode", "code": "InternalError.SendVerifyCodeErr"})
	var list struct{ Faults []control.Fault }
	b.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/faults", nil, &list)
	if len(list.Faults) != 1 || list.Faults[0].Left != 1 {
		t.Fatalf("b's pending faults: %+v", list.Faults)
	}
	if got := b.sendContactCode(t, "carol@example.com"); got != "InternalError.SendVerifyCodeErr" {
		t.Fatalf("b: the fault set on a: %q", got)
	}
	if got := a.sendContactCode(t, "carol@example.com"); got != "" {
		t.Fatalf("a: the fault b used up: %q", got)
	}
	b.fault(t, map[string]any{"service": "domain", "action": "SendIntlPhoneEmailCode", "delivery": "fail", "to": "dave@example.com"})
	if got := a.sendContactCode(t, "dave@example.com"); got != "InternalError.SendVerifyCodeErr" {
		t.Fatalf("a: the delivery fault set on b: %q", got)
	}
	b.fault(t, map[string]any{"service": "domain", "action": "SendIntlPhoneEmailCode", "code": "RequestLimitExceeded", "count": 3})
	a.must(t, http.StatusNoContent, http.MethodDelete, "/_verifyfn/faults", nil, nil)
	b.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/faults", nil, &list)
	if len(list.Faults) != 0 {
		t.Fatalf("b's faults after a cleared them: %+v", list.Faults)
	}

	// A reset through b forgets what a wrote.
	if got := a.createContact(t, "carol@example.com", a.latest(t, "carol@example.com").Code); got != "" {
		t.Fatal(got)
	}
	if n := b.contacts(t); n != 1 {
		t.Fatalf("b sees %d contacts", n)
	}
	b.reset(t, "")
	if n := a.contacts(t); n != 0 {
		t.Fatalf("a sees %d contacts after b's reset", n)
	}
	if got := a.sendVerifyCode(t, "51230001"); got != "" {
		t.Fatalf("a: the cooldown after b's reset: %q", got)
	}
}

// The file store resets too, and the reset is kept across a restart.
func TestFileStoreReset(t *testing.T) {
	spec := "file:" + filepath.Join(t.TempDir(), "verifyfn.db")
	k := start(t, withStore(spec))
	k.sendContactCode(t, "bob@example.com")
	if got := k.createContact(t, "bob@example.com", k.latest(t, "bob@example.com").Code); got != "" {
		t.Fatal(got)
	}
	k.reset(t, "")
	if n := k.contacts(t); n != 0 {
		t.Fatalf("%d contacts after the reset", n)
	}
	k.Close()
	if err := k.App.Close(); err != nil {
		t.Fatal(err)
	}
	k = start(t, withStore(spec))
	if n := k.contacts(t); n != 0 {
		t.Fatalf("%d contacts after the restart", n)
	}
}

// On a Redis Cluster too (three masters with a replica each), two instances
// share the clock, the faults and a reset (the control state is one key; the
// reset scans every primary).
func TestRedisClusterInstancesShareState(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a six-node Redis Cluster")
	}
	cl := redistest.StartClusterWithReplicas(t, 3, 1)
	a, b := start(t, withStore(cl.URL())), start(t, withStore(cl.URL()))
	a.sendContactCode(t, "bob@example.com")
	code := a.latest(t, "bob@example.com").Code
	b.advance(t, 11*time.Minute)
	if got := a.createContact(t, "bob@example.com", code); got != "InternalError.CheckVerifyCodeErr" {
		t.Fatalf("a code 11 minutes old: %q", got)
	}
	a.fault(t, map[string]any{"service": "domain", "action": "DescribeIntlPhoneEmailList", "code": "InternalError.DescribePhoneEmailListErr"})
	if _, err := b.tc.Call("domain", "2018-08-08", "DescribeIntlPhoneEmailList", map[string]any{}); tcCode(t, err) != "InternalError.DescribePhoneEmailListErr" {
		t.Fatalf("b: the fault set on a: %v", err)
	}
	b.sendContactCode(t, "bob@example.com")
	if got := b.createContact(t, "bob@example.com", b.latest(t, "bob@example.com").Code); got != "" {
		t.Fatal(got)
	}
	a.reset(t, "")
	if n := b.contacts(t); n != 0 {
		t.Fatalf("b sees %d contacts after a's reset", n)
	}
}
