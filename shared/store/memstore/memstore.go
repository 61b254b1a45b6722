// Package memstore is the embedded, in-process store: every operation of the
// store model runs under one lock, so check-then-act is atomic within a single
// process. It is the store for local runs and tests; state shared by several
// instances needs a networked store.
//
// Expired ephemeral state (codes, cooldowns, windows, rate buckets, nonces) is
// evicted lazily on access and by a small random sweep on every mutation, so
// memory stays bounded by live state. Durable records are kept until deleted.
package memstore

import (
	"context"
	"crypto/hmac"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/verifyfn/verifyfn/shared/store"
)

// sweepPerOp bounds the entries examined for expiry on each mutation.
const sweepPerOp = 8

// Store is the in-process store. The zero value is not usable; call New.
type Store struct {
	mu     sync.Mutex
	codes  map[string]*codeRec
	limits map[string]*limitRec
	rates  map[string]time.Time // GCRA theoretical arrival time per key
	nonces map[string]time.Time // expiry per claimed nonce
	colls  map[string]*collection
	seq    int64
}

type codeRec struct {
	digest   []byte // nil once revoked or burned
	attempts int
	expires  time.Time
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

type collection struct {
	items map[string]*item
}

type item struct {
	value []byte
	seq   int64
}

// New returns an empty store.
func New() *Store {
	return &Store{
		codes:  map[string]*codeRec{},
		limits: map[string]*limitRec{},
		rates:  map[string]time.Time{},
		nonces: map[string]time.Time{},
		colls:  map[string]*collection{},
	}
}

// Issue runs an IssueOp atomically.
func (s *Store) Issue(ctx context.Context, op store.IssueOp) (store.IssueResult, error) {
	if err := ctx.Err(); err != nil {
		return store.IssueResult{}, err
	}
	now := op.Now
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)

	if op.Rate != nil {
		if ok, wait := s.allow(*op.Rate, now); !ok {
			return store.IssueResult{Status: store.RateLimited, RetryAfter: wait}, nil
		}
	}
	if g := op.Guard; g != nil && g.Max > 0 {
		if n := s.counter(g.Coll, g.Key); n >= g.Max {
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
	s.codes[op.CodeKey] = &codeRec{digest: slices.Clone(op.Digest), attempts: carried, expires: now.Add(op.TTL)}
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
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec := s.codes[codeKey]; rec != nil {
		rec.digest = nil
	}
	if lim := s.limits[limitKey]; lim != nil {
		lim.cooldownUntil = time.Time{}
	}
	return nil
}

// Check runs a CheckOp atomically.
func (s *Store) Check(ctx context.Context, op store.CheckOp) (store.CheckResult, error) {
	if err := ctx.Err(); err != nil {
		return store.CheckResult{}, err
	}
	now := op.Now
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)

	if op.Rate != nil {
		if ok, _ := s.allow(*op.Rate, now); !ok {
			return store.CheckResult{Status: store.CheckLimited}, nil
		}
	}
	if i := s.precheck(op.Ops); i >= 0 {
		return store.CheckResult{Status: store.Conflict, Op: i}, nil
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
	delete(s.codes, op.CodeKey)
	s.apply(op.Ops)
	return store.CheckResult{Status: store.Passed, Attempts: rec.attempts}, nil
}

// Allow consumes one event of rate r and reports whether it was within the limit.
func (s *Store) Allow(ctx context.Context, r store.Rate, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	ok, _ := s.allow(r, now)
	return ok, nil
}

// allow is GCRA with a burst of r.Limit: Limit events at once, then one every
// Per/Limit.
func (s *Store) allow(r store.Rate, now time.Time) (bool, time.Duration) {
	if r.Limit <= 0 || r.Per <= 0 {
		return false, r.Per
	}
	interval := r.Per / time.Duration(r.Limit)
	tat, ok := s.rates[r.Key]
	if !ok || tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	if over := next.Sub(now) - r.Per; over > 0 {
		return false, over
	}
	s.rates[r.Key] = next
	return true, 0
}

// Claim records key as used until now+ttl; it reports false when key was
// already claimed and has not expired (a replay).
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
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
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.item(coll, key)
	if it == nil {
		return nil, false, nil
	}
	return slices.Clone(it.value), true, nil
}

// List returns up to limit records of coll in insertion order, skipping
// offset, and the total number of records in coll.
func (s *Store) List(ctx context.Context, coll string, offset, limit int) ([]store.Record, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.colls[coll]
	if c == nil {
		return nil, 0, nil
	}
	all := make([]store.Record, 0, len(c.items))
	for k, it := range c.items {
		all = append(all, store.Record{Key: k, Value: it.value, Seq: it.seq})
	}
	slices.SortFunc(all, func(a, b store.Record) int { return int(a.Seq - b.Seq) })
	total := len(all)
	if offset >= total || limit <= 0 {
		return []store.Record{}, total, nil
	}
	end := min(total, offset+limit)
	out := make([]store.Record, 0, end-offset)
	for _, r := range all[offset:end] {
		r.Value = slices.Clone(r.Value)
		out = append(out, r)
	}
	return out, total, nil
}

// Apply runs ops atomically: it returns -1 when all were applied, or the index
// of the first op whose precondition failed (and then changes nothing).
func (s *Store) Apply(ctx context.Context, ops []store.Op) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.precheck(ops); i >= 0 {
		return i, nil
	}
	s.apply(ops)
	return -1, nil
}

func (s *Store) item(coll, key string) *item {
	if c := s.colls[coll]; c != nil {
		return c.items[key]
	}
	return nil
}

func (s *Store) counter(coll, key string) int64 {
	it := s.item(coll, key)
	if it == nil {
		return 0
	}
	n, _ := strconv.ParseInt(string(it.value), 10, 64)
	return n
}

func (s *Store) precheck(ops []store.Op) int {
	for i, op := range ops {
		exists := s.item(op.Coll, op.Key) != nil
		switch op.Kind {
		case store.Insert, store.MustNotExist:
			if exists {
				return i
			}
		case store.Remove, store.MustExist:
			if !exists {
				return i
			}
		case store.Incr:
			if op.Max > 0 && s.counter(op.Coll, op.Key) >= op.Max {
				return i
			}
		}
	}
	return -1
}

func (s *Store) apply(ops []store.Op) {
	for _, op := range ops {
		switch op.Kind {
		case store.Insert, store.Put:
			s.put(op.Coll, op.Key, slices.Clone(op.Value))
		case store.Incr:
			s.put(op.Coll, op.Key, strconv.AppendInt(nil, s.counter(op.Coll, op.Key)+1, 10))
		case store.Remove:
			if c := s.colls[op.Coll]; c != nil {
				delete(c.items, op.Key)
			}
		}
	}
}

func (s *Store) put(coll, key string, value []byte) {
	c := s.colls[coll]
	if c == nil {
		c = &collection{items: map[string]*item{}}
		s.colls[coll] = c
	}
	if it := c.items[key]; it != nil {
		it.value = value
		return
	}
	s.seq++
	c.items[key] = &item{value: value, seq: s.seq}
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

// Len reports the number of live ephemeral entries (codes, limits, rate
// buckets, nonces); tests use it to show that expired state is evicted.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.codes) + len(s.limits) + len(s.rates) + len(s.nonces)
}
