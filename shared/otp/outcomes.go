package otp

import (
	"errors"

	"github.com/verifyfn/verifyfn/shared/apierr"
)

// Outcomes names one API's documented error for each result of Send and
// Check. Every service declares its tables once and calls Map: this is the
// single place where the engine's results become API errors. A nil field
// means the API has no such outcome; Map then treats it as unexpected.
type Outcomes struct {
	RateLimited *apierr.Error // the per-account request rate (Send and Check)
	Cooldown    *apierr.Error // Send: a send to the destination within the cooldown
	WindowFull  *apierr.Error // Send: a send window cap is reached
	GuardFull   *apierr.Error // Send: the guard counter is full
	// Refused is the send the fraud guard refused (its limit or refusal
	// code), and RefusedNumber the one refused for its number type (its
	// parameter error for the number); nil RefusedNumber means Refused.
	Refused       *apierr.Error
	RefusedNumber *apierr.Error
	Delivery      *apierr.Error // Send: delivery failed (the cause is kept for the log)
	Mismatch      *apierr.Error // Check: wrong code
	NoCode        *apierr.Error // Check: no live code
	Exhausted     *apierr.Error // Check: the attempt cap is reached
	Conflicts     []*apierr.Error
	// Unexpected maps anything else (a store failure); the cause must only
	// reach the log.
	Unexpected func(error) error
}

// Map returns nil for nil, the documented error for a known outcome, and
// Unexpected(err) otherwise.
func (o Outcomes) Map(err error) error {
	if err == nil {
		return nil
	}
	var ce *ConflictError
	var re *RefusedError
	switch {
	case errors.Is(err, ErrRateLimited) && o.RateLimited != nil:
		return o.RateLimited
	case errors.Is(err, ErrCooldown) && o.Cooldown != nil:
		return o.Cooldown
	case errors.Is(err, ErrWindowFull) && o.WindowFull != nil:
		return o.WindowFull
	case errors.Is(err, ErrGuardFull) && o.GuardFull != nil:
		return o.GuardFull
	case errors.As(err, &re) && re.Reason == ReasonNumberType && o.RefusedNumber != nil:
		return o.RefusedNumber.Wrap(err)
	case errors.Is(err, ErrRefused) && o.Refused != nil:
		return o.Refused.Wrap(err)
	case errors.Is(err, ErrDelivery) && o.Delivery != nil:
		return o.Delivery.Wrap(err)
	case errors.Is(err, ErrMismatch) && o.Mismatch != nil:
		return o.Mismatch
	case errors.Is(err, ErrNoCode) && o.NoCode != nil:
		return o.NoCode
	case errors.Is(err, ErrExhausted) && o.Exhausted != nil:
		return o.Exhausted
	case errors.As(err, &ce) && ce.Op < len(o.Conflicts) && o.Conflicts[ce.Op] != nil:
		return o.Conflicts[ce.Op]
	case o.Unexpected != nil:
		return o.Unexpected(err)
	}
	return err
}
