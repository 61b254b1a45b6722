package filestore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/testclock"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/filestore"
	"github.com/verifyfn/verifyfn/shared/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		st, err := filestore.Open(filepath.Join(t.TempDir(), "verifyfn.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		clk := testclock.New(time.Unix(1_700_000_000, 0))
		return storetest.Harness{Store: st, Now: clk.Now, Advance: clk.Advance, Jump: clk.Advance}
	})
}

// Records written by Apply and by a passing Check survive closing and
// reopening the file, in order; codes do not.
func TestReopenKeepsRecords(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "verifyfn.db")
	now := time.Now()
	st, err := filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if i, err := st.Apply(ctx, []store.Op{
		{Kind: store.Insert, Coll: "{1}:contacts", Key: "a", Value: []byte("A")},
		{Kind: store.Insert, Coll: "{1}:contacts", Key: "b", Value: []byte("B")},
		{Kind: store.Incr, Coll: "{1}:bound", Key: "+1"},
	}); i != -1 || err != nil {
		t.Fatal(i, err)
	}
	dg := []byte("digest-digest-digest-digest-0123")
	if _, err := st.Issue(ctx, store.IssueOp{Now: now, LimitKey: "{1}:l", CodeKey: "{1}:c", Digest: dg, TTL: time.Minute, MaxAttempts: 5}); err != nil {
		t.Fatal(err)
	}
	if r, err := st.Check(ctx, store.CheckOp{Now: now, CodeKey: "{1}:c", Digest: dg, MaxAttempts: 5,
		Ops: []store.Op{{Kind: store.Insert, Coll: "{1}:contacts", Key: "c", Value: []byte("C")}, {Kind: store.Incr, Coll: "{1}:bound", Key: "+1"}}}); err != nil || r.Status != store.Passed {
		t.Fatal(r, err)
	}
	if _, err := st.Issue(ctx, store.IssueOp{Now: now, LimitKey: "{1}:l2", CodeKey: "{1}:c2", Digest: dg, TTL: time.Minute, MaxAttempts: 5}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, total, err := st.List(ctx, "{1}:contacts", 0, 10)
	if err != nil || total != 3 || len(recs) != 3 || recs[0].Key != "a" || recs[2].Key != "c" || string(recs[2].Value) != "C" {
		t.Fatalf("after reopen: %+v %d %v", recs, total, err)
	}
	if v, ok, _ := st.Get(ctx, "{1}:bound", "+1"); !ok || string(v) != "2" {
		t.Fatalf("counter after reopen = %q %v", v, ok)
	}
	// New records continue the sequence.
	st.Apply(ctx, []store.Op{{Kind: store.Insert, Coll: "{1}:contacts", Key: "d"}})
	recs, _, _ = st.List(ctx, "{1}:contacts", 0, 10)
	if len(recs) != 4 || recs[3].Key != "d" || recs[3].Seq <= recs[2].Seq {
		t.Fatalf("after reopen and insert: %+v", recs)
	}
	// Ephemeral state is gone with the process: the code issued before is not live.
	if r, _ := st.Check(ctx, store.CheckOp{Now: now, CodeKey: "{1}:c2", Digest: dg, MaxAttempts: 5}); r.Status != store.NoCode {
		t.Fatalf("code after reopen: %+v", r)
	}
}

// A second process (here: a second Open) cannot use the same file.
func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verifyfn.db")
	st, err := filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	if _, err := filestore.Open(path); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("second Open: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second Open took %s", d)
	}
}

func TestNotAStoreFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junk")
	os.WriteFile(path, []byte(strings.Repeat("not a database ", 1000)), 0o600)
	if _, err := filestore.Open(path); err == nil {
		t.Fatal("opened a file that is not a store")
	}
}

// After Close every call fails closed.
func TestClosedFailsClosed(t *testing.T) {
	st, err := filestore.Open(filepath.Join(t.TempDir(), "verifyfn.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	st.Close()
	if _, err := st.Apply(context.Background(), []store.Op{{Kind: store.Insert, Coll: "{1}:x", Key: "k"}}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Apply after Close: %v", err)
	}
	if err := st.Ping(context.Background()); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Ping after Close: %v", err)
	}
}

// A reset is committed to the file: the records it forgot stay forgotten
// after reopening, and another account's stay.
func TestResetIsDurable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "verifyfn.db")
	st, err := filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if i, err := st.Apply(ctx, []store.Op{
		{Kind: store.Insert, Coll: "{1}:contacts", Key: "a", Value: []byte("A")},
		{Kind: store.Insert, Coll: "{2}:contacts", Key: "b", Value: []byte("B")},
	}); i != -1 || err != nil {
		t.Fatal(i, err)
	}
	if err := st.Reset(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok, _ := st.Get(ctx, "{1}:contacts", "a"); ok {
		t.Fatal("a record of the reset account came back after reopening")
	}
	if v, ok, _ := st.Get(ctx, "{2}:contacts", "b"); !ok || string(v) != "B" {
		t.Fatalf("the other account's record after reopening = %q, %v", v, ok)
	}
}
