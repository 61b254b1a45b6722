package otp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/verifyfn/verifyfn/shared/contact"
	"github.com/verifyfn/verifyfn/shared/store"
)

// ErrRefused is wrapped by every *RefusedError: the fraud guard refused a
// send. Nothing was stored (no code, no cooldown) and nothing sent.
var ErrRefused = errors.New("otp: refused by the fraud guard")

// ReasonNumberType is the reason of a send refused for its number type,
// which the APIs answer with their parameter error for the number.
const ReasonNumberType = "number_type"

// RefusedError is a send the fraud guard refused.
type RefusedError struct {
	Reason     string // why: the guard's rule, e.g. "prefix_velocity"
	Country    string // the destination's ISO region ("001" for non-geographic numbers)
	RetryAfter time.Duration
	// First is set on the refusal that changed the rule's state (a
	// cool-off started, a budget was first exceeded), which is logged as
	// a warning once.
	First bool
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("otp: refused by the fraud guard (%s, %s)", e.Reason, e.Country)
}

// Unwrap makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// Subject is a phone send, or a check of its code, as the guard sees it.
type Subject struct {
	Account string
	Channel string // "sms" or "voice"
	Phone   contact.Phone
	Test    bool // a test destination (Config.FixedCodes): nothing is delivered
}

// Screen is what the guard asks of a send: the counters and conversions its
// store operation checks and counts, and the reason each refuses under (one
// per counter, then one per conversion).
type Screen struct {
	Counters    []store.Counter
	Conversions []store.Conversion
	Reasons     []string
}

// Guard screens the engine's phone sends (package fraud implements it).
type Guard interface {
	// Screen returns what the store must check for a send to s, or a
	// *RefusedError for a send refused outright (a number type).
	Screen(ctx context.Context, s Subject) (Screen, error)
	// Credit returns the conversions a consumed code of s counts in.
	Credit(s Subject) []store.Conversion
	// Refused is told of every refusal, to log and count it.
	Refused(ctx context.Context, s Subject, e *RefusedError)
}

// subject returns the guard's view of a send or check, and whether the
// guard looks at it at all (a phone, with a guard configured).
func (e *Engine) subject(account, channel string, p contact.Phone, dest string) (Subject, bool) {
	if e.cfg.Guard == nil || p.IsZero() {
		return Subject{}, false
	}
	s := Subject{Account: account, Channel: channel, Phone: p}
	if e.cfg.FixedCodes != nil {
		_, s.Test = e.cfg.FixedCodes(dest)
	}
	return s, true
}

// refused builds the error of an issue the store refused under scr.
func refused(scr Screen, s Subject, res store.IssueResult) *RefusedError {
	i := res.Index
	if res.Status == store.Unconverted {
		i += len(scr.Counters)
	}
	reason := "guard"
	if i >= 0 && i < len(scr.Reasons) {
		reason = scr.Reasons[i]
	}
	return &RefusedError{Reason: reason, Country: s.Phone.Region(), RetryAfter: res.RetryAfter, First: res.First}
}
