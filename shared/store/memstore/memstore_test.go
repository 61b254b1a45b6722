package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/testclock"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/memstore"
	"github.com/verifyfn/verifyfn/shared/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		clk := testclock.New(time.Unix(1_700_000_000, 0))
		st := memstore.New()
		t.Cleanup(func() { st.Close() })
		return storetest.Harness{Store: st, Now: clk.Now, Advance: clk.Advance, Jump: clk.Advance}
	})
}

// failing is a records backend whose Apply (and, when set, Precheck) fails.
type failing struct {
	memstore.Records
	failPrecheck bool
}

func (f *failing) Apply([]store.Op) (int, error) { return 0, errors.New("disk full") }

func (f *failing) Precheck(ops []store.Op) (int, error) {
	if f.failPrecheck {
		return 0, errors.New("disk gone")
	}
	return f.Records.Precheck(ops)
}

// A check whose records cannot be written fails closed and leaves the code
// live, its attempts and the rate budget untouched.
func TestCheckKeepsCodeWhenRecordsFail(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	rec := &failing{Records: memstore.NewMemRecords()}
	st := memstore.NewWithRecords(rec)
	dg := []byte("0123456789abcdef0123456789abcdef")
	if r, err := st.Issue(ctx, store.IssueOp{Now: now, LimitKey: "{a}:l", CodeKey: "{a}:c", Digest: dg, TTL: time.Minute, MaxAttempts: 5}); err != nil || r.Status != store.Issued {
		t.Fatal(r, err)
	}
	rate := &store.Rate{Key: "{a}:rate", Limit: 1, Per: time.Hour}
	op := store.CheckOp{Now: now, Rate: rate, CodeKey: "{a}:c", Digest: dg, MaxAttempts: 5,
		Ops: []store.Op{{Kind: store.Insert, Coll: "{a}:x", Key: "k"}}}
	for _, failPrecheck := range []bool{true, false} {
		rec.failPrecheck = failPrecheck
		if _, err := st.Check(ctx, op); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("Check with failing records (precheck %v): %v, want ErrUnavailable", failPrecheck, err)
		}
	}
	rec.Records, rec.failPrecheck = memstore.NewMemRecords(), false
	op.Ops = nil
	if r, err := st.Check(ctx, op); err != nil || r.Status != store.Passed || r.Attempts != 0 {
		t.Fatalf("Check after the failures = %+v, %v; want Passed, 0 attempts, within the rate", r, err)
	}
}

func TestClosed(t *testing.T) {
	st := memstore.New()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := st.Get(context.Background(), "{a}:c", "k"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Get after Close: %v", err)
	}
}

// Expired ephemeral state is evicted, so memory is bounded by live state.
func TestEviction(t *testing.T) {
	ctx := context.Background()
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	st := memstore.New()
	for i := range 100 {
		k := fmt.Sprint("{a}:", i)
		st.Issue(ctx, store.IssueOp{Now: clk.Now(), LimitKey: k + ":l", CodeKey: k + ":c", Digest: []byte("d"), TTL: time.Minute,
			Cooldown: time.Minute, Windows: []store.Window{{Period: time.Minute, Max: 1}}, MaxAttempts: 5})
		st.Claim(ctx, k+":n", time.Minute, clk.Now())
		st.Allow(ctx, store.Rate{Key: k + ":r", Limit: 10, Per: time.Minute}, clk.Now())
	}
	if n := st.Len(); n != 400 {
		t.Fatalf("Len = %d, want 400", n)
	}
	clk.Advance(time.Hour)
	for range 200 {
		st.Claim(ctx, "{a}:x", time.Nanosecond, clk.Now())
	}
	if n := st.Len(); n > 1 {
		t.Fatalf("Len after expiry = %d, want at most 1", n)
	}
}
