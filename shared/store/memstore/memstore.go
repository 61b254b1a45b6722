// Package memstore is the embedded, in-process store: every operation of the
// store model runs under one lock, so check-then-act is atomic within a single
// process. It is the store for local runs and tests; state shared by several
// instances needs a networked store.
//
// Expired ephemeral state (codes, cooldowns, windows, rate buckets, nonces) is
// evicted lazily on access and by a small random sweep on every mutation, so
// memory stays bounded by live state. Durable records are kept until deleted.
//
// Durable records live in a pluggable Records backend, called under the
// store's lock: in memory by default (New), or in a file (see the filestore
// package, which gives the same store durable records that survive a
// restart). A check writes its records first and consumes the code only when
// that write succeeded, so a failing backend never leaves half an operation.
package memstore

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verifyfn/verifyfn/shared/store"
)

// sweepPerOp bounds the entries examined for expiry on each mutation.
const sweepPerOp = 8

// Records is a backend for durable records. The Store calls it only under its
// own lock, one call at a time. Errors should wrap store.ErrUnavailable (the
// Store wraps those that do not).
type Records interface {
	// Get returns the value of Coll/Key.
	Get(coll, key string) ([]byte, bool, error)
	// List returns up to limit records of coll in insertion order, skipping
	// offset, and the number of records in coll.
	List(coll string, offset, limit int) ([]store.Record, int, error)
	// Precheck returns the index of the first op whose precondition fails
	// against the current records (each op is judged against the records as
	// they are, not as earlier ops would leave them), or -1.
	Precheck(ops []store.Op) (int, error)
	// Apply checks the preconditions like Precheck and, when all hold,
	// applies every op in one atomic, durable step and returns -1; otherwise
	// it returns the failing index and changes nothing. On an error nothing
	// was applied.
	Apply(ops []store.Op) (int, error)
	// Reset deletes every collection whose name starts with prefix (all of
	// them for ""), in one atomic step.
	Reset(prefix string) error
	// Close releases the backend.
	Close() error
}

// Store is the in-process store. The zero value is not usable; call New.
type Store struct {
	mu      sync.Mutex
	codes   map[string]*codeRec
	limits  map[string]*limitRec
	rates   map[string]time.Time // GCRA theoretical arrival time per key
	nonces  map[string]time.Time // expiry per claimed nonce
	meters  meters               // the fraud guard's counters and conversions (meter.go)
	records Records
	closed  bool
}

type codeRec struct {
	digest   []byte // nil once revoked or burned
	attempts int
	expires  time.Time
	issued   time.Time // set when issued with conversions: the time its check credits
}

type limitRec struct {
	cooldownUntil time.Time
	windows       []windowState
}

type windowState struct {
	period time.Duration
	start  time.Time
	count  int
}

// New returns an empty store whose durable records live in memory.
func New() *Store { return NewWithRecords(NewMemRecords()) }

// NewWithRecords returns an empty store whose durable records live in r. The
// store owns r and closes it in Close.
func NewWithRecords(r Records) *Store {
	return &Store{
		codes:   map[string]*codeRec{},
		limits:  map[string]*limitRec{},
		rates:   map[string]time.Time{},
		nonces:  map[string]time.Time{},
		meters:  newMeters(),
		records: r,
	}
}

// Close closes the records backend. Later calls fail with store.ErrUnavailable.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.records.Close()
}

// errClosed is returned by every operation after Close.
var errClosed = fmt.Errorf("%w: memstore: closed", store.ErrUnavailable)

// unavailable makes sure a backend error wraps store.ErrUnavailable.
func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

// begin checks ctx and takes the lock; the caller must unlock.
func (s *Store) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	return nil
}

// Ping reports whether the store answers: an error once it is closed, or
// when the records backend has a Ping of its own that fails.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if p, ok := s.records.(interface{ Ping() error }); ok {
		return unavailable(p.Ping())
	}
	return nil
}

// Issue runs an IssueOp atomically.
func (s *Store) Issue(ctx context.Context, op store.IssueOp) (store.IssueResult, error) {
	if err := s.begin(ctx); err != nil {
		return store.IssueResult{}, err
	}
	defer s.mu.Unlock()
	now := op.Now
	s.sweep(now)

	var undo undoFunc
	if op.Rate != nil {
		ok, wait, u := s.allowUndo(*op.Rate, now)
		if !ok {
			return store.IssueResult{Status: store.RateLimited, RetryAfter: wait}, nil
		}
		undo = u
	}
	if g := op.Guard; g != nil && g.Max > 0 {
		n, err := s.counter(g.Coll, g.Key)
		if err != nil {
			undo.run()
			return store.IssueResult{}, unavailable(err)
		}
		if n >= g.Max {
			return store.IssueResult{Status: store.GuardFull}, nil
		}
	}
	lim := s.limits[op.LimitKey]
	if lim != nil && now.Before(lim.cooldownUntil) {
		return store.IssueResult{Status: store.CoolingDown, RetryAfter: lim.cooldownUntil.Sub(now)}, nil
	}
	if lim != nil {
		for i, w := range op.Windows {
			if ws := lim.window(w.Period, now); ws != nil && ws.count >= w.Max {
				return store.IssueResult{Status: store.WindowFull, Window: i, RetryAfter: ws.start.Add(w.Period).Sub(now)}, nil
			}
		}
	}
	if r, refused := s.meters.check(op, now); refused {
		return r, nil
	}
	s.meters.count(op, now)

	if lim == nil {
		lim = &limitRec{}
		s.limits[op.LimitKey] = lim
	}
	lim.cooldownUntil = now.Add(op.Cooldown)
	for _, w := range op.Windows {
		ws := lim.window(w.Period, now)
		if ws == nil {
			lim.windows = append(lim.windows, windowState{period: w.Period, start: now, count: 1})
			continue
		}
		ws.count++
	}

	carried := 0
	if old := s.codes[op.CodeKey]; old != nil && now.Before(old.expires) && old.attempts < op.MaxAttempts {
		carried = old.attempts
	}
	rec := &codeRec{digest: slices.Clone(op.Digest), attempts: carried, expires: now.Add(op.TTL)}
	if len(op.Conversions) > 0 {
		rec.issued = now
	}
	s.codes[op.CodeKey] = rec
	return store.IssueResult{Status: store.Issued, Attempts: carried}, nil
}

// window returns the live window state of the given period, dropping it when
// it has ended.
func (l *limitRec) window(period time.Duration, now time.Time) *windowState {
	for i := range l.windows {
		if l.windows[i].period != period {
			continue
		}
		if !now.Before(l.windows[i].start.Add(period)) {
			l.windows = slices.Delete(l.windows, i, i+1)
			return nil
		}
		return &l.windows[i]
	}
	return nil
}

// Revoke invalidates the code of codeKey (keeping its attempt count, so a
// resend does not refill the budget) and clears the destination's cooldown.
// It is used when delivery of a freshly issued code failed.
func (s *Store) Revoke(ctx context.Context, codeKey, limitKey string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if rec := s.codes[codeKey]; rec != nil {
		rec.digest = nil
	}
	if lim := s.limits[limitKey]; lim != nil {
		lim.cooldownUntil = time.Time{}
	}
	return nil
}

// Check runs a CheckOp atomically. The records of a passing check are written
// before the code is consumed; when that write fails the code stays live and
// the error wraps store.ErrUnavailable.
func (s *Store) Check(ctx context.Context, op store.CheckOp) (store.CheckResult, error) {
	if err := s.begin(ctx); err != nil {
		return store.CheckResult{}, err
	}
	defer s.mu.Unlock()
	now := op.Now
	s.sweep(now)

	var undo undoFunc
	if op.Rate != nil {
		ok, _, u := s.allowUndo(*op.Rate, now)
		if !ok {
			return store.CheckResult{Status: store.CheckLimited}, nil
		}
		undo = u
	}
	if len(op.Ops) > 0 {
		i, err := s.records.Precheck(op.Ops)
		if err != nil {
			undo.run()
			return store.CheckResult{}, unavailable(err)
		}
		if i >= 0 {
			return store.CheckResult{Status: store.Conflict, Op: i}, nil
		}
	}
	rec := s.codes[op.CodeKey]
	if rec != nil && !now.Before(rec.expires) {
		delete(s.codes, op.CodeKey)
		rec = nil
	}
	if rec == nil {
		return store.CheckResult{Status: store.NoCode}, nil
	}
	if rec.attempts >= op.MaxAttempts {
		return store.CheckResult{Status: store.Exhausted, Attempts: rec.attempts}, nil
	}
	if rec.digest == nil {
		return store.CheckResult{Status: store.NoCode, Attempts: rec.attempts}, nil
	}
	if !hmac.Equal(rec.digest, op.Digest) {
		rec.attempts++
		if rec.attempts >= op.MaxAttempts {
			rec.digest = nil
			return store.CheckResult{Status: store.Exhausted, Attempts: rec.attempts}, nil
		}
		return store.CheckResult{Status: store.Mismatch, Attempts: rec.attempts}, nil
	}
	if op.Keep {
		return store.CheckResult{Status: store.Passed, Attempts: rec.attempts}, nil
	}
	if len(op.Ops) > 0 {
		// Records first: the code is consumed only once they are written.
		i, err := s.records.Apply(op.Ops)
		if err != nil {
			undo.run()
			return store.CheckResult{}, unavailable(err)
		}
		if i >= 0 { // cannot happen under the lock; report it as Precheck would
			return store.CheckResult{Status: store.Conflict, Op: i}, nil
		}
	}
	delete(s.codes, op.CodeKey)
	if !rec.issued.IsZero() {
		s.meters.credit(op.Credit, rec.issued, now)
	}
	return store.CheckResult{Status: store.Passed, Attempts: rec.attempts}, nil
}

// Allow consumes one event of rate r and reports whether it was within the limit.
func (s *Store) Allow(ctx context.Context, r store.Rate, now time.Time) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	s.sweep(now)
	ok, _, _ := s.allowUndo(r, now)
	return ok, nil
}

// undoFunc reverts a consumed rate event when the operation that consumed it
// fails; nil does nothing.
type undoFunc func()

func (u undoFunc) run() {
	if u != nil {
		u()
	}
}

// allowUndo is GCRA with a burst of r.Limit: Limit events at once, then one
// every Per/Limit. When the event is allowed it also returns a function that
// gives it back.
func (s *Store) allowUndo(r store.Rate, now time.Time) (bool, time.Duration, undoFunc) {
	if r.Limit <= 0 || r.Per <= 0 {
		return false, r.Per, nil
	}
	interval := r.Per / time.Duration(r.Limit)
	prev, had := s.rates[r.Key]
	tat := prev
	if !had || tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	if over := next.Sub(now) - r.Per; over > 0 {
		return false, over, nil
	}
	s.rates[r.Key] = next
	return true, 0, func() {
		if had {
			s.rates[r.Key] = prev
		} else {
			delete(s.rates, r.Key)
		}
	}
}

// Claim records key as used until now+ttl; it reports false when key was
// already claimed and has not expired (a replay).
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration, now time.Time) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	s.sweep(now)
	if exp, ok := s.nonces[key]; ok && now.Before(exp) {
		return false, nil
	}
	s.nonces[key] = now.Add(ttl)
	return true, nil
}

// Get returns the durable record Coll/Key.
func (s *Store) Get(ctx context.Context, coll, key string) ([]byte, bool, error) {
	if err := s.begin(ctx); err != nil {
		return nil, false, err
	}
	defer s.mu.Unlock()
	v, ok, err := s.records.Get(coll, key)
	return v, ok, unavailable(err)
}

// List returns up to limit records of coll in insertion order, skipping
// offset, and the total number of records in coll.
func (s *Store) List(ctx context.Context, coll string, offset, limit int) ([]store.Record, int, error) {
	if err := s.begin(ctx); err != nil {
		return nil, 0, err
	}
	defer s.mu.Unlock()
	recs, total, err := s.records.List(coll, max(offset, 0), limit)
	return recs, total, unavailable(err)
}

// Apply runs ops atomically: it returns -1 when all were applied, or the index
// of the first op whose precondition failed (and then changes nothing).
func (s *Store) Apply(ctx context.Context, ops []store.Op) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	i, err := s.records.Apply(ops)
	return i, unavailable(err)
}

func (s *Store) counter(coll, key string) (int64, error) {
	v, ok, err := s.records.Get(coll, key)
	if err != nil || !ok {
		return 0, err
	}
	return ParseCounter(v), nil
}

// ParseCounter reads the decimal counter written by an Incr op; anything else
// counts as 0.
func ParseCounter(v []byte) int64 {
	n, _ := strconv.ParseInt(string(v), 10, 64)
	return n
}

// sweep examines a few entries of each ephemeral map and deletes expired ones.
// Map iteration starts at a random place, so over many operations every entry
// is examined.
func (s *Store) sweep(now time.Time) {
	n := 0
	for k, rec := range s.codes {
		if !now.Before(rec.expires) {
			delete(s.codes, k)
		}
		if n++; n >= sweepPerOp {
			break
		}
	}
	n = 0
	for k, lim := range s.limits {
		if lim.expired(now) {
			delete(s.limits, k)
		}
		if n++; n >= sweepPerOp {
			break
		}
	}
	n = 0
	for k, tat := range s.rates {
		if tat.Before(now) {
			delete(s.rates, k)
		}
		if n++; n >= sweepPerOp {
			break
		}
	}
	n = 0
	for k, exp := range s.nonces {
		if !now.Before(exp) {
			delete(s.nonces, k)
		}
		if n++; n >= sweepPerOp {
			break
		}
	}
	s.meters.sweep(now)
}

func (l *limitRec) expired(now time.Time) bool {
	if now.Before(l.cooldownUntil) {
		return false
	}
	for _, w := range l.windows {
		if now.Before(w.start.Add(w.period)) {
			return false
		}
	}
	return true
}

// Reset forgets the state of account (every key with its hash tag), or all
// state when account is empty: codes, limits, rate buckets, nonces and the
// durable records of its collections.
func (s *Store) Reset(ctx context.Context, account string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	var prefixes []string // nil: everything
	recPrefix := ""
	if account != "" {
		// Records live in account-wide collections only.
		prefixes, recPrefix = store.Prefixes(account), store.TagPrefix(account)
	}
	if err := s.records.Reset(recPrefix); err != nil {
		return unavailable(err)
	}
	deletePrefix(s.codes, prefixes)
	deletePrefix(s.limits, prefixes)
	deletePrefix(s.rates, prefixes)
	deletePrefix(s.nonces, prefixes)
	deletePrefix(s.meters.counters, prefixes)
	deletePrefix(s.meters.convs, prefixes)
	return nil
}

// deletePrefix deletes the keys of m that start with one of prefixes, or
// every key when prefixes is nil.
func deletePrefix[V any](m map[string]V, prefixes []string) {
	if prefixes == nil {
		clear(m)
		return
	}
	for k := range m {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				delete(m, k)
				break
			}
		}
	}
}

// Len reports the number of live ephemeral entries (codes, limits, rate
// buckets, nonces); tests use it to show that expired state is evicted.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.codes) + len(s.limits) + len(s.rates) + len(s.nonces) + s.meters.len()
}
