package otp_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/testclock"
	"github.com/verifyfn/verifyfn/shared/otp"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/memstore"
)

var key = []byte("0123456789abcdef0123456789abcdef")

// recorder keeps the last code each scope was sent.
type recorder struct {
	mu    sync.Mutex
	codes []string
	fail  bool
}

func (r *recorder) deliver(ctx context.Context, code string, ttl time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("provider down")
	}
	r.codes = append(r.codes, code)
	return nil
}

func (r *recorder) last(t *testing.T) string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.codes) == 0 {
		t.Fatal("no code delivered")
	}
	return r.codes[len(r.codes)-1]
}

// spy records the digests the engine hands to the store.
type spy struct {
	*memstore.Store
	digests [][]byte
}

func (s *spy) Issue(ctx context.Context, op store.IssueOp) (store.IssueResult, error) {
	s.digests = append(s.digests, op.Digest)
	return s.Store.Issue(ctx, op)
}

func newEngine(t *testing.T, st otp.Store, clk *testclock.Clock) *otp.Engine {
	t.Helper()
	e, err := otp.New(st, otp.Config{Key: key, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var scope = otp.Scope{Account: "1", Family: "intlpartnersmgt", Purpose: "register", Destination: "+85251234567"}

func send(e *otp.Engine, r *recorder, sc otp.Scope) error {
	return e.Send(context.Background(), otp.SendRequest{Scope: sc, Digits: 6, Deliver: r.deliver})
}

func check(e *otp.Engine, sc otp.Scope, code string) error {
	return e.Check(context.Background(), otp.CheckRequest{Scope: sc, Code: code})
}

func wrong(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestNewRejectsBadPolicy(t *testing.T) {
	st := memstore.New()
	for name, cfg := range map[string]otp.Config{
		"short key":     {Key: []byte("short")},
		"ttl over 10m":  {Key: key, TTL: 11 * time.Minute},
		"zero attempts": {Key: key, MaxAttempts: -1},
		"bad window":    {Key: key, Windows: []store.Window{{Period: time.Hour, Max: 0}}},
	} {
		if _, err := otp.New(st, cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

func TestCodesAreRandomDigitsStoredOnlyAsKeyedDigest(t *testing.T) {
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	sp := &spy{Store: memstore.New()}
	e := newEngine(t, sp, clk)
	r := &recorder{}
	seen := map[string]bool{}
	for i := range 50 {
		sc := scope
		sc.Destination = "+8520000" + string(rune('A'+i))
		if err := send(e, r, sc); err != nil {
			t.Fatal(err)
		}
		code := r.last(t)
		if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
			t.Fatalf("code %q is not 6 digits", code)
		}
		seen[code] = true
		d := sp.digests[len(sp.digests)-1]
		if len(d) != 32 || bytes.Contains(d, []byte(code)) {
			t.Fatalf("digest %x is not a 32-byte MAC free of the code", d)
		}
	}
	if len(seen) < 45 {
		t.Fatalf("only %d distinct codes in 50 draws", len(seen))
	}
}

func TestInjectedRandomness(t *testing.T) {
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	e, err := otp.New(memstore.New(), otp.Config{Key: key, Now: clk.Now, Rand: bytes.NewReader(make([]byte, 64))})
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	if err := e.Send(context.Background(), otp.SendRequest{Scope: scope, Digits: 8, Deliver: r.deliver}); err != nil {
		t.Fatal(err)
	}
	if got, want := r.last(t), "00000000"; got != want {
		t.Fatalf("code = %q, want %q (zero entropy, zero-padded)", got, want)
	}
}

func TestSingleUseAndExpiry(t *testing.T) {
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	e := newEngine(t, memstore.New(), clk)
	r := &recorder{}
	if err := send(e, r, scope); err != nil {
		t.Fatal(err)
	}
	code := r.last(t)
	if err := check(e, scope, code); err != nil {
		t.Fatalf("first check: %v", err)
	}
	if err := check(e, scope, code); !errors.Is(err, otp.ErrNoCode) {
		t.Fatalf("second check = %v, want ErrNoCode", err)
	}

	clk.Advance(2 * time.Minute)
	if err := send(e, r, scope); err != nil {
		t.Fatal(err)
	}
	code = r.last(t)
	clk.Advance(10*time.Minute - time.Second)
	clk.Advance(time.Second)
	if err := check(e, scope, code); !errors.Is(err, otp.ErrNoCode) {
		t.Fatalf("check at expiry = %v, want ErrNoCode", err)
	}
}

func TestPurposeAndDestinationBinding(t *testing.T) {
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	e := newEngine(t, memstore.New(), clk)
	r := &recorder{}
	if err := send(e, r, scope); err != nil {
		t.Fatal(err)
	}
	code := r.last(t)
	for _, other := range []otp.Scope{
		{Account: "1", Family: "intlpartnersmgt", Purpose: "other", Destination: scope.Destination},
		{Account: "2", Family: "intlpartnersmgt", Purpose: "register", Destination: scope.Destination},
		{Account: "1", Family: "smh", Purpose: "register", Destination: scope.Destination},
		{Account: "1", Family: "intlpartnersmgt", Purpose: "register", Destination: "+85251234568"},
		{Account: "1", Family: "intlpartnersmgt", Purpose: "register", Destination: scope.Destination, Extra: "inst"},
	} {
		if err := check(e, other, code); !errors.Is(err, otp.ErrNoCode) {
			t.Errorf("code passed scope %+v: %v", other, err)
		}
	}
	if err := check(e, scope, code); err != nil {
		t.Fatalf("own scope: %v", err)
	}
}

func TestAttemptCapBurnsAndResendDoesNotRefill(t *testing.T) {
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	e := newEngine(t, memstore.New(), clk)
	r := &recorder{}
	if err := send(e, r, scope); err != nil {
		t.Fatal(err)
	}
	code := r.last(t)
	for i := range 3 {
		if err := check(e, scope, wrong(code)); !errors.Is(err, otp.ErrMismatch) {
			t.Fatalf("wrong guess %d = %v, want ErrMismatch", i+1, err)
		}
	}
	clk.Advance(61 * time.Second)
	if err := send(e, r, scope); err != nil {
		t.Fatal(err)
	}
	code2 := r.last(t)
	if err := check(e, scope, code); code != code2 && !errors.Is(err, otp.ErrMismatch) {
		t.Fatalf("old code after resend = %v, want ErrMismatch", err)
	}
	if code == code2 {
		check(e, scope, wrong(code2))
	}
	// 3 + 1 attempts are spent; the fifth wrong guess burns the code.
	if err := check(e, scope, wrong(code2)); !errors.Is(err, otp.ErrExhausted) {
		t.Fatalf("fifth wrong guess = %v, want ErrExhausted", err)
	}
	if err := check(e, scope, code2); !errors.Is(err, otp.ErrExhausted) {
		t.Fatalf("right code after burn = %v, want ErrExhausted", err)
	}
	clk.Advance(61 * time.Second)
	if err := send(e, r, scope); err != nil {
		t.Fatal(err)
	}
	if err := check(e, scope, r.last(t)); err != nil {
		t.Fatalf("a new code after a burn: %v", err)
	}
}

func TestCooldownAndWindows(t *testing.T) {
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	e := newEngine(t, memstore.New(), clk)
	r := &recorder{}
	if err := send(e, r, scope); err != nil {
		t.Fatal(err)
	}
	clk.Advance(59 * time.Second)
	if err := send(e, r, scope); !errors.Is(err, otp.ErrCooldown) {
		t.Fatalf("send after 59 s = %v, want ErrCooldown", err)
	}
	other := scope
	other.Purpose = "another"
	if err := send(e, r, other); !errors.Is(err, otp.ErrCooldown) {
		t.Fatalf("the cooldown is per destination, any purpose: %v", err)
	}
	for i := 2; i <= 5; i++ {
		clk.Advance(61 * time.Second)
		if err := send(e, r, scope); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	clk.Advance(61 * time.Second)
	var we *otp.WindowError
	if err := send(e, r, scope); !errors.As(err, &we) || we.Window.Period != time.Hour {
		t.Fatalf("6th send in an hour = %v, want the hourly WindowError", err)
	}
	clk.Advance(time.Hour)
	for i := 6; i <= 10; i++ {
		if err := send(e, r, scope); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		clk.Advance(61 * time.Second)
	}
	clk.Advance(time.Hour)
	if err := send(e, r, scope); !errors.As(err, &we) || we.Window.Period != 24*time.Hour {
		t.Fatalf("11th send in a day = %v, want the daily WindowError", err)
	}
}

func TestGuard(t *testing.T) {
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	st := memstore.New()
	e := newEngine(t, st, clk)
	r := &recorder{}
	for range 5 {
		if i, err := st.Apply(context.Background(), []store.Op{{Kind: store.Incr, Coll: "bound", Key: scope.Destination, Max: 5}}); err != nil || i != -1 {
			t.Fatalf("Apply = %d, %v", i, err)
		}
	}
	err := e.Send(context.Background(), otp.SendRequest{Scope: scope, Digits: 6, Deliver: r.deliver,
		Guard: &store.Guard{Coll: "bound", Key: scope.Destination, Max: 5}})
	if !errors.Is(err, otp.ErrGuardFull) {
		t.Fatalf("Send with a full guard = %v, want ErrGuardFull", err)
	}
}

func TestDeliveryFailureRevokes(t *testing.T) {
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	e := newEngine(t, memstore.New(), clk)
	r := &recorder{}
	var issued string
	err := e.Send(context.Background(), otp.SendRequest{Scope: scope, Digits: 6, Deliver: func(ctx context.Context, code string, ttl time.Duration) error {
		issued = code
		return errors.New("provider down")
	}})
	if !errors.Is(err, otp.ErrDelivery) {
		t.Fatalf("Send = %v, want ErrDelivery", err)
	}
	if err := check(e, scope, issued); !errors.Is(err, otp.ErrNoCode) {
		t.Fatalf("the undelivered code = %v, want ErrNoCode", err)
	}
	if err := send(e, r, scope); err != nil {
		t.Fatalf("an immediate retry after a delivery failure: %v", err)
	}
}

func TestCheckOpsAreAllOrNothing(t *testing.T) {
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	st := memstore.New()
	e := newEngine(t, st, clk)
	r := &recorder{}
	if err := send(e, r, scope); err != nil {
		t.Fatal(err)
	}
	st.Apply(context.Background(), []store.Op{{Kind: store.Put, Coll: "mail", Key: "a@b.co", Value: []byte("x")}})
	ops := []store.Op{
		{Kind: store.Incr, Coll: "bound", Key: scope.Destination, Max: 5},
		{Kind: store.Insert, Coll: "mail", Key: "a@b.co", Value: []byte("y")},
	}
	var ce *otp.ConflictError
	err := e.Check(context.Background(), otp.CheckRequest{Scope: scope, Code: r.last(t), Ops: ops})
	if !errors.As(err, &ce) || ce.Op != 1 {
		t.Fatalf("Check = %v, want a conflict on op 1", err)
	}
	if v, ok, _ := st.Get(context.Background(), "bound", scope.Destination); ok {
		t.Fatalf("op 0 was applied (%s) although op 1 failed", v)
	}
	ops[1].Key = "c@d.co"
	if err := e.Check(context.Background(), otp.CheckRequest{Scope: scope, Code: r.last(t), Ops: ops}); err != nil {
		t.Fatalf("the code must survive a conflict: %v", err)
	}
	if v, _, _ := st.Get(context.Background(), "bound", scope.Destination); string(v) != "1" {
		t.Fatalf("bound = %q, want 1", v)
	}
}

func TestKeepChecksWithoutConsuming(t *testing.T) {
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	st := memstore.New()
	e := newEngine(t, st, clk)
	r := &recorder{}
	if err := send(e, r, scope); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ops := []store.Op{{Kind: store.Incr, Coll: "bound", Key: scope.Destination, Max: 5}}
	keep := otp.CheckRequest{Scope: scope, Code: r.last(t), Ops: ops, Keep: true}
	for range 2 {
		if err := e.Check(ctx, keep); err != nil {
			t.Fatalf("Keep check with the right code: %v", err)
		}
	}
	if v, ok, _ := st.Get(ctx, "bound", scope.Destination); ok {
		t.Fatalf("a Keep check applied its op (%s)", v)
	}
	wrong := keep
	wrong.Code = "000000"
	if r.last(t) == wrong.Code {
		wrong.Code = "000001"
	}
	if err := e.Check(ctx, wrong); !errors.Is(err, otp.ErrMismatch) {
		t.Fatalf("Keep check with a wrong code = %v, want ErrMismatch", err)
	}
	if err := e.Check(ctx, otp.CheckRequest{Scope: scope, Code: r.last(t), Ops: ops}); err != nil {
		t.Fatalf("consuming after Keep checks: %v", err)
	}
	if v, _, _ := st.Get(ctx, "bound", scope.Destination); string(v) != "1" {
		t.Fatalf("bound = %q, want 1", v)
	}
	if err := e.Check(ctx, keep); !errors.Is(err, otp.ErrNoCode) {
		t.Fatalf("Keep check of a consumed code = %v, want ErrNoCode", err)
	}
}

func TestConcurrentSendsOneMessage(t *testing.T) {
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	e := newEngine(t, memstore.New(), clk)
	r := &recorder{}
	var ok, cooldown atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			switch err := send(e, r, scope); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, otp.ErrCooldown):
				cooldown.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || cooldown.Load() != 99 || len(r.codes) != 1 {
		t.Fatalf("ok=%d cooldown=%d delivered=%d, want 1, 99, 1", ok.Load(), cooldown.Load(), len(r.codes))
	}
}

func TestConcurrentChecks(t *testing.T) {
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	e := newEngine(t, memstore.New(), clk)
	r := &recorder{}
	if err := send(e, r, scope); err != nil {
		t.Fatal(err)
	}
	code := r.last(t)
	var passed atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if check(e, scope, code) == nil {
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	if passed.Load() != 1 {
		t.Fatalf("%d of 50 concurrent right checks passed, want 1", passed.Load())
	}

	clk.Advance(61 * time.Second)
	if err := send(e, r, scope); err != nil {
		t.Fatal(err)
	}
	code = r.last(t)
	var mismatch, exhausted atomic.Int32
	for range 200 {
		wg.Go(func() {
			switch err := check(e, scope, wrong(code)); {
			case errors.Is(err, otp.ErrMismatch):
				mismatch.Add(1)
			case errors.Is(err, otp.ErrExhausted):
				exhausted.Add(1)
			default:
				t.Errorf("wrong guess: %v", err)
			}
		})
	}
	wg.Wait()
	if mismatch.Load() != 4 || exhausted.Load() != 196 {
		t.Fatalf("mismatch=%d exhausted=%d, want 4 evaluated misses then the burn", mismatch.Load(), exhausted.Load())
	}
	if err := check(e, scope, code); !errors.Is(err, otp.ErrExhausted) {
		t.Fatalf("right code after 200 wrong guesses = %v, want ErrExhausted", err)
	}
}

// Checked hears one verdict per check that judged the code: not a Keep
// check that passed (the consuming check reports it), not a rate-limited
// check nor a failed precondition.
func TestCheckedVerdicts(t *testing.T) {
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	var got []string
	e, err := otp.New(memstore.New(), otp.Config{Key: key, Now: clk.Now, MaxAttempts: 2,
		Checked: func(family, outcome string) { got = append(got, family+":"+outcome) }})
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	ctx := context.Background()
	if err := send(e, r, scope); err != nil {
		t.Fatal(err)
	}
	code := r.last(t)
	e.Check(ctx, otp.CheckRequest{Scope: scope, Code: code, Keep: true})
	// A failed precondition, then the right code, then a rate-limited check,
	// then the used code.
	e.Check(ctx, otp.CheckRequest{Scope: scope, Code: code, Ops: []store.Op{{Kind: store.MustExist, Coll: "{1}:c", Key: "k"}}})
	rate := &store.Rate{Key: "{1}:r", Limit: 1, Per: time.Hour}
	e.Check(ctx, otp.CheckRequest{Scope: scope, Code: code, Rate: rate})
	e.Check(ctx, otp.CheckRequest{Scope: scope, Code: code, Rate: rate})
	check(e, scope, code)
	clk.Advance(2 * time.Minute)
	if err := send(e, r, scope); err != nil {
		t.Fatal(err)
	}
	check(e, scope, wrong(r.last(t)))
	check(e, scope, wrong(r.last(t)))
	check(e, scope, r.last(t))
	want := "intlpartnersmgt:verified intlpartnersmgt:expired intlpartnersmgt:wrong intlpartnersmgt:exhausted intlpartnersmgt:exhausted"
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("verdicts %q, want %q", s, want)
	}
}
