package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/verifyfn/verifyfn/internal/redistest"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/redisstore"
	"github.com/verifyfn/verifyfn/shared/store/storetest"
)

// The suite passes on a cluster of three masters with a replica each; the
// client reads and writes on the masters only (no script or read ran on a
// replica).
func TestConformanceClusterReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a six-node Redis Cluster")
	}
	cl := redistest.StartClusterWithReplicas(t, 3, 1)
	co := open(t, cl.URL()).Client().(*redis.ClusterClient).Options()
	if co.ReadOnly || co.RouteByLatency || co.RouteRandomly {
		t.Fatalf("the cluster client may route to replicas: %+v", co)
	}
	t.Run("suite", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) storetest.Harness {
			return storetest.Harness{Store: open(t, cl.URL())}
		})
	})
	ctx := context.Background()
	masters := cl.Masters()
	for _, m := range masters {
		for _, r := range cl.ReplicasOf(m) {
			stats, err := cl.Client(r).Info(ctx, "commandstats").Result()
			if err != nil {
				t.Fatal(err)
			}
			// Scripts replicate as their writes, reads not at all: any of
			// these on a replica came from a client.
			for _, cmd := range []string{"evalsha", "eval", "hget", "scan"} {
				if strings.Contains(stats, "cmdstat_"+cmd+":") {
					t.Errorf("replica %s ran %s from a client: %s", r.Addr, cmd, stats)
				}
			}
		}
	}
}

// otpOps builds the store operations of one destination of one account as
// shared/otp's Engine.Send and Check build them: the account's hash tag on
// the code key and the destination's own (store.DestTag) on the limit key, a 32-byte keyed digest, the default TTL,
// attempts and send windows, and an application request rate checked in the
// same operation. The cooldown is ten minutes, longer than any test here,
// so a destination gets at most one Issued during a test.
type otpOps struct {
	account string
	rate    *store.Rate // nil: none
}

const (
	foCooldown    = 10 * time.Minute
	foTTL         = 10 * time.Minute
	foMaxAttempts = 5
)

func (o otpOps) keys(dest string) (codeKey, limitKey string) {
	return store.TagPrefix(o.account) + "code:" + dest + "|sms|login|", store.DestTag(o.account, dest) + "limit:" + dest
}

func (o otpOps) issue(dest string, digest []byte) store.IssueOp {
	codeKey, limitKey := o.keys(dest)
	return store.IssueOp{
		Now: time.Now(), Rate: o.rate, LimitKey: limitKey, Cooldown: foCooldown,
		Windows: []store.Window{{Period: time.Hour, Max: 5}, {Period: 24 * time.Hour, Max: 10}},
		CodeKey: codeKey, Digest: digest, TTL: foTTL, MaxAttempts: foMaxAttempts,
	}
}

func (o otpOps) check(dest string, digest []byte) store.CheckOp {
	codeKey, limitKey := o.keys(dest)
	return store.CheckOp{Now: time.Now(), Rate: o.rate, CodeKey: codeKey, LimitKey: limitKey, Digest: digest, MaxAttempts: foMaxAttempts}
}

func newDigest() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// errKind names the kind of a store error for the fail-over report. The
// text is go-redis's and the server's: addresses and error codes, never a
// key's value.
func errKind(err error) string {
	s := err.Error()
	switch {
	case errors.Is(err, redisstore.ErrMaybeApplied):
		switch {
		case strings.Contains(s, "i/o timeout"):
			return "maybe-applied (read timeout)"
		case strings.Contains(s, "EOF"):
			return "maybe-applied (EOF)"
		case strings.Contains(s, "reset"):
			return "maybe-applied (connection reset)"
		case strings.Contains(s, "broken pipe"):
			return "maybe-applied (broken pipe)"
		}
		return "maybe-applied (other)"
	case strings.Contains(s, "connection refused"):
		return "dial refused"
	case strings.Contains(s, "CLUSTERDOWN"):
		return "CLUSTERDOWN"
	case strings.Contains(s, "TRYAGAIN"):
		return "TRYAGAIN"
	case strings.Contains(s, "MOVED"):
		return "MOVED"
	case strings.Contains(s, "READONLY"):
		return "READONLY"
	case errors.Is(err, context.DeadlineExceeded):
		return "context deadline"
	case strings.Contains(s, "i/o timeout"):
		return "timeout"
	}
	if len(s) > 80 {
		s = s[:80]
	}
	return "other: " + s
}

// mayHaveRun reports whether the command that failed with err may have run
// on the server: every error may, except a refused dial (the command was
// never sent; go-redis's redirects and retries end with a refused dial only
// when no attempt was sent or run, since an error after sending is final,
// redisstore.ErrMaybeApplied) and the server's refusals to run it.
func mayHaveRun(err error) bool {
	switch errKind(err) {
	case "dial refused", "CLUSTERDOWN", "TRYAGAIN", "MOVED", "READONLY":
		return false
	}
	return true
}

// foStore is what the fail-over load uses of a store.
type foStore interface {
	Issue(context.Context, store.IssueOp) (store.IssueResult, error)
	Check(context.Context, store.CheckOp) (store.CheckResult, error)
}

// foLoad is the load of the fail-over test and what its clients saw.
type foLoad struct {
	st  foStore
	ops otpOps

	next    atomic.Int64 // destination counter
	rounds  atomic.Int64 // rounds finished without an error
	okAt    atomic.Int64 // unix ns when the cluster was whole again; 0 before
	armed   atomic.Bool  // the fail-over has begun
	preKill atomic.Int64 // errors before it (a slow machine's timeouts)
	firstEr atomic.Int64 // unix ns of the first and last error since armed
	lastEr  atomic.Int64
	maxOp   atomic.Int64 // the longest operation, ns

	mu         sync.Mutex
	outcomes   map[string]int
	examples   map[string]string // error kind -> the first such error's text
	violations []string
	passed     map[string]int // destination -> Passed checks
	pending    []pendingCode  // definitely issued codes no check may have reached
	streak     []int          // per worker: clean rounds in a row begun after okAt
}

// pendingCode is a definitely issued code whose every check failed before
// it could run: it must pass once the store is back.
type pendingCode struct {
	dest   string
	digest []byte
}

// opTimeout bounds every operation (its context deadline); an operation
// that returns later than hangSlack after it is a hang.
const (
	opTimeout = 5 * time.Second
	hangSlack = 10 * time.Second
)

func (l *foLoad) violate(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.violations) < 50 {
		l.violations = append(l.violations, fmt.Sprintf(format, args...))
	}
}

// do runs one operation with its deadline, records its outcome and returns
// its error, which must be store.ErrUnavailable.
func (l *foLoad) do(name string, fn func(ctx context.Context) (string, error)) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	start := time.Now()
	outcome, err := fn(ctx)
	took := time.Since(start)
	for {
		m := l.maxOp.Load()
		if int64(took) <= m || l.maxOp.CompareAndSwap(m, int64(took)) {
			break
		}
	}
	if took > opTimeout+hangSlack {
		l.violate("%s returned after %s, past its %s deadline", name, took, opTimeout)
	}
	key := name + ": " + outcome
	if err != nil {
		kind := errKind(err)
		key = name + ": error " + kind
		l.mu.Lock()
		if _, ok := l.examples[kind]; !ok {
			l.examples[kind] = err.Error()
		}
		l.mu.Unlock()
		if !errors.Is(err, store.ErrUnavailable) {
			l.violate("%s: error %v is not store.ErrUnavailable (fail closed)", name, err)
		}
		if !l.armed.Load() {
			l.preKill.Add(1)
		} else {
			now := time.Now().UnixNano()
			l.firstEr.CompareAndSwap(0, now)
			for {
				last := l.lastEr.Load()
				if now <= last || l.lastEr.CompareAndSwap(last, now) {
					break
				}
			}
		}
	}
	l.mu.Lock()
	l.outcomes[key]++
	l.mu.Unlock()
	return outcome, err
}

func (l *foLoad) issue(dest string, dg []byte) (store.IssueStatus, error) {
	var r store.IssueResult
	_, err := l.do("issue", func(ctx context.Context) (string, error) {
		var err error
		r, err = l.st.Issue(ctx, l.ops.issue(dest, dg))
		return issueNames[r.Status], err
	})
	return r.Status, err
}

func (l *foLoad) check(name, dest string, dg []byte) (store.CheckStatus, error) {
	var r store.CheckResult
	_, err := l.do(name, func(ctx context.Context) (string, error) {
		var err error
		r, err = l.st.Check(ctx, l.ops.check(dest, dg))
		return checkNames[r.Status], err
	})
	return r.Status, err
}

var issueNames = map[store.IssueStatus]string{store.Issued: "Issued", store.RateLimited: "RateLimited", store.CoolingDown: "CoolingDown",
	store.WindowFull: "WindowFull", store.GuardFull: "GuardFull", store.CounterFull: "CounterFull", store.Unconverted: "Unconverted"}

var checkNames = map[store.CheckStatus]string{store.Passed: "Passed", store.Mismatch: "Mismatch", store.NoCode: "NoCode",
	store.Exhausted: "Exhausted", store.CheckLimited: "CheckLimited", store.Conflict: "Conflict"}

// round sends a code to a new destination and checks it as a user and an
// attacker would, asserting the store model's guarantees under the
// uncertainty errors leave: an operation that failed may have run (the
// store reports every failure as unavailable, including a reply lost after
// the command ran), so a failed Issue that may have run (mayHaveRun) counts
// as possibly issued and such a failed Check as possibly consumed. It
// reports whether every operation of the round succeeded.
func (l *foLoad) round() bool {
	dest := fmt.Sprintf("+86138%08d", l.next.Add(1))
	clean := true
	// Send, and send again while the store fails (a client retrying its
	// request): each try has a code of its own.
	var possible [][]byte // digests that may be the destination's live code
	var issued []byte     // the digest of a definite Issued
	for range 3 {
		dg := newDigest()
		status, err := l.issue(dest, dg)
		if err != nil {
			clean = false
			if mayHaveRun(err) {
				possible = append(possible, dg)
			}
			continue
		}
		switch {
		case status == store.Issued:
			issued = dg
			possible = append(possible, dg)
		case status == store.CoolingDown && len(possible) > 0:
			// an earlier, failed try ran
		default:
			l.violate("a first send to %s: %s after %d failed tries that may have run", dest, issueNames[status], len(possible))
		}
		break
	}
	// A resend within the cooldown is refused after a definite Issued; after
	// failed tries only, it is refused (one of them ran) or issued.
	resend := newDigest()
	if status, err := l.issue(dest, resend); err != nil {
		clean = false
		if mayHaveRun(err) {
			possible = append(possible, resend)
		}
	} else if status == store.Issued && issued != nil {
		l.violate("%s got a second Issued within the cooldown", dest)
	} else if status == store.Issued {
		issued = resend
		possible = append(possible, resend)
	} else if status != store.CoolingDown || len(possible) == 0 {
		l.violate("a resend to %s: %s after %d tries that may have run", dest, issueNames[status], len(possible))
	}
	// A wrong guess never passes.
	if status, err := l.check("check wrong", dest, newDigest()); err != nil {
		clean = false
	} else if status == store.Passed {
		l.violate("a wrong digest passed for %s", dest)
	} else if issued != nil && status != store.Mismatch {
		l.violate("a wrong guess at %s's live code: %s, want Mismatch", dest, checkNames[status])
	}
	// The right code passes once: the definitely issued digest, else every
	// digest that may be live, is tried twice; a second Passed would be a
	// replayed code. (After a definite Issued no earlier try is live: one
	// that ran would have set the cooldown.)
	if issued != nil {
		possible = [][]byte{issued}
	}
	consumedMaybe := false
	for _, dg := range possible {
		for range 2 {
			status, err := l.check("check right", dest, dg)
			if err != nil {
				clean = false
				consumedMaybe = consumedMaybe || mayHaveRun(err)
				continue
			}
			if status == store.Passed {
				l.mu.Lock()
				l.passed[dest]++
				n := l.passed[dest]
				l.mu.Unlock()
				if n > 1 {
					l.violate("%s: %d Passed checks for one code", dest, n)
				}
				consumedMaybe = true
				continue
			}
			if slices.Equal(dg, issued) && !consumedMaybe {
				l.violate("%s's definitely issued code, never consumed: %s, want Passed", dest, checkNames[status])
			}
		}
	}
	if issued != nil && !consumedMaybe {
		l.mu.Lock()
		l.pending = append(l.pending, pendingCode{dest, issued})
		l.mu.Unlock()
	}
	return clean
}

func (l *foLoad) worker(ctx context.Context, w int) {
	for ctx.Err() == nil {
		begun := time.Now().UnixNano()
		clean := l.round()
		ok := l.okAt.Load()
		l.mu.Lock()
		switch {
		case !clean:
			l.streak[w] = 0
		case ok != 0 && begun > ok:
			l.streak[w]++
		}
		l.mu.Unlock()
		if clean {
			l.rounds.Add(1)
		}
	}
}

// resumed reports whether every worker has had n clean rounds in a row
// since the cluster was whole again.
func (l *foLoad) resumed(n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.streak {
		if s < n {
			return false
		}
	}
	return true
}

// A master killed under load (eight clients sending and checking codes for
// many destinations of one account, with a request rate) is replaced by its
// replica without losing a guarantee of the store model: every error is
// store.ErrUnavailable and comes back within its deadline; a wrong code
// never passes; a code passes at most once; a destination never gets two
// codes within its cooldown; a definitely issued code is still there after
// the fail-over; and every operation succeeds again once the replica is
// promoted. The master killed is the one holding most of the account's
// keys; its replica has all its writes when it dies (redistest's FailOver:
// Redis replicates asynchronously, and a crash that lost the last writes
// would lose them whatever the client does). The test log reports what the
// clients saw.
func TestClusterFailOverUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a six-node Redis Cluster and kills a master")
	}
	failOverUnderLoad(t, func(url string) foStore { return open(t, url) }, (*redistest.Cluster).FailOver)
}

// failOverUnderLoad runs the fail-over test on the store that newStore opens
// for a cluster URL, failing the victim master over with failOver.
func failOverUnderLoad(t *testing.T, newStore func(url string) foStore,
	failOver func(*redistest.Cluster, *redistest.Server) redistest.FailOverResult) {
	const workers = 8
	cl := redistest.StartClusterWithReplicas(t, 3, 1)
	st := newStore(cl.URL())
	account := "fo" + randomHex(4)
	l := &foLoad{
		st: st,
		ops: otpOps{account: account,
			rate: &store.Rate{Key: store.TagPrefix(account) + "rate:app", Limit: 1_000_000, Per: time.Second}},
		outcomes: map[string]int{}, examples: map[string]string{}, passed: map[string]int{}, streak: make([]int, workers),
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { l.worker(ctx, w) })
	}
	stopped := false
	halt := func() {
		if !stopped {
			stopped = true
			stop()
			wg.Wait()
		}
	}
	defer halt()

	waitUntil(t, 60*time.Second, "200 clean rounds before the kill", func() bool { return l.rounds.Load() >= 200 })
	masters, held := cl.Masters(), cl.KeysPerMaster()
	victim := masters[slices.Index(held, slices.Max(held))]
	t.Logf("keys per master before the kill %v; killing %s (%d destinations so far)", held, victim.Addr, l.next.Load())
	before := l.rounds.Load()
	l.armed.Store(true)
	fo := failOver(cl, victim)
	l.okAt.Store(fo.OK.UnixNano())
	t.Logf("fail-over: %s killed, replica %s answered ROLE master after %s, cluster_state:ok everywhere after %s",
		fo.Old.Addr, fo.New.Addr, fo.Promoted.Sub(fo.Killed).Round(time.Millisecond), fo.Promotion().Round(time.Millisecond))

	const resumeRounds = 20
	// Generous for a loaded machine (it takes about a second), but shorter
	// than go-redis's default slot-map reload of a minute, which the store
	// shortens and triggers on a failed dial.
	resumeWait := 30 * time.Second
	deadline := time.Now().Add(resumeWait)
	for !l.resumed(resumeRounds) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	resumedAt := time.Now()
	ok := l.resumed(resumeRounds)
	halt()
	// The codes issued before the store failed and never checked since
	// were not lost in the fail-over: each passes, once.
	if ok {
		for _, p := range l.pending {
			if status, err := l.check("check pending", p.dest, p.digest); err != nil || status != store.Passed {
				t.Errorf("a code issued to %s before the fail-over and never checked: %s, %v; want Passed", p.dest, checkNames[status], err)
			}
		}
	}

	rel := func(ns int64) string {
		if ns == 0 {
			return "none"
		}
		return time.Unix(0, ns).Sub(fo.Killed).Round(time.Millisecond).String()
	}
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(l.outcomes)) {
		lines = append(lines, fmt.Sprintf("  %-45s %d", k, l.outcomes[k]))
	}
	t.Logf("clients saw (%d destinations, %d clean rounds, %d after the kill; %d codes issued before the store failed were checked after it):\n%s",
		l.next.Load(), l.rounds.Load(), l.rounds.Load()-before, len(l.pending), strings.Join(lines, "\n"))
	t.Logf("%d errors before the fail-over began; from the kill: first error %s, last error %s, promotion (ROLE master) %s, cluster ok %s, %d clean rounds per client by %s; longest operation %s",
		l.preKill.Load(), rel(l.firstEr.Load()), rel(l.lastEr.Load()), fo.Promoted.Sub(fo.Killed).Round(time.Millisecond),
		fo.Promotion().Round(time.Millisecond), resumeRounds, resumedAt.Sub(fo.Killed).Round(time.Millisecond),
		time.Duration(l.maxOp.Load()).Round(time.Millisecond))
	for _, k := range slices.Sorted(maps.Keys(l.examples)) {
		t.Logf("first %s error: %s", k, l.examples[k])
	}
	for _, v := range l.violations {
		t.Error(v)
	}
	if l.firstEr.Load() == 0 {
		t.Error("no client saw an error: the kill did not hit the load")
	}
	if !ok {
		t.Errorf("the store did not resume within %s of the promotion (go-redis's cluster client follows a new master after MOVED/ASK/READONLY, a reload the store asks for when a dial fails, or its periodic slot reload, ClusterOptions.ClusterStateReloadInterval)", resumeWait)
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s in vain for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// One account's per-destination state spreads over the masters: after one
// code is issued to each of 10,000 destinations of one account, every
// master holds within 15 % of the mean number of keys. (When every key of
// an account carried its hash tag {account}, all of them landed on one
// master: [0 20000 0].)
func TestClusterAccountSpread(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node Redis Cluster")
	}
	cl := redistest.StartCluster(t, 3)
	st := open(t, cl.URL())
	ctx := context.Background()
	ops := otpOps{account: "spread" + randomHex(4)}
	for i := range 10_000 {
		r, err := st.Issue(ctx, ops.issue(fmt.Sprintf("+86139%08d", i), newDigest()))
		if err != nil || r.Status != store.Issued {
			t.Fatalf("issue %d: %+v, %v", i, r, err)
		}
	}
	held := cl.KeysPerMaster()
	t.Logf("keys per master: %v", held)
	if err := redistest.Balanced(held, 0.15); err != nil {
		t.Fatalf("one account's 10,000 destinations: %v", err)
	}
}
