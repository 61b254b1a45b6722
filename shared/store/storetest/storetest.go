// Package storetest is the conformance suite every verifyfn store passes, in
// the spirit of testing/fstest: a store package calls Run from its tests with
// a function that builds a fresh Harness, and the suite checks the semantics
// of the store model (package store) that the engine and the services rely
// on: code lifetime, cooldowns, window caps, attempt caps (carried over on a
// resend, fresh after a burn), single use, checks that keep the code,
// revocation, durable records and their preconditions, listing order and
// paging, nonce replay, rate limits, atomicity under concurrent calls, and
// the test kit's reset (of one account and of all).
//
// Time: stores that honour the Now of each operation (memstore, filestore)
// get a fake clock that Advance moves at once. Stores on a server clock
// (redisstore) ignore Now; their Advance sleeps. The suite therefore uses
// durations of about a second wherever time must pass, checks "still
// refused" right away and "allowed again" after the duration plus a margin,
// and runs its subtests in parallel, so a server-clock store takes a few
// seconds of real time.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/store"
)

// Harness is a store under test with its notion of time. Subtests may share
// one store: every subtest uses keys of its own account.
type Harness struct {
	Store store.Store
	// Now is the time passed to operations (stores on a server clock ignore
	// it). Default time.Now.
	Now func() time.Time
	// Advance lets d pass for the store: it moves a fake clock, or sleeps
	// for a store on a server clock. Default time.Sleep.
	Advance func(d time.Duration)
	// Jump moves the store's clock at once by a long time (a day, a
	// month), for the calendar counters' cases; nil for a store on a
	// server clock, whose calendar cases then stay within one period.
	Jump func(d time.Duration)
}

// margin is added whenever the suite waits for something to expire, for
// stores whose clock is real.
const margin = 60 * time.Millisecond

// Run runs the suite. newHarness is called once per subtest.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	tests := []struct {
		name string
		fn   func(*fixture)
	}{
		{"IssueThenCheckPassesOnce", testSingleUse},
		{"TTLExpiry", testTTL},
		{"CodesOfOneDestinationApart", testCodesApart},
		{"Cooldown", testCooldown},
		{"RefusedIssueChangesNothing", testRefusedIssue},
		{"RefusalByOneHalfChangesNothingElse", testRefusalHalves},
		{"WindowCaps", testWindows},
		{"AttemptCap", testAttemptCap},
		{"ResendCarriesAttempts", testCarryOver},
		{"FreshBudgetAfterBurn", testFreshAfterBurn},
		{"Revoke", testRevoke},
		{"Guard", testGuard},
		{"CheckAppliesRecords", testCheckOps},
		{"CheckPreconditionsFirst", testCheckPreconditionsFirst},
		{"KeepChecksWithoutConsuming", testKeep},
		{"KeepCountsAttempts", testKeepAttempts},
		{"KeepConsumesRate", testKeepRate},
		{"ApplyPreconditions", testApply},
		{"ApplyAllOrNothing", testApplyAtomic},
		{"ValuesRoundTrip", testValues},
		{"ListOrderAndPaging", testList},
		{"NonceReplay", testNonce},
		{"RateLimit", testRate},
		{"RateLimitInIssueAndCheck", testRateInOps},
		{"CancelledContext", testCancelled},
		{"ConcurrentIssueOneWins", testConcurrentIssue},
		{"ConcurrentWrongGuesses", testConcurrentWrong},
		{"ConcurrentRightChecks", testConcurrentRight},
		{"ConcurrentMixedGuesses", testConcurrentMixed},
		{"ConcurrentKeepThenConsume", testConcurrentKeepThenConsume},
		{"ConcurrentAllow", testConcurrentAllow},
		{"ConcurrentClaim", testConcurrentClaim},
		{"ConcurrentIncr", testConcurrentIncr},
		{"CounterSliding", testCounterSliding},
		{"CounterAdds", testCounterAdds},
		{"CounterCalendar", testCounterCalendar},
		{"ConversionYoungIssuesNotJudged", testConversionYoung},
		{"ConversionVerifiedPasses", testConversionVerified},
		{"ConversionCooloffAndTrickle", testConversionCooloff},
		{"ConversionCreditOnlyOnConsume", testConversionCredit},
		{"ConcurrentCounter", testConcurrentCounter},
		{"ResetAccount", testResetAccount},
	}
	// Reset of every account runs first and alone: the other subtests run
	// in parallel and may share one store.
	t.Run("ResetAll", func(t *testing.T) {
		h := newHarness(t)
		if h.Now == nil {
			h.Now = time.Now
		}
		if h.Advance == nil {
			h.Advance = time.Sleep
		}
		testResetAll(&fixture{T: t, h: h, acct: "{st" + randHex(6) + "}:", ctx: context.Background()})
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			if h.Now == nil {
				h.Now = time.Now
			}
			if h.Advance == nil {
				h.Advance = time.Sleep
			}
			tc.fn(&fixture{T: t, h: h, acct: "{st" + randHex(6) + "}:", ctx: context.Background()})
		})
	}
}

type fixture struct {
	*testing.T
	h    Harness
	acct string // hash-tag prefix of every key of this subtest
	ctx  context.Context
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func digest() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

func (f *fixture) key(name string) string { return f.acct + name }

func (f *fixture) coll(name string) string { return f.acct + name }

func (f *fixture) advance(d time.Duration) { f.h.Advance(d + margin) }

// dest is a destination: its code and limit keys.
type dest struct{ code, limit string }

// dest keys the limit as shared/otp does: under the destination's own hash
// tag (store.DestTag), so on a Redis Cluster the destination's state and the
// account's live in different slots.
func (f *fixture) dest(name string) dest {
	return dest{code: f.key("code:" + name), limit: store.DestTag(f.account(), name) + "limit:" + name}
}

// issueOp is an IssueOp for d with no limits, a 10-minute TTL and 5 attempts.
func (f *fixture) issueOp(d dest, dg []byte) store.IssueOp {
	return store.IssueOp{Now: f.h.Now(), LimitKey: d.limit, CodeKey: d.code, Digest: dg, TTL: 10 * time.Minute, MaxAttempts: 5}
}

func (f *fixture) issue(op store.IssueOp) store.IssueResult {
	f.Helper()
	op.Now = f.h.Now()
	r, err := f.h.Store.Issue(f.ctx, op)
	if err != nil {
		f.Fatalf("Issue: %v", err)
	}
	return r
}

func (f *fixture) mustIssue(op store.IssueOp, wantAttempts int) {
	f.Helper()
	if r := f.issue(op); r.Status != store.Issued || r.Attempts != wantAttempts {
		f.Fatalf("Issue = %+v, want Issued with %d attempts carried", r, wantAttempts)
	}
}

func (f *fixture) check(d dest, dg []byte, maxAttempts int, ops ...store.Op) store.CheckResult {
	f.Helper()
	r, err := f.h.Store.Check(f.ctx, store.CheckOp{Now: f.h.Now(), CodeKey: d.code, LimitKey: d.limit, Digest: dg, MaxAttempts: maxAttempts, Ops: ops})
	if err != nil {
		f.Fatalf("Check: %v", err)
	}
	return r
}

func (f *fixture) wantCheck(d dest, dg []byte, maxAttempts int, want store.CheckStatus, wantAttempts int, ops ...store.Op) {
	f.Helper()
	if r := f.check(d, dg, maxAttempts, ops...); r.Status != want || r.Attempts != wantAttempts {
		f.Fatalf("Check = %+v, want status %d with %d attempts", r, want, wantAttempts)
	}
}

// keep runs a CheckOp with Keep set.
func (f *fixture) keep(d dest, dg []byte, maxAttempts int, ops ...store.Op) store.CheckResult {
	f.Helper()
	r, err := f.h.Store.Check(f.ctx, store.CheckOp{Now: f.h.Now(), CodeKey: d.code, LimitKey: d.limit, Digest: dg, MaxAttempts: maxAttempts, Ops: ops, Keep: true})
	if err != nil {
		f.Fatalf("Check with Keep: %v", err)
	}
	return r
}

func (f *fixture) wantKeep(d dest, dg []byte, maxAttempts int, want store.CheckStatus, wantAttempts int, ops ...store.Op) {
	f.Helper()
	if r := f.keep(d, dg, maxAttempts, ops...); r.Status != want || r.Attempts != wantAttempts {
		f.Fatalf("Check with Keep = %+v, want status %d with %d attempts", r, want, wantAttempts)
	}
}

func (f *fixture) apply(ops ...store.Op) int {
	f.Helper()
	i, err := f.h.Store.Apply(f.ctx, ops)
	if err != nil {
		f.Fatalf("Apply: %v", err)
	}
	return i
}

func (f *fixture) get(coll, key string) (string, bool) {
	f.Helper()
	v, ok, err := f.h.Store.Get(f.ctx, coll, key)
	if err != nil {
		f.Fatalf("Get: %v", err)
	}
	return string(v), ok
}

func (f *fixture) wantGet(coll, key, want string) {
	f.Helper()
	if v, ok := f.get(coll, key); !ok || v != want {
		f.Fatalf("Get(%s, %s) = %q, %v; want %q", coll, key, v, ok, want)
	}
}

func (f *fixture) wantMissing(coll, key string) {
	f.Helper()
	if v, ok := f.get(coll, key); ok {
		f.Fatalf("Get(%s, %s) = %q; want no record", coll, key, v)
	}
}

func (f *fixture) list(coll string, offset, limit int) ([]string, int) {
	f.Helper()
	recs, total, err := f.h.Store.List(f.ctx, coll, offset, limit)
	if err != nil {
		f.Fatalf("List: %v", err)
	}
	keys := make([]string, len(recs))
	for i, r := range recs {
		keys[i] = r.Key
		if i > 0 && r.Seq <= recs[i-1].Seq {
			f.Fatalf("List(%s): Seq not increasing: %+v", coll, recs)
		}
	}
	return keys, total
}

func testSingleUse(f *fixture) {
	d, dg := f.dest("a"), digest()
	f.mustIssue(f.issueOp(d, dg), 0)
	f.wantCheck(d, dg, 5, store.Passed, 0)
	f.wantCheck(d, dg, 5, store.NoCode, 0)
	f.wantCheck(f.dest("never"), dg, 5, store.NoCode, 0)
}

func testTTL(f *fixture) {
	d, dg := f.dest("a"), digest()
	op := f.issueOp(d, dg)
	op.TTL = time.Second
	f.mustIssue(op, 0)
	f.wantCheck(d, digest(), 5, store.Mismatch, 1)
	f.advance(time.Second)
	f.wantCheck(d, dg, 5, store.NoCode, 0)
	// A code issued after the old one expired starts with a full budget.
	f.mustIssue(f.issueOp(d, dg), 0)
	f.wantCheck(d, dg, 5, store.Passed, 0)
}

// Two codes of one destination (two purposes: one limit key) live, expire,
// count attempts and are revoked apart; a short-lived code issued after a
// long-lived one does not cut the long one's life short.
func testCodesApart(f *fixture) {
	long := f.dest("a")
	short := dest{code: f.key("code:a|other"), limit: long.limit}
	dl, ds := digest(), digest()
	f.mustIssue(f.issueOp(long, dl), 0)
	f.wantCheck(long, digest(), 5, store.Mismatch, 1)
	op := f.issueOp(short, ds)
	op.TTL = time.Second
	f.mustIssue(op, 0)
	f.wantCheck(short, dl, 5, store.Mismatch, 1)
	f.wantCheck(short, digest(), 5, store.Mismatch, 2)
	f.advance(time.Second)
	f.wantCheck(short, ds, 5, store.NoCode, 0)
	f.wantCheck(long, digest(), 5, store.Mismatch, 2)
	// Revoking one leaves the other live.
	f.mustIssue(f.issueOp(short, ds), 0)
	if err := f.h.Store.Revoke(f.ctx, short.code, short.limit); err != nil {
		f.Fatal(err)
	}
	f.wantCheck(short, ds, 5, store.NoCode, 0)
	f.wantCheck(long, dl, 5, store.Passed, 2)
}

func testCooldown(f *fixture) {
	d := f.dest("a")
	op := f.issueOp(d, digest())
	op.Cooldown = time.Second
	f.mustIssue(op, 0)
	r := f.issue(op)
	if r.Status != store.CoolingDown || r.RetryAfter <= 0 || r.RetryAfter > time.Second {
		f.Fatalf("second Issue = %+v, want CoolingDown with RetryAfter in (0, 1s]", r)
	}
	// The cooldown is per destination.
	other := f.issueOp(f.dest("b"), digest())
	other.Cooldown = time.Second
	f.mustIssue(other, 0)
	f.advance(time.Second)
	f.mustIssue(op, 0)
}

func testRefusedIssue(f *fixture) {
	d, first := f.dest("a"), digest()
	op := f.issueOp(d, first)
	op.Cooldown = time.Hour
	f.mustIssue(op, 0)
	op.Digest = digest()
	if r := f.issue(op); r.Status != store.CoolingDown {
		f.Fatalf("Issue = %+v, want CoolingDown", r)
	}
	f.wantCheck(d, op.Digest, 5, store.Mismatch, 1) // the refused code was not stored
	f.wantCheck(d, first, 5, store.Passed, 1)
}

// testRefusalHalves: an issue that the account-wide state refuses (the
// guard) changes nothing of the destination's (code, cooldown, windows), and
// one the destination's state refuses (the cooldown) counts in no counter.
// A store that keeps the two in different places (a Redis Cluster: two
// slots) must take back the half that went through.
func testRefusalHalves(f *fixture) {
	d, first := f.dest("a"), digest()
	guard := &store.Guard{Coll: f.coll("g"), Key: "n", Max: 1}
	if i := f.apply(store.Op{Kind: store.Incr, Coll: guard.Coll, Key: guard.Key}); i != -1 {
		f.Fatalf("Apply = %d", i)
	}
	// The refusal sets no cooldown.
	cool := f.issueOp(f.dest("f"), digest())
	cool.Cooldown = time.Hour
	coolRefused := cool
	coolRefused.Guard = guard
	if r := f.issue(coolRefused); r.Status != store.GuardFull {
		f.Fatalf("Issue = %+v, want GuardFull", r)
	}
	f.mustIssue(cool, 0)
	// It keeps the code there was and counts in no window.
	op := f.issueOp(d, first)
	op.Windows = []store.Window{{Period: time.Hour, Max: 2}}
	f.mustIssue(op, 0)
	refused := op
	refused.Digest, refused.Guard = digest(), guard
	if r := f.issue(refused); r.Status != store.GuardFull {
		f.Fatalf("Issue = %+v, want GuardFull", r)
	}
	f.wantCheck(d, refused.Digest, 5, store.Mismatch, 1)
	f.mustIssue(op, 1)
	if r := f.issue(op); r.Status != store.WindowFull {
		f.Fatalf("third Issue = %+v, want WindowFull (two issues in the window)", r)
	}

	// A cooldown refusal counts in no counter.
	counter := store.Counter{Key: f.key("cnt"), Span: time.Hour, Bucket: time.Minute, Max: 2, Add: 1}
	one := f.issueOp(f.dest("b"), digest())
	one.Cooldown, one.Counters = time.Hour, []store.Counter{counter}
	f.mustIssue(one, 0)
	if r := f.issue(one); r.Status != store.CoolingDown {
		f.Fatalf("Issue = %+v, want CoolingDown", r)
	}
	two := f.issueOp(f.dest("c"), digest())
	two.Counters = one.Counters
	f.mustIssue(two, 0)
	three := f.issueOp(f.dest("e"), digest())
	three.Counters = one.Counters
	if r := f.issue(three); r.Status != store.CounterFull {
		f.Fatalf("Issue = %+v, want CounterFull (two issues counted)", r)
	}
}

func testWindows(f *fixture) {
	d := f.dest("a")
	op := f.issueOp(d, digest())
	op.Windows = []store.Window{{Period: time.Second, Max: 2}, {Period: time.Hour, Max: 3}}
	f.mustIssue(op, 0)
	f.mustIssue(op, 0)
	r := f.issue(op)
	if r.Status != store.WindowFull || r.Window != 0 || r.RetryAfter <= 0 || r.RetryAfter > time.Second {
		f.Fatalf("third Issue = %+v, want WindowFull of window 0 with RetryAfter in (0, 1s]", r)
	}
	f.advance(time.Second)
	f.mustIssue(op, 0) // window 0 restarted; window 1 now at 3
	r = f.issue(op)
	if r.Status != store.WindowFull || r.Window != 1 || r.RetryAfter <= time.Minute || r.RetryAfter > time.Hour {
		f.Fatalf("fourth Issue = %+v, want WindowFull of window 1", r)
	}
	// Windows are per destination.
	other := f.issueOp(f.dest("b"), digest())
	other.Windows = op.Windows
	f.mustIssue(other, 0)
}

func testAttemptCap(f *fixture) {
	d, dg := f.dest("a"), digest()
	op := f.issueOp(d, dg)
	op.MaxAttempts = 3
	f.mustIssue(op, 0)
	f.wantCheck(d, digest(), 3, store.Mismatch, 1)
	f.wantCheck(d, digest(), 3, store.Mismatch, 2)
	f.wantCheck(d, digest(), 3, store.Exhausted, 3)
	f.wantCheck(d, dg, 3, store.Exhausted, 3) // burned: the right code no longer passes
	f.wantCheck(d, digest(), 3, store.Exhausted, 3)
}

func testCarryOver(f *fixture) {
	d, first, second := f.dest("a"), digest(), digest()
	f.mustIssue(f.issueOp(d, first), 0)
	f.wantCheck(d, digest(), 5, store.Mismatch, 1)
	f.wantCheck(d, digest(), 5, store.Mismatch, 2)
	f.mustIssue(f.issueOp(d, second), 2)           // the resend carries the attempts
	f.wantCheck(d, first, 5, store.Mismatch, 3)    // the previous code stopped working
	f.wantCheck(d, second, 5, store.Passed, 3)     // the new one passes
	f.wantCheck(d, second, 5, store.NoCode, 0)     // once
	f.mustIssue(f.issueOp(d, digest()), 0)         // after a pass the budget is fresh
	f.wantCheck(d, digest(), 5, store.Mismatch, 1) // and counts from zero
}

func testFreshAfterBurn(f *fixture) {
	d, dg := f.dest("a"), digest()
	op := f.issueOp(d, digest())
	op.MaxAttempts = 2
	f.mustIssue(op, 0)
	f.wantCheck(d, digest(), 2, store.Mismatch, 1)
	f.wantCheck(d, digest(), 2, store.Exhausted, 2)
	op.Digest = dg
	f.mustIssue(op, 0) // a burned code carries nothing
	f.wantCheck(d, dg, 2, store.Passed, 0)
}

func testRevoke(f *fixture) {
	d, dg := f.dest("a"), digest()
	op := f.issueOp(d, dg)
	op.Cooldown = time.Hour
	f.mustIssue(op, 0)
	f.wantCheck(d, digest(), 5, store.Mismatch, 1)
	if err := f.h.Store.Revoke(f.ctx, d.code, d.limit); err != nil {
		f.Fatal(err)
	}
	f.wantCheck(d, dg, 5, store.NoCode, 1)
	// The cooldown is released and the attempts stay with the destination.
	op.Digest = digest()
	f.mustIssue(op, 1)
	f.wantCheck(d, op.Digest, 5, store.Passed, 1)
	// Revoking what does not exist is no error.
	if err := f.h.Store.Revoke(f.ctx, f.key("code:none"), f.key("limit:none")); err != nil {
		f.Fatal(err)
	}
}

func testGuard(f *fixture) {
	coll := f.coll("bound")
	op := f.issueOp(f.dest("a"), digest())
	op.Guard = &store.Guard{Coll: coll, Key: "+85251234567", Max: 2}
	f.mustIssue(op, 0) // no counter yet
	f.apply(store.Op{Kind: store.Incr, Coll: coll, Key: "+85251234567"})
	f.mustIssue(op, 0)
	f.apply(store.Op{Kind: store.Incr, Coll: coll, Key: "+85251234567"})
	if r := f.issue(op); r.Status != store.GuardFull {
		f.Fatalf("Issue = %+v, want GuardFull", r)
	}
	op.Guard.Max = 0 // no maximum
	f.mustIssue(op, 0)
}

func testCheckOps(f *fixture) {
	coll, bound := f.coll("contacts"), f.coll("bound")
	d, dg := f.dest("a"), digest()
	f.mustIssue(f.issueOp(d, dg), 0)
	ops := []store.Op{
		{Kind: store.Insert, Coll: coll, Key: "k", Value: []byte("v")},
		{Kind: store.Incr, Coll: bound, Key: "+1", Max: 5},
	}
	f.wantCheck(d, digest(), 5, store.Mismatch, 1, ops...) // a mismatch writes nothing
	f.wantMissing(coll, "k")
	f.wantCheck(d, dg, 5, store.Passed, 1, ops...)
	f.wantGet(coll, "k", "v")
	f.wantGet(bound, "+1", "1")

	// A conflict leaves the code live and costs no attempt.
	dg = digest()
	f.mustIssue(f.issueOp(d, dg), 0)
	r := f.check(d, dg, 5, store.Op{Kind: store.MustExist, Coll: coll, Key: "k"}, store.Op{Kind: store.Insert, Coll: coll, Key: "k"})
	if r.Status != store.Conflict || r.Op != 1 {
		f.Fatalf("Check = %+v, want Conflict of op 1", r)
	}
	f.wantCheck(d, dg, 5, store.Passed, 0, store.Op{Kind: store.Remove, Coll: coll, Key: "k"})
	f.wantMissing(coll, "k")
}

func testCheckPreconditionsFirst(f *fixture) {
	coll := f.coll("contacts")
	f.apply(store.Op{Kind: store.Insert, Coll: coll, Key: "k"})
	conflict := store.Op{Kind: store.Insert, Coll: coll, Key: "k"}
	d, dg := f.dest("a"), digest()
	// Reported whatever the state of the code: none, wrong, right.
	if r := f.check(d, dg, 5, conflict); r.Status != store.Conflict || r.Op != 0 {
		f.Fatalf("Check without a code = %+v, want Conflict", r)
	}
	f.mustIssue(f.issueOp(d, dg), 0)
	if r := f.check(d, digest(), 5, conflict); r.Status != store.Conflict {
		f.Fatalf("wrong code = %+v, want Conflict", r)
	}
	if r := f.check(d, dg, 5, conflict); r.Status != store.Conflict {
		f.Fatalf("right code = %+v, want Conflict", r)
	}
	f.wantCheck(d, digest(), 5, store.Mismatch, 1) // no attempt was counted before
	f.wantCheck(d, dg, 5, store.Passed, 1)
}

func testKeep(f *fixture) {
	coll, bound := f.coll("accounts"), f.coll("bound")
	d, dg := f.dest("a"), digest()
	f.wantKeep(d, dg, 5, store.NoCode, 0) // nothing sent yet
	f.mustIssue(f.issueOp(d, dg), 0)
	ops := []store.Op{
		{Kind: store.Insert, Coll: coll, Key: "k", Value: []byte("v")},
		{Kind: store.Incr, Coll: bound, Key: "+1", Max: 5},
	}
	// A match changes nothing: the code stays live, no op is applied.
	f.wantKeep(d, dg, 5, store.Passed, 0, ops...)
	f.wantKeep(d, dg, 5, store.Passed, 0, ops...)
	f.wantMissing(coll, "k")
	f.wantMissing(bound, "+1")
	// A mismatch counts as without Keep.
	f.wantKeep(d, digest(), 5, store.Mismatch, 1, ops...)
	// Preconditions come first and cost no attempt, code right or wrong.
	f.apply(store.Op{Kind: store.Insert, Coll: coll, Key: "taken"})
	conflict := store.Op{Kind: store.Insert, Coll: coll, Key: "taken"}
	for _, g := range [][]byte{dg, digest()} {
		if r := f.keep(d, g, 5, ops[0], conflict); r.Status != store.Conflict || r.Op != 1 {
			f.Fatalf("Check with Keep and a failing precondition = %+v, want Conflict of op 1", r)
		}
	}
	// The kept code still passes once without Keep, which applies the ops.
	f.wantCheck(d, dg, 5, store.Passed, 1, ops...)
	f.wantGet(coll, "k", "v")
	f.wantGet(bound, "+1", "1")
	f.wantKeep(d, dg, 5, store.NoCode, 0)
	f.wantCheck(d, dg, 5, store.NoCode, 0)
}

func testKeepAttempts(f *fixture) {
	d, dg := f.dest("a"), digest()
	op := f.issueOp(d, dg)
	op.MaxAttempts = 2
	f.mustIssue(op, 0)
	f.wantKeep(d, digest(), 2, store.Mismatch, 1)
	f.wantKeep(d, digest(), 2, store.Exhausted, 2) // burned at the cap
	f.wantKeep(d, dg, 2, store.Exhausted, 2)
	f.wantCheck(d, dg, 2, store.Exhausted, 2)
	// A resend carries the attempts spent with Keep.
	d2, dg2 := f.dest("b"), digest()
	op2 := f.issueOp(d2, digest())
	f.mustIssue(op2, 0)
	f.wantKeep(d2, digest(), 5, store.Mismatch, 1)
	op2.Digest = dg2
	f.mustIssue(op2, 1)
	f.wantKeep(d2, dg2, 5, store.Passed, 1)
	f.wantCheck(d2, dg2, 5, store.Passed, 1)
}

func testKeepRate(f *fixture) {
	d, dg := f.dest("a"), digest()
	f.mustIssue(f.issueOp(d, dg), 0)
	rate := &store.Rate{Key: f.key("rate:check"), Limit: 1, Per: time.Hour}
	keep := func() store.CheckResult {
		r, err := f.h.Store.Check(f.ctx, store.CheckOp{Now: f.h.Now(), Rate: rate, CodeKey: d.code, LimitKey: d.limit, Digest: dg, MaxAttempts: 5, Keep: true})
		if err != nil {
			f.Fatal(err)
		}
		return r
	}
	if r := keep(); r.Status != store.Passed {
		f.Fatalf("first Check with Keep = %+v, want Passed", r)
	}
	if r := keep(); r.Status != store.CheckLimited {
		f.Fatalf("second Check with Keep = %+v, want CheckLimited", r)
	}
	f.wantCheck(d, dg, 5, store.Passed, 0) // still live, no attempt counted
}

func testApply(f *fixture) {
	c := f.coll("recs")
	cases := []struct {
		op   store.Op
		want int
	}{
		{store.Op{Kind: store.MustExist, Coll: c, Key: "a"}, 0},
		{store.Op{Kind: store.MustNotExist, Coll: c, Key: "a"}, -1},
		{store.Op{Kind: store.Remove, Coll: c, Key: "a"}, 0},
		{store.Op{Kind: store.Insert, Coll: c, Key: "a", Value: []byte("1")}, -1},
		{store.Op{Kind: store.Insert, Coll: c, Key: "a", Value: []byte("2")}, 0},
		{store.Op{Kind: store.MustExist, Coll: c, Key: "a"}, -1},
		{store.Op{Kind: store.MustNotExist, Coll: c, Key: "a"}, 0},
		{store.Op{Kind: store.Put, Coll: c, Key: "a", Value: []byte("3")}, -1},
		{store.Op{Kind: store.Put, Coll: c, Key: "b", Value: []byte("4")}, -1},
		{store.Op{Kind: store.Remove, Coll: c, Key: "b"}, -1},
		{store.Op{Kind: store.Remove, Coll: c, Key: "b"}, 0},
	}
	for i, tc := range cases {
		if got := f.apply(tc.op); got != tc.want {
			f.Fatalf("case %d: Apply(%+v) = %d, want %d", i, tc.op, got, tc.want)
		}
	}
	f.wantGet(c, "a", "3")
	f.wantMissing(c, "b")

	n := f.coll("counters")
	for i := 1; i <= 3; i++ {
		if got := f.apply(store.Op{Kind: store.Incr, Coll: n, Key: "x", Max: 3}); got != -1 {
			f.Fatalf("Incr %d = %d", i, got)
		}
		f.wantGet(n, "x", fmt.Sprint(i))
	}
	if got := f.apply(store.Op{Kind: store.Incr, Coll: n, Key: "x", Max: 3}); got != 0 {
		f.Fatalf("Incr past Max = %d, want 0", got)
	}
	f.wantGet(n, "x", "3")
	for range 5 { // Max 0: no maximum
		f.apply(store.Op{Kind: store.Incr, Coll: n, Key: "y"})
	}
	f.wantGet(n, "y", "5")
	if got := f.apply(); got != -1 {
		f.Fatalf("Apply() = %d, want -1", got)
	}
}

func testApplyAtomic(f *fixture) {
	c, other := f.coll("recs"), f.coll("other")
	f.apply(store.Op{Kind: store.Insert, Coll: c, Key: "taken", Value: []byte("t")})
	got := f.apply(
		store.Op{Kind: store.Put, Coll: other, Key: "x", Value: []byte("x")},
		store.Op{Kind: store.Incr, Coll: other, Key: "n"},
		store.Op{Kind: store.Remove, Coll: c, Key: "taken"},
		store.Op{Kind: store.Insert, Coll: c, Key: "taken"},
	)
	if got != 3 {
		f.Fatalf("Apply = %d, want 3", got)
	}
	f.wantMissing(other, "x")
	f.wantMissing(other, "n")
	f.wantGet(c, "taken", "t")
	// Preconditions see the records as they are, not as earlier ops leave them.
	if got := f.apply(store.Op{Kind: store.Insert, Coll: c, Key: "new"}, store.Op{Kind: store.MustExist, Coll: c, Key: "new"}); got != 1 {
		f.Fatalf("Apply(Insert new, MustExist new) = %d, want 1", got)
	}
	f.wantMissing(c, "new")
	// Several collections in one call.
	if got := f.apply(store.Op{Kind: store.Insert, Coll: c, Key: "p"}, store.Op{Kind: store.Insert, Coll: other, Key: "q"}); got != -1 {
		f.Fatalf("Apply over two collections = %d", got)
	}
	f.wantGet(c, "p", "")
	f.wantGet(other, "q", "")
}

func testValues(f *fixture) {
	c := f.coll("bin")
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	f.apply(store.Op{Kind: store.Put, Coll: c, Key: "bytes", Value: all},
		store.Op{Kind: store.Put, Coll: c, Key: "empty"},
		store.Op{Kind: store.Put, Coll: c, Key: "ключ 键 {x}", Value: []byte("unicode")})
	v, ok, err := f.h.Store.Get(f.ctx, c, "bytes")
	if err != nil || !ok || !bytes.Equal(v, all) {
		f.Fatalf("binary value round trip: %v %v %x", err, ok, v)
	}
	f.wantGet(c, "empty", "")
	f.wantGet(c, "ключ 键 {x}", "unicode")
	recs, total, err := f.h.Store.List(f.ctx, c, 0, 10)
	if err != nil || total != 3 || len(recs) != 3 || !bytes.Equal(recs[0].Value, all) || recs[2].Key != "ключ 键 {x}" {
		f.Fatalf("List = %+v, %d, %v", recs, total, err)
	}
}

func testList(f *fixture) {
	c := f.coll("list")
	if keys, total := f.list(c, 0, 10); len(keys) != 0 || total != 0 {
		f.Fatalf("empty collection: %v, %d", keys, total)
	}
	for _, k := range []string{"k1", "k2", "k3", "k4", "k5"} {
		f.apply(store.Op{Kind: store.Insert, Coll: c, Key: k, Value: []byte("v" + k)})
	}
	f.apply(store.Op{Kind: store.Insert, Coll: f.coll("elsewhere"), Key: "x"})
	want := func(offset, limit int, wantKeys ...string) {
		f.Helper()
		keys, total := f.list(c, offset, limit)
		if total != 5 || !slices.Equal(keys, wantKeys) {
			f.Fatalf("List(%d, %d) = %v, %d; want %v, 5", offset, limit, keys, total, wantKeys)
		}
	}
	want(0, 10, "k1", "k2", "k3", "k4", "k5")
	want(1, 2, "k2", "k3")
	want(4, 10, "k5")
	want(5, 10)
	want(9, 10)
	want(0, 0)
	recs, _, _ := f.h.Store.List(f.ctx, c, 2, 1)
	if len(recs) != 1 || string(recs[0].Value) != "vk3" {
		f.Fatalf("List value: %+v", recs)
	}
	// Put keeps a record's place; removing and inserting again moves it last.
	f.apply(store.Op{Kind: store.Put, Coll: c, Key: "k3", Value: []byte("new")})
	f.apply(store.Op{Kind: store.Remove, Coll: c, Key: "k2"})
	f.apply(store.Op{Kind: store.Insert, Coll: c, Key: "k2"})
	want(0, 10, "k1", "k3", "k4", "k5", "k2")
	for _, k := range []string{"k1", "k2", "k3", "k4", "k5"} {
		f.apply(store.Op{Kind: store.Remove, Coll: c, Key: k})
	}
	if keys, total := f.list(c, 0, 10); len(keys) != 0 || total != 0 {
		f.Fatalf("emptied collection: %v, %d", keys, total)
	}
}

func (f *fixture) claim(key string, ttl time.Duration) bool {
	f.Helper()
	ok, err := f.h.Store.Claim(f.ctx, key, ttl, f.h.Now())
	if err != nil {
		f.Fatalf("Claim: %v", err)
	}
	return ok
}

func testNonce(f *fixture) {
	k := f.key("nonce:1")
	if !f.claim(k, time.Second) {
		f.Fatal("first claim refused")
	}
	if f.claim(k, time.Second) {
		f.Fatal("replay accepted")
	}
	if !f.claim(f.key("nonce:2"), time.Second) {
		f.Fatal("another nonce refused")
	}
	f.advance(time.Second)
	if !f.claim(k, time.Second) {
		f.Fatal("claim after expiry refused")
	}
}

func (f *fixture) allow(r store.Rate) bool {
	f.Helper()
	ok, err := f.h.Store.Allow(f.ctx, r, f.h.Now())
	if err != nil {
		f.Fatalf("Allow: %v", err)
	}
	return ok
}

func testRate(f *fixture) {
	r := store.Rate{Key: f.key("rate:a"), Limit: 3, Per: 3 * time.Second}
	for i := range 3 {
		if !f.allow(r) {
			f.Fatalf("event %d of the burst refused", i+1)
		}
	}
	if f.allow(r) {
		f.Fatal("event past the burst allowed")
	}
	if !f.allow(store.Rate{Key: f.key("rate:b"), Limit: 3, Per: r.Per}) {
		f.Fatal("another key refused")
	}
	f.advance(r.Per / 3) // one emission interval frees one event
	if !f.allow(r) {
		f.Fatal("event after one interval refused")
	}
	if f.allow(r) {
		f.Fatal("second event after one interval allowed")
	}
	if f.allow(store.Rate{Key: f.key("rate:zero"), Limit: 0, Per: time.Second}) {
		f.Fatal("a zero limit allowed an event")
	}
}

func testRateInOps(f *fixture) {
	rate := &store.Rate{Key: f.key("rate:send"), Limit: 1, Per: time.Hour}
	op := f.issueOp(f.dest("a"), digest())
	op.Rate = rate
	f.mustIssue(op, 0)
	op = f.issueOp(f.dest("b"), digest())
	op.Rate = rate
	if r := f.issue(op); r.Status != store.RateLimited || r.RetryAfter <= 0 {
		f.Fatalf("Issue = %+v, want RateLimited with a RetryAfter", r)
	}
	d, dg := f.dest("c"), digest()
	f.mustIssue(f.issueOp(d, dg), 0)
	crate := &store.Rate{Key: f.key("rate:check"), Limit: 1, Per: time.Hour}
	check := func() store.CheckResult {
		r, err := f.h.Store.Check(f.ctx, store.CheckOp{Now: f.h.Now(), Rate: crate, CodeKey: d.code, LimitKey: d.limit, Digest: digest(), MaxAttempts: 5})
		if err != nil {
			f.Fatal(err)
		}
		return r
	}
	if r := check(); r.Status != store.Mismatch {
		f.Fatalf("first Check = %+v, want Mismatch", r)
	}
	if r := check(); r.Status != store.CheckLimited {
		f.Fatalf("second Check = %+v, want CheckLimited", r)
	}
	f.wantCheck(d, dg, 5, store.Passed, 1) // a limited check counted no attempt
}

func testCancelled(f *fixture) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, now, d := f.h.Store, f.h.Now(), f.dest("a")
	errs := map[string]error{}
	_, errs["Issue"] = s.Issue(ctx, f.issueOp(d, digest()))
	errs["Revoke"] = s.Revoke(ctx, d.code, d.limit)
	_, errs["Check"] = s.Check(ctx, store.CheckOp{Now: now, CodeKey: d.code, LimitKey: d.limit, Digest: digest(), MaxAttempts: 5})
	_, errs["Allow"] = s.Allow(ctx, store.Rate{Key: f.key("r"), Limit: 1, Per: time.Second}, now)
	_, errs["Claim"] = s.Claim(ctx, f.key("n"), time.Second, now)
	_, _, errs["Get"] = s.Get(ctx, f.coll("c"), "k")
	_, _, errs["List"] = s.List(ctx, f.coll("c"), 0, 1)
	_, errs["Apply"] = s.Apply(ctx, []store.Op{{Kind: store.Insert, Coll: f.coll("c"), Key: "k"}})
	for name, err := range errs {
		if err == nil {
			f.Errorf("%s with a cancelled context: no error", name)
		}
	}
	f.wantMissing(f.coll("c"), "k")
	f.mustIssue(f.issueOp(d, digest()), 0)
}

// parallel runs fn n times at once and returns the results.
func parallel[T any](f *fixture, n int, fn func(i int) (T, error)) []T {
	out := make([]T, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			out[i], errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			f.Fatal(err)
		}
	}
	return out
}

func count[T comparable](xs []T, x T) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

func testConcurrentIssue(f *fixture) {
	d := f.dest("a")
	res := parallel(f, 200, func(int) (store.IssueStatus, error) {
		op := f.issueOp(d, digest())
		op.Cooldown = time.Hour
		r, err := f.h.Store.Issue(f.ctx, op)
		return r.Status, err
	})
	if n, c := count(res, store.Issued), count(res, store.CoolingDown); n != 1 || c != 199 {
		f.Fatalf("200 concurrent sends: %d issued, %d cooling down; want 1 and 199", n, c)
	}
}

func testConcurrentWrong(f *fixture) {
	d, dg := f.dest("a"), digest()
	f.mustIssue(f.issueOp(d, dg), 0)
	res := parallel(f, 200, func(int) (store.CheckResult, error) {
		return f.h.Store.Check(f.ctx, store.CheckOp{Now: f.h.Now(), CodeKey: d.code, LimitKey: d.limit, Digest: digest(), MaxAttempts: 5})
	})
	var mismatches, exhausted int
	seen := map[int]bool{}
	for _, r := range res {
		switch r.Status {
		case store.Mismatch:
			mismatches++
			if seen[r.Attempts] {
				f.Fatalf("two mismatches reported attempt %d", r.Attempts)
			}
			seen[r.Attempts] = true
		case store.Exhausted:
			exhausted++
		default:
			f.Fatalf("unexpected %+v", r)
		}
	}
	if mismatches != 4 || exhausted != 196 {
		f.Fatalf("200 concurrent wrong guesses, 5 attempts: %d mismatches, %d exhausted; want 4 and 196", mismatches, exhausted)
	}
	f.wantCheck(d, dg, 5, store.Exhausted, 5)
}

func testConcurrentRight(f *fixture) {
	coll := f.coll("once")
	d, dg := f.dest("a"), digest()
	f.mustIssue(f.issueOp(d, dg), 0)
	res := parallel(f, 50, func(int) (store.CheckStatus, error) {
		r, err := f.h.Store.Check(f.ctx, store.CheckOp{Now: f.h.Now(), CodeKey: d.code, LimitKey: d.limit, Digest: dg, MaxAttempts: 5,
			Ops: []store.Op{{Kind: store.Incr, Coll: coll, Key: "passes"}}})
		return r.Status, err
	})
	if p, n := count(res, store.Passed), count(res, store.NoCode); p != 1 || n != 49 {
		f.Fatalf("50 concurrent right checks: %d passed, %d no code; want 1 and 49", p, n)
	}
	f.wantGet(coll, "passes", "1")
}

func testConcurrentMixed(f *fixture) {
	for round := range 5 {
		d, dg := f.dest(fmt.Sprint("m", round)), digest()
		f.mustIssue(f.issueOp(d, dg), 0)
		res := parallel(f, 50, func(i int) (store.CheckStatus, error) {
			g := digest()
			if i == 25 {
				g = dg
			}
			r, err := f.h.Store.Check(f.ctx, store.CheckOp{Now: f.h.Now(), CodeKey: d.code, LimitKey: d.limit, Digest: g, MaxAttempts: 5})
			return r.Status, err
		})
		if p, m := count(res, store.Passed), count(res, store.Mismatch); p > 1 || m > 4 {
			f.Fatalf("49 wrong and 1 right guess at once: %d passed, %d mismatches; want at most 1 and 4", p, m)
		}
	}
}

// testConcurrentKeepThenConsume: many requests with the right code each
// check with Keep and, when that passed, consume: exactly one consume passes
// and applies its ops; every other request finds no code, at its Keep check
// or at its consume.
func testConcurrentKeepThenConsume(f *fixture) {
	coll := f.coll("once")
	d, dg := f.dest("a"), digest()
	f.mustIssue(f.issueOp(d, dg), 0)
	ops := []store.Op{{Kind: store.Incr, Coll: coll, Key: "passes"}}
	res := parallel(f, 50, func(int) (store.CheckStatus, error) {
		r, err := f.h.Store.Check(f.ctx, store.CheckOp{Now: f.h.Now(), CodeKey: d.code, LimitKey: d.limit, Digest: dg, MaxAttempts: 5, Ops: ops, Keep: true})
		if err != nil || r.Status != store.Passed {
			return r.Status, err
		}
		r, err = f.h.Store.Check(f.ctx, store.CheckOp{Now: f.h.Now(), CodeKey: d.code, LimitKey: d.limit, Digest: dg, MaxAttempts: 5, Ops: ops})
		return r.Status, err
	})
	if p, n := count(res, store.Passed), count(res, store.NoCode); p != 1 || n != 49 {
		f.Fatalf("50 concurrent Keep-then-consume: %v; want 1 passed and 49 no code", res)
	}
	f.wantGet(coll, "passes", "1")
}

func testConcurrentAllow(f *fixture) {
	r := store.Rate{Key: f.key("rate:c"), Limit: 50, Per: time.Hour}
	res := parallel(f, 200, func(int) (bool, error) { return f.h.Store.Allow(f.ctx, r, f.h.Now()) })
	if n := count(res, true); n != 50 {
		f.Fatalf("200 concurrent events, limit 50: %d allowed", n)
	}
}

func testConcurrentClaim(f *fixture) {
	k := f.key("nonce:c")
	res := parallel(f, 100, func(int) (bool, error) { return f.h.Store.Claim(f.ctx, k, time.Hour, f.h.Now()) })
	if n := count(res, true); n != 1 {
		f.Fatalf("100 concurrent claims of one nonce: %d succeeded", n)
	}
}

func testConcurrentIncr(f *fixture) {
	c := f.coll("counter")
	res := parallel(f, 100, func(int) (int, error) {
		return f.h.Store.Apply(f.ctx, []store.Op{{Kind: store.Incr, Coll: c, Key: "n", Max: 10}})
	})
	if n := count(res, -1); n != 10 {
		f.Fatalf("100 concurrent increments, Max 10: %d applied", n)
	}
	f.wantGet(c, "n", "10")
}

// state is what one account of a fixture writes through every operation.
type state struct {
	d     dest
	dg    []byte
	burnt dest
	rate  store.Rate
	nonce string
	coll  string
}

// writeState writes a code (one wrong guess spent), a burned code, a
// cooldown and a full window, an exhausted rate bucket, a claimed nonce and a
// durable record (and its collection's order) for f's account.
func (f *fixture) writeState() state {
	f.Helper()
	st := state{d: f.dest("a"), dg: digest(), burnt: f.dest("b"), rate: store.Rate{Key: f.key("rate:x"), Limit: 1, Per: time.Hour},
		nonce: f.key("nonce:x"), coll: f.coll("records")}
	op := f.issueOp(st.d, st.dg)
	op.Cooldown = time.Hour
	op.Windows = []store.Window{{Period: time.Hour, Max: 1}}
	f.mustIssue(op, 0)
	f.wantCheck(st.d, digest(), 5, store.Mismatch, 1)
	f.mustIssue(f.issueOp(st.burnt, digest()), 0)
	f.wantCheck(st.burnt, digest(), 1, store.Exhausted, 1)
	if !f.allow(st.rate) || f.allow(st.rate) {
		f.Fatal("a rate of 1 an hour did not allow exactly one event")
	}
	if !f.claim(st.nonce, time.Hour) {
		f.Fatal("first claim refused")
	}
	if f.apply(store.Op{Kind: store.Insert, Coll: st.coll, Key: "k", Value: []byte("v")}, store.Op{Kind: store.Incr, Coll: st.coll, Key: "n"}) != -1 {
		f.Fatal("Apply refused")
	}
	f.wantMeterIssued("meter", f.resetCounter(), nil) // the fraud guard's counter is full now
	return st
}

// resetCounter is a counter of one issue a day, for the Reset cases.
func (f *fixture) resetCounter() []store.Counter {
	return []store.Counter{{Key: f.key("fg:d"), Period: store.Day, Max: 1, Add: 1}}
}

// wantState checks that what writeState wrote is all there.
func (f *fixture) wantState(st state) {
	f.Helper()
	op := f.issueOp(st.d, digest())
	op.Cooldown, op.Windows = time.Hour, []store.Window{{Period: time.Hour, Max: 1}}
	if r := f.issue(op); r.Status != store.CoolingDown {
		f.Fatalf("Issue after a kept state = %+v, want CoolingDown", r)
	}
	f.wantCheck(st.d, st.dg, 5, store.Passed, 1)
	f.wantCheck(st.burnt, digest(), 1, store.Exhausted, 1)
	if f.allow(st.rate) {
		f.Fatal("the kept rate bucket allowed an event")
	}
	if f.claim(st.nonce, time.Hour) {
		f.Fatal("the kept nonce was claimed again")
	}
	f.wantGet(st.coll, "k", "v")
	if keys, total := f.list(st.coll, 0, 10); total != 2 || len(keys) != 2 {
		f.Fatalf("List after a kept state = %v, %d", keys, total)
	}
	if r, _, _ := f.meterIssue("meter2", f.resetCounter(), nil); r.Status != store.CounterFull {
		f.Fatalf("Issue under the kept counter = %+v, want CounterFull", r)
	}
}

// wantForgotten checks that nothing writeState wrote is left: the code is
// gone, the burned code's attempts too (a new code starts with a full
// budget), the cooldown and the window are free, the rate bucket is full
// again, the nonce is fresh and the records and their order are gone.
func (f *fixture) wantForgotten(st state) {
	f.Helper()
	f.wantCheck(st.d, st.dg, 5, store.NoCode, 0)
	op := f.issueOp(st.d, st.dg)
	op.Cooldown, op.Windows = time.Hour, []store.Window{{Period: time.Hour, Max: 1}}
	f.mustIssue(op, 0)
	f.mustIssue(f.issueOp(st.burnt, digest()), 0)
	if !f.allow(st.rate) {
		f.Fatal("the rate bucket was kept")
	}
	if !f.claim(st.nonce, time.Hour) {
		f.Fatal("the nonce was kept")
	}
	f.wantMissing(st.coll, "k")
	if keys, total := f.list(st.coll, 0, 10); total != 0 || len(keys) != 0 {
		f.Fatalf("List after reset = %v, %d; want nothing", keys, total)
	}
	// A record inserted again starts a fresh order.
	if f.apply(store.Op{Kind: store.Insert, Coll: st.coll, Key: "k", Value: []byte("w")}) != -1 {
		f.Fatal("Insert after reset refused")
	}
	f.wantGet(st.coll, "k", "w")
	f.wantMeterIssued("meter2", f.resetCounter(), nil) // the counter was forgotten
}

func (f *fixture) reset(account string) {
	f.Helper()
	if err := f.h.Store.Reset(f.ctx, account); err != nil {
		f.Fatalf("Reset(%q): %v", account, err)
	}
}

// account is the fixture's account: its key prefix without the braces and colon.
func (f *fixture) account() string { return f.acct[1 : len(f.acct)-2] }

// other is a fixture on the same store for another account.
func (f *fixture) other() *fixture {
	o := *f
	o.acct = "{st" + randHex(6) + "}:"
	return &o
}

// testResetAccount: Reset of one account forgets all its state and none of
// another account's, including an account whose name extends its name.
func testResetAccount(f *fixture) {
	other, longer := f.other(), f.other()
	longer.acct = "{" + f.account() + "x}:"
	st, ost, lst := f.writeState(), other.writeState(), longer.writeState()
	f.reset(f.account())
	f.reset("no-such-account")
	f.wantForgotten(st)
	other.wantState(ost) // wantState consumes the code: check each state once
	longer.wantState(lst)
}

// testResetAll: Reset("") forgets the state of every account.
func testResetAll(f *fixture) {
	other := f.other()
	st, ost := f.writeState(), other.writeState()
	f.reset("")
	f.wantForgotten(st)
	other.wantForgotten(ost)
	f.reset("") // on an empty store too
}
