// Package otp is the verification-code engine shared by every function: it
// issues codes from a cryptographic random source, stores only a keyed hash of
// each code, hands the code to a delivery channel, and checks codes with a
// per-code attempt cap, single use and atomic check-and-consume.
//
// A code is bound to a Scope (account, API family, purpose, canonical
// destination and an optional extra such as an instance id), so a code issued
// for one purpose never passes another. Send limits are per account and
// destination: a cooldown between sends and fixed-window caps.
//
// Resend policy: a resend issues a new code (the previous one stops working)
// and carries over the attempts already spent on the previous live code, so a
// resend never refills the guess budget. A burned code (attempt cap reached)
// may be replaced by a new one once the cooldown has passed; the window caps
// bound the guesses per destination (default 10 sends a day x 5 attempts = 50
// guesses a day against a one-in-a-million code, below NIST SP 800-63B's cap
// of 100 consecutive failures).
package otp

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/verifyfn/verifyfn/shared/contact"
	"github.com/verifyfn/verifyfn/shared/store"
)

// MaxTTL is the longest lifetime a code may have (NIST SP 800-63B, OWASP ASVS).
const MaxTTL = 10 * time.Minute

// Errors returned by Send and Check. Callers map them to their API's codes.
var (
	ErrRateLimited = errors.New("otp: request rate limit exceeded")
	ErrCooldown    = errors.New("otp: resend cooldown active")
	ErrWindowFull  = errors.New("otp: send window cap reached")
	ErrGuardFull   = errors.New("otp: destination guard reached")
	ErrDelivery    = errors.New("otp: delivery failed")
	ErrMismatch    = errors.New("otp: wrong code")
	ErrNoCode      = errors.New("otp: no live code")
	ErrExhausted   = errors.New("otp: attempt cap reached")
	ErrConflict    = errors.New("otp: record precondition failed")
)

// WindowError is returned (wrapping ErrWindowFull) when a send window is full.
type WindowError struct {
	Window     store.Window
	RetryAfter time.Duration
}

func (e *WindowError) Error() string {
	return fmt.Sprintf("otp: at most %d sends per %s", e.Window.Max, e.Window.Period)
}

// Unwrap makes errors.Is(err, ErrWindowFull) true.
func (e *WindowError) Unwrap() error { return ErrWindowFull }

// ConflictError is returned (wrapping ErrConflict) when an op attached to a
// check failed its precondition; Op is its index.
type ConflictError struct{ Op int }

func (e *ConflictError) Error() string { return fmt.Sprintf("otp: precondition of op %d failed", e.Op) }

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Store is what the engine needs from a store.
type Store interface {
	Issue(ctx context.Context, op store.IssueOp) (store.IssueResult, error)
	Revoke(ctx context.Context, codeKey, limitKey string) error
	Check(ctx context.Context, op store.CheckOp) (store.CheckResult, error)
}

// Deliverer delivers one code; the engine calls it after the code is stored.
// An error makes the engine revoke the code.
type Deliverer func(ctx context.Context, code string, ttl time.Duration) error

// Config holds the engine's policy. Zero fields take the defaults.
type Config struct {
	Key         []byte           // HMAC key for code digests (required, at least 16 bytes)
	TTL         time.Duration    // code lifetime; default and maximum 10 minutes
	MaxAttempts int              // wrong guesses per code before it burns; default 5
	Cooldown    time.Duration    // minimum time between sends to one destination; default 60 s
	Windows     []store.Window   // send caps per destination; default 5 an hour and 10 a day
	Now         func() time.Time // default time.Now
	Rand        io.Reader        // default crypto/rand.Reader
	// FixedCodes, when set, gives the fixed code of a test destination (a
	// canonical Scope.Destination): Send issues that code instead of a
	// random one and does not call Deliver. Every limit (request rate,
	// cooldown, windows, guard, attempts, TTL) applies as for any other
	// destination.
	FixedCodes func(destination string) (code string, ok bool)
	// Guard, when set, screens every send with a Phone (SMS and voice)
	// before its code is issued, in the same store operation, and credits
	// the conversion of every code it consumed (package fraud).
	Guard Guard
	// Checked, when set, is told the verdict of every check the store
	// answered on the code itself: the scope's Family and Verified, Wrong,
	// Expired or Exhausted (a check refused by its rate limit or by an op's
	// precondition says nothing of the code and is not reported, nor is a
	// right code checked with Keep: the consuming check that follows says
	// whether it was used). Metrics count conversions with it.
	Checked func(family, outcome string)
}

// Verdicts of a check, as reported to Config.Checked.
const (
	Verified  = "verified"  // the code matched and was consumed
	Wrong     = "wrong"     // ErrMismatch
	Expired   = "expired"   // ErrNoCode: expired, used, never sent or revoked
	Exhausted = "exhausted" // ErrExhausted: the attempt cap is reached
)

// Engine issues and checks codes. It is safe for concurrent use.
type Engine struct {
	store Store
	cfg   Config
}

// New validates cfg, fills in defaults and returns an engine over st.
func New(st Store, cfg Config) (*Engine, error) {
	if len(cfg.Key) < 16 {
		return nil, errors.New("otp: the code key must be at least 16 bytes")
	}
	if cfg.TTL == 0 {
		cfg.TTL = MaxTTL
	}
	if cfg.TTL < 0 || cfg.TTL > MaxTTL {
		return nil, fmt.Errorf("otp: code TTL %s is outside (0, %s]", cfg.TTL, MaxTTL)
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.MaxAttempts < 1 || cfg.MaxAttempts > 100 {
		return nil, fmt.Errorf("otp: max attempts %d is outside [1, 100]", cfg.MaxAttempts)
	}
	if cfg.Cooldown == 0 {
		cfg.Cooldown = 60 * time.Second
	}
	if cfg.Cooldown < 0 {
		return nil, errors.New("otp: negative cooldown")
	}
	if cfg.Windows == nil {
		cfg.Windows = []store.Window{{Period: time.Hour, Max: 5}, {Period: 24 * time.Hour, Max: 10}}
	}
	for _, w := range cfg.Windows {
		if w.Period <= 0 || w.Max < 1 {
			return nil, fmt.Errorf("otp: invalid send window %d per %s", w.Max, w.Period)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	cfg.Key = append([]byte(nil), cfg.Key...)
	return &Engine{store: st, cfg: cfg}, nil
}

// TTL is the lifetime of the codes this engine issues.
func (e *Engine) TTL() time.Duration { return e.cfg.TTL }

// Scope binds a code. Destination must be the destination's canonical
// identity (contact.Phone.Key for phones, contact.Email.Key for email), so
// that every spelling of one handset or mailbox shares its code and limits.
type Scope struct {
	Account     string
	Family      string // the API family, e.g. "intlpartnersmgt"
	Purpose     string
	Destination string
	Extra       string // e.g. an instance or space id
}

// keys returns the code key and the destination's limit key. The code key
// carries the account's hash tag (see store.Coll; it is also what a code's
// digest binds), the limit key the destination's own (store.DestTag), so
// that on a Redis Cluster one account's destinations spread over the slots
// while its account-wide state (rate, guards, records) keeps the account's.
func (s Scope) keys() (codeKey, limitKey string) {
	return store.TagPrefix(s.Account) + "code:" + s.Destination + "|" + s.Family + "|" + s.Purpose + "|" + s.Extra,
		store.DestTag(s.Account, s.Destination) + "limit:" + s.Destination
}

// SendRequest asks for a code to be issued and delivered.
type SendRequest struct {
	Scope   Scope
	Digits  int         // code length, 4 to 10
	Rate    *store.Rate // optional request-rate limit checked in the same store operation
	Guard   *store.Guard
	Deliver Deliverer
	// Phone and Channel ("sms", "voice") describe a phone send for the
	// fraud guard (Config.Guard); a send without a Phone (email) is not
	// screened.
	Phone   contact.Phone
	Channel string
}

// Send issues a code for req.Scope, stores its digest and delivers it. On a
// delivery error the code is revoked and the cooldown released, so nothing
// valid is left behind and the caller may retry.
func (e *Engine) Send(ctx context.Context, req SendRequest) error {
	if req.Digits < 4 || req.Digits > 10 {
		return fmt.Errorf("otp: code length %d is outside [4, 10]", req.Digits)
	}
	var code string
	fixed := false
	if e.cfg.FixedCodes != nil {
		code, fixed = e.cfg.FixedCodes(req.Scope.Destination)
	}
	if !fixed {
		var err error
		if code, err = e.newCode(req.Digits); err != nil {
			return err
		}
	}
	codeKey, limitKey := req.Scope.keys()
	var scr Screen
	subj, guarded := e.subject(req.Scope.Account, req.Channel, req.Phone, req.Scope.Destination)
	if guarded {
		var err error
		if scr, err = e.cfg.Guard.Screen(ctx, subj); err != nil {
			var re *RefusedError
			if errors.As(err, &re) {
				e.cfg.Guard.Refused(ctx, subj, re)
			}
			return err
		}
	}
	res, err := e.store.Issue(ctx, store.IssueOp{
		Now:         e.cfg.Now(),
		Rate:        req.Rate,
		LimitKey:    limitKey,
		Cooldown:    e.cfg.Cooldown,
		Windows:     e.cfg.Windows,
		Guard:       req.Guard,
		CodeKey:     codeKey,
		Digest:      e.digest(codeKey, code),
		TTL:         e.cfg.TTL,
		MaxAttempts: e.cfg.MaxAttempts,
		Counters:    scr.Counters,
		Conversions: scr.Conversions,
	})
	if err != nil {
		return err
	}
	switch res.Status {
	case store.Issued:
	case store.RateLimited:
		return ErrRateLimited
	case store.CoolingDown:
		return ErrCooldown
	case store.WindowFull:
		return &WindowError{Window: e.cfg.Windows[res.Window], RetryAfter: res.RetryAfter}
	case store.GuardFull:
		return ErrGuardFull
	case store.CounterFull, store.Unconverted:
		re := refused(scr, subj, res)
		e.cfg.Guard.Refused(ctx, subj, re)
		return re
	default:
		return fmt.Errorf("otp: unknown issue status %d", res.Status)
	}
	if fixed {
		return nil // a test destination: its code is known, nothing is sent
	}
	if err := req.Deliver(ctx, code, e.cfg.TTL); err != nil {
		// Revoke with a context that survives the caller's cancellation: a
		// code whose delivery failed must not stay valid.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if rerr := e.store.Revoke(rctx, codeKey, limitKey); rerr != nil {
			return errors.Join(ErrDelivery, err, rerr)
		}
		return errors.Join(ErrDelivery, err)
	}
	return nil
}

// CheckRequest asks whether code is the live code of Scope.
type CheckRequest struct {
	Scope Scope
	Code  string
	Rate  *store.Rate
	Ops   []store.Op // applied atomically with consuming the code
	// Phone is the checked phone, whose send's conversion a consumed code
	// credits (Config.Guard); zero for email.
	Phone contact.Phone
	// Keep checks without consuming: a right code answers nil but stays
	// live and Ops are not applied (their preconditions are still checked
	// first). Rate and wrong guesses count as for any check. See
	// store.CheckOp.Keep for the two-step pattern it serves.
	Keep bool
}

// Check consumes the code of req.Scope when req.Code matches, applying req.Ops
// in the same atomic step (with req.Keep: only checks). It returns nil on
// success, or one of ErrMismatch, ErrNoCode, ErrExhausted, ErrRateLimited or a
// *ConflictError.
func (e *Engine) Check(ctx context.Context, req CheckRequest) error {
	codeKey, limitKey := req.Scope.keys()
	var credit []store.Conversion
	if subj, ok := e.subject(req.Scope.Account, "", req.Phone, req.Scope.Destination); ok {
		credit = e.cfg.Guard.Credit(subj)
	}
	res, err := e.store.Check(ctx, store.CheckOp{
		Now:         e.cfg.Now(),
		Rate:        req.Rate,
		CodeKey:     codeKey,
		LimitKey:    limitKey,
		Digest:      e.digest(codeKey, req.Code),
		MaxAttempts: e.cfg.MaxAttempts,
		Ops:         req.Ops,
		Keep:        req.Keep,
		Credit:      credit,
	})
	if err != nil {
		return err
	}
	if e.cfg.Checked != nil && !(req.Keep && res.Status == store.Passed) {
		if v := verdicts[res.Status]; v != "" {
			e.cfg.Checked(req.Scope.Family, v)
		}
	}
	switch res.Status {
	case store.Passed:
		return nil
	case store.Mismatch:
		return ErrMismatch
	case store.NoCode:
		return ErrNoCode
	case store.Exhausted:
		return ErrExhausted
	case store.CheckLimited:
		return ErrRateLimited
	case store.Conflict:
		return &ConflictError{Op: res.Op}
	default:
		return fmt.Errorf("otp: unknown check status %d", res.Status)
	}
}

// verdicts names the check results that judge the code.
var verdicts = map[store.CheckStatus]string{
	store.Passed: Verified, store.Mismatch: Wrong, store.NoCode: Expired, store.Exhausted: Exhausted,
}

// digest is HMAC-SHA256(key, codeKey || 0 || code): fixed length whatever the
// input, and bound to the scope, so digests are compared in constant time and
// a digest is useless for any other scope.
func (e *Engine) digest(codeKey, code string) []byte {
	m := hmac.New(sha256.New, e.cfg.Key)
	io.WriteString(m, codeKey)
	m.Write([]byte{0})
	io.WriteString(m, code)
	return m.Sum(nil)
}

var powers = func() [11]*big.Int {
	var p [11]*big.Int
	for i := range p {
		p[i] = new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(i)), nil)
	}
	return p
}()

// newCode draws a uniformly random code of n decimal digits.
func (e *Engine) newCode(n int) (string, error) {
	v, err := rand.Int(e.cfg.Rand, powers[n])
	if err != nil {
		return "", fmt.Errorf("otp: random source: %w", err)
	}
	s := v.String()
	return strings.Repeat("0", n-len(s)) + s, nil
}
