package metrics

import (
	"context"
	"time"

	"github.com/verifyfn/verifyfn/shared/store"
)

// Store operation labels (verifyfn_store_duration_seconds{op},
// verifyfn_store_errors_total{op}).
const (
	OpIssue  = "issue"
	OpRevoke = "revoke"
	OpCheck  = "check"
	OpAllow  = "allow"
	OpClaim  = "claim"
	OpGet    = "get"
	OpList   = "list"
	OpApply  = "apply"
	OpPing   = "ping"
	OpReset  = "reset"
)

// Pinger is a store with a cheap round trip that only says whether the
// store answers (memstore, filestore and redisstore have one).
type Pinger interface {
	Ping(ctx context.Context) error
}

// ObservedStore is a store whose every operation is timed, and counted
// when it fails. It is itself a store.Store and a Pinger.
type ObservedStore struct {
	st store.Store
	m  *Metrics
}

var _ store.Store = (*ObservedStore)(nil)

// Store returns st with its operations measured. On a nil *Metrics it
// still returns a working ObservedStore that measures nothing.
func (m *Metrics) Store(st store.Store) *ObservedStore { return &ObservedStore{st: st, m: m} }

// Unwrap returns the store being measured.
func (s *ObservedStore) Unwrap() store.Store { return s.st }

func (s *ObservedStore) done(op string, start time.Time, err error) {
	if s.m != nil {
		s.m.storeOp(op, time.Since(start), err)
	}
}

// Issue runs and measures st.Issue.
func (s *ObservedStore) Issue(ctx context.Context, op store.IssueOp) (store.IssueResult, error) {
	start := time.Now()
	r, err := s.st.Issue(ctx, op)
	s.done(OpIssue, start, err)
	return r, err
}

// Revoke runs and measures st.Revoke.
func (s *ObservedStore) Revoke(ctx context.Context, codeKey, limitKey string) error {
	start := time.Now()
	err := s.st.Revoke(ctx, codeKey, limitKey)
	s.done(OpRevoke, start, err)
	return err
}

// Check runs and measures st.Check.
func (s *ObservedStore) Check(ctx context.Context, op store.CheckOp) (store.CheckResult, error) {
	start := time.Now()
	r, err := s.st.Check(ctx, op)
	s.done(OpCheck, start, err)
	return r, err
}

// Allow runs and measures st.Allow.
func (s *ObservedStore) Allow(ctx context.Context, r store.Rate, now time.Time) (bool, error) {
	start := time.Now()
	ok, err := s.st.Allow(ctx, r, now)
	s.done(OpAllow, start, err)
	return ok, err
}

// Claim runs and measures st.Claim.
func (s *ObservedStore) Claim(ctx context.Context, key string, ttl time.Duration, now time.Time) (bool, error) {
	start := time.Now()
	ok, err := s.st.Claim(ctx, key, ttl, now)
	s.done(OpClaim, start, err)
	return ok, err
}

// Get runs and measures st.Get.
func (s *ObservedStore) Get(ctx context.Context, coll, key string) ([]byte, bool, error) {
	start := time.Now()
	v, ok, err := s.st.Get(ctx, coll, key)
	s.done(OpGet, start, err)
	return v, ok, err
}

// List runs and measures st.List.
func (s *ObservedStore) List(ctx context.Context, coll string, offset, limit int) ([]store.Record, int, error) {
	start := time.Now()
	recs, n, err := s.st.List(ctx, coll, offset, limit)
	s.done(OpList, start, err)
	return recs, n, err
}

// Apply runs and measures st.Apply.
func (s *ObservedStore) Apply(ctx context.Context, ops []store.Op) (int, error) {
	start := time.Now()
	i, err := s.st.Apply(ctx, ops)
	s.done(OpApply, start, err)
	return i, err
}

// Reset runs and measures st.Reset (the test kit's control plane).
func (s *ObservedStore) Reset(ctx context.Context, account string) error {
	start := time.Now()
	err := s.st.Reset(ctx, account)
	s.done(OpReset, start, err)
	return err
}

// Ping runs and measures the store's Ping. A store without one is asked
// for a record that never exists, which costs one round trip too.
func (s *ObservedStore) Ping(ctx context.Context) error {
	start := time.Now()
	var err error
	if p, ok := s.st.(Pinger); ok {
		err = p.Ping(ctx)
	} else {
		_, _, err = s.st.Get(ctx, store.Coll("_verifyfn", "ping"), "ping")
	}
	s.done(OpPing, start, err)
	return err
}
