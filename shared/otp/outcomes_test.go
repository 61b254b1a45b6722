package otp_test

import (
	"errors"
	"testing"

	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/otp"
	"github.com/verifyfn/verifyfn/shared/store"
)

func TestOutcomesMap(t *testing.T) {
	e := func(code string) *apierr.Error { return apierr.New(code, code) }
	internal := e("Internal")
	o := otp.Outcomes{
		RateLimited: e("Rate"), Cooldown: e("Cooldown"), WindowFull: e("Window"), GuardFull: e("Guard"),
		Delivery: e("Delivery"), Mismatch: e("Mismatch"), NoCode: e("NoCode"), Exhausted: e("Exhausted"),
		Conflicts:  []*apierr.Error{e("Conflict0"), nil},
		Unexpected: func(err error) error { return internal.Wrap(err) },
	}
	for _, tc := range []struct {
		in   error
		want string
	}{
		{otp.ErrRateLimited, "Rate"},
		{otp.ErrCooldown, "Cooldown"},
		{&otp.WindowError{Window: store.Window{Max: 1}}, "Window"},
		{otp.ErrGuardFull, "Guard"},
		{errors.Join(otp.ErrDelivery, errors.New("smtp down")), "Delivery"},
		{otp.ErrMismatch, "Mismatch"},
		{otp.ErrNoCode, "NoCode"},
		{otp.ErrExhausted, "Exhausted"},
		{&otp.ConflictError{Op: 0}, "Conflict0"},
		{&otp.ConflictError{Op: 1}, "Internal"},
		{store.ErrUnavailable, "Internal"},
	} {
		got := apierr.As(o.Map(tc.in))
		if got == nil || got.Code != tc.want {
			t.Errorf("Map(%v) = %v, want %s", tc.in, got, tc.want)
		}
	}
	if o.Map(nil) != nil {
		t.Error("Map(nil) != nil")
	}
	if cause := apierr.As(o.Map(errors.Join(otp.ErrDelivery, errors.New("smtp down")))).Cause(); cause == nil {
		t.Error("the delivery cause was dropped")
	}
	if got := (otp.Outcomes{}).Map(otp.ErrCooldown); !errors.Is(got, otp.ErrCooldown) {
		t.Errorf("an undeclared outcome without Unexpected = %v", got)
	}
}
