package otp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/testclock"
	"github.com/verifyfn/verifyfn/shared/otp"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/memstore"
)

func TestFixedCodes(t *testing.T) {
	clk := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st := &spy{Store: memstore.New()}
	e, err := otp.New(st, otp.Config{
		Key: key, Now: clk.Now, MaxAttempts: 2,
		Windows: []store.Window{{Period: time.Hour, Max: 2}},
		FixedCodes: func(dest string) (string, bool) {
			if dest == "+85251234567" {
				return "123456", true
			}
			return "", false
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	test := scope // +85251234567
	other := scope
	other.Destination = "+85251234568"

	// A test destination: the fixed code, nothing delivered, the digest stored.
	if err := send(e, r, test); err != nil {
		t.Fatal(err)
	}
	if len(r.codes) != 0 {
		t.Fatalf("delivered %d messages to a test destination", len(r.codes))
	}
	if len(st.digests) != 1 {
		t.Fatal("no code stored")
	}
	// Limits still apply: cooldown, then the window cap.
	if err := send(e, r, test); !errors.Is(err, otp.ErrCooldown) {
		t.Fatalf("second send within the cooldown: %v", err)
	}
	clk.Advance(61 * time.Second)
	if err := send(e, r, test); err != nil {
		t.Fatal(err)
	}
	clk.Advance(61 * time.Second)
	if err := send(e, r, test); !errors.Is(err, otp.ErrWindowFull) {
		t.Fatalf("third send in the window: %v", err)
	}
	// The attempt cap applies: a wrong guess counts, the fixed code passes once.
	if err := check(e, test, "654321"); !errors.Is(err, otp.ErrMismatch) {
		t.Fatalf("wrong code: %v", err)
	}
	if err := check(e, test, "123456"); err != nil {
		t.Fatalf("fixed code: %v", err)
	}
	if err := check(e, test, "123456"); !errors.Is(err, otp.ErrNoCode) {
		t.Fatalf("fixed code twice: %v", err)
	}

	// Other destinations get random codes and deliveries as usual.
	if err := send(e, r, other); err != nil {
		t.Fatal(err)
	}
	if len(r.codes) != 1 {
		t.Fatalf("%d deliveries to an ordinary destination", len(r.codes))
	}
	if err := check(e, other, r.last(t)); err != nil {
		t.Fatal(err)
	}
}

func TestFixedCodeAttemptCap(t *testing.T) {
	clk := testclock.New(time.Now())
	e, err := otp.New(memstore.New(), otp.Config{
		Key: key, Now: clk.Now, MaxAttempts: 2,
		FixedCodes: func(string) (string, bool) { return "000000", true },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Send(context.Background(), otp.SendRequest{Scope: scope, Digits: 6, Deliver: func(context.Context, string, time.Duration) error {
		t.Fatal("Deliver called for a test destination")
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := check(e, scope, "111111"); err == nil {
			t.Fatal("wrong code passed")
		}
	}
	if err := check(e, scope, "000000"); err == nil {
		t.Fatal("the fixed code passed after the attempt cap")
	}
}
