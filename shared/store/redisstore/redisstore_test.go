package redisstore_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/verifyfn/verifyfn/internal/redistest"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/redisstore"
	"github.com/verifyfn/verifyfn/shared/store/storetest"
)

func open(t testing.TB, url string) *redisstore.Store {
	t.Helper()
	st, err := redisstore.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// The suite runs against a real, test-owned redis-server; time passes for
// real (the store uses the server's clock).
func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	t.Run("suite", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) storetest.Harness {
			return storetest.Harness{Store: open(t, srv.URL())}
		})
	})
	assertEphemeralTTLs(t, srv.URL())
}

// assertEphemeralTTLs checks that every ephemeral key has a TTL and no
// durable key has one.
func assertEphemeralTTLs(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	c := open(t, url).Client()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var eph int
	for _, k := range keys {
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(k, redisstore.PrefixEphemeral):
			eph++
			if ttl == -1 { // go-redis reports PTTL's -1 (no TTL) as -1ns
				t.Errorf("ephemeral key %q has no TTL (%s)", k, ttl)
			}
		case strings.HasPrefix(k, redisstore.PrefixRecords), strings.HasPrefix(k, redisstore.PrefixOrder), strings.HasPrefix(k, redisstore.PrefixSequence):
			if ttl != -1 {
				t.Errorf("durable key %q has a TTL (%s)", k, ttl)
			}
		default:
			t.Errorf("key %q has no store prefix", k)
		}
	}
	if eph == 0 {
		t.Error("no ephemeral keys left to inspect")
	}
}

func TestURLs(t *testing.T) {
	for _, u := range []string{
		"redis://127.0.0.1:6379", "redis://:secret@127.0.0.1:6379/2", "rediss://user:pw@redis.example:6380?dial_timeout=2s",
		"redis+cluster://10.0.0.1:7000,10.0.0.2:7001", "rediss+cluster://u:p@10.0.0.1:7000,10.0.0.2:7001?read_timeout=1s",
	} {
		if err := redisstore.Validate(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{
		"http://127.0.0.1", "redis://127.0.0.1:6379?max_retries=3", "redis://127.0.0.1:6379?bogus=1", "redis://127.0.0.1/x/y",
		"redis+cluster://a:1,,b:2", "redis+cluster://a:1/3", "127.0.0.1:6379", "redis://",
	} {
		if err := redisstore.Validate(u); err == nil {
			t.Errorf("%s: accepted", u)
		}
	}
	if got := redisstore.Redact("redis://user:s3cret@h:1/0"); got != "redis://user:xxxxx@h:1/0" {
		t.Errorf("Redact = %q", got)
	}
	if got := redisstore.Redact("redis+cluster://:s3cret@a:1,b:2"); strings.Contains(got, "s3cret") {
		t.Errorf("Redact = %q", got)
	}
	if got := redisstore.Redact("redis://h:1"); got != "redis://h:1" {
		t.Errorf("Redact = %q", got)
	}
}

// The client is configured to fail closed.
func TestClientOptions(t *testing.T) {
	c, err := redisstore.NewClient("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := c.(*redis.Client).Options()
	if o.MaxRetries != -1 && o.MaxRetries != 0 || o.DialTimeout > time.Second || o.ReadTimeout > time.Second || o.WriteTimeout > time.Second || o.PoolTimeout > time.Second || !o.ContextTimeoutEnabled {
		t.Fatalf("options %+v", o)
	}
	cc, err := redisstore.NewClient("redis+cluster://127.0.0.1:1,127.0.0.1:2")
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	co := cc.(*redis.ClusterClient).Options()
	if co.MaxRetries != -1 && co.MaxRetries != 0 || len(co.Addrs) != 2 || co.ReadTimeout > time.Second {
		t.Fatalf("cluster options %+v", co)
	}
}

// Open does no network I/O; with nothing listening every call fails fast
// with store.ErrUnavailable.
func TestUnreachable(t *testing.T) {
	st := open(t, "redis://127.0.0.1:1") // nothing listens on port 1
	ctx := context.Background()
	start := time.Now()
	_, err := st.Issue(ctx, store.IssueOp{LimitKey: "{a}:l", CodeKey: "{a}:c", TTL: time.Minute, MaxAttempts: 5})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Issue: %v", err)
	}
	_, _, err = st.Get(ctx, "{a}:c", "k")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Get: %v", err)
	}
	_, err = st.Claim(ctx, "{a}:n", time.Minute, time.Time{})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Claim: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("failing took %s", d)
	}
}

// Ping answers while the server does, and fails closed once it is gone.
func TestPing(t *testing.T) {
	srv := redistest.Start(t)
	st := open(t, srv.URL())
	ctx := context.Background()
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	srv.Kill()
	if err := st.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Ping with the server gone: %v", err)
	}
}

// A flushed script cache (NOSCRIPT) is handled by sending the script again.
func TestScriptFlush(t *testing.T) {
	srv := redistest.Start(t)
	st := open(t, srv.URL())
	ctx := context.Background()
	for range 2 {
		if ok, err := st.Allow(ctx, store.Rate{Key: "{a}:r", Limit: 10, Per: time.Second}, time.Time{}); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if err := st.Client().ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// Server errors such as a replica refusing writes fail closed.
func TestReadOnlyReplicaFailsClosed(t *testing.T) {
	primary := redistest.Start(t)
	replica := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	st := open(t, replica.URL())
	_, err := st.Apply(context.Background(), []store.Op{{Kind: store.Insert, Coll: "{a}:c", Key: "k"}})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Apply on a replica: %v", err)
	}
}

// Errors about a URL never repeat its password.
func TestURLErrorsHidePassword(t *testing.T) {
	for _, u := range []string{"redis://u:s3cret@h:port/0", "redis://u:s3cret@h:1/x", "redis+cluster://u:s3cret@a:1,b:x%zz?%zz", "rediss://u:s3cret@h:1?max_retries=2"} {
		err := redisstore.Validate(u)
		if err == nil {
			t.Errorf("%s: accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error repeats the password: %v", err)
		}
	}
}

// The suite also passes on a Redis Cluster, where a destination's keys
// (storetest keys them with store.DestTag) and the account's lie in
// different slots: Issue and Check run as two halves there.
func TestConformanceCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node Redis Cluster")
	}
	cl := redistest.StartCluster(t, 3)
	t.Run("suite", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) storetest.Harness {
			return storetest.Harness{Store: open(t, cl.URL())}
		})
	})
	// The subtests' accounts landed on more than one node.
	used := 0
	for _, n := range cl.Nodes {
		c := redis.NewClient(&redis.Options{Addr: n.Addr})
		if k, _ := c.DBSize(context.Background()).Result(); k > 0 {
			used++
		}
		c.Close()
	}
	if used < 2 {
		t.Fatalf("keys on %d node(s); the test should spread accounts over the cluster", used)
	}
}

// A cluster node that dies makes the accounts it serves unavailable (fail
// closed, quickly), while the other accounts keep working.
func TestClusterNodeDownFailsClosed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node Redis Cluster")
	}
	cl := redistest.StartCluster(t, 3)
	st := open(t, cl.URL())
	ctx := context.Background()
	c := st.Client().(*redis.ClusterClient)
	// Find an account tag on the first node and one elsewhere.
	first := cl.Nodes[0].Addr
	var down, up string
	for i := 0; down == "" || up == ""; i++ {
		tag := "{" + strconv.Itoa(i) + "}"
		n, err := c.MasterForKey(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		if n.Options().Addr == first {
			down = tag
		} else {
			up = tag
		}
	}
	apply := func(tag string) error {
		_, err := st.Apply(ctx, []store.Op{{Kind: store.Put, Coll: tag + ":c", Key: "k"}})
		return err
	}
	if err := apply(down); err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("Ping with every node up: %v", err)
	}
	cl.Nodes[0].Kill()
	if err := st.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Ping with a master down: %v", err)
	}
	start := time.Now()
	if err := apply(down); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Apply on the dead node's slot: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("failing took %s", d)
	}
	if err := apply(up); err != nil {
		t.Fatalf("Apply on a live node's slot: %v", err)
	}
}

// masterOf returns a function naming the address of the master that serves
// a key of st's cluster.
func masterOf(t *testing.T, st *redisstore.Store) func(key string) string {
	c := st.Client().(*redis.ClusterClient)
	return func(key string) string {
		t.Helper()
		n, err := c.MasterForKey(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		return n.Options().Addr
	}
}

// On a cluster, a send whose other half's master is down fails closed and
// leaves nothing behind on the live master: with the account's master down,
// the destination keeps no code and no cooldown; with the destination's
// master down, the account's counter counts nothing.
func TestClusterHalfDownTakesBack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three-node Redis Clusters")
	}
	ctx := context.Background()
	for _, down := range []string{"account", "destination"} {
		t.Run(down+" down", func(t *testing.T) {
			cl := redistest.StartCluster(t, 3)
			st := open(t, cl.URL())
			master := masterOf(t, st)
			const account = "half"
			acctMaster := master(store.TagPrefix(account))
			// Two destinations away from the account's master, on different
			// masters: one to send to, one to show the counter.
			var dests []string
			for i := 0; len(dests) < 2; i++ {
				d := "+8525" + strconv.Itoa(1000000+i)
				m := master(store.DestTag(account, d))
				if m != acctMaster && (len(dests) == 0 || m != master(store.DestTag(account, dests[0]))) {
					dests = append(dests, d)
				}
			}
			counter := store.Counter{Key: store.TagPrefix(account) + "fg:v", Span: time.Hour, Bucket: time.Minute, Max: 1, Add: 1}
			op := func(d string, dg []byte) store.IssueOp {
				return store.IssueOp{
					LimitKey: store.DestTag(account, d) + "limit:" + d, CodeKey: store.TagPrefix(account) + "code:" + d,
					Cooldown: time.Hour, Windows: []store.Window{{Period: time.Hour, Max: 5}},
					Digest: dg, TTL: 10 * time.Minute, MaxAttempts: 5, Counters: []store.Counter{counter},
				}
			}
			victim := acctMaster
			if down == "destination" {
				victim = master(store.DestTag(account, dests[0]))
			}
			for _, n := range cl.Nodes {
				if n.Addr == victim {
					n.Kill()
				}
			}
			dg := []byte("0123456789abcdef0123456789abcdef")
			if _, err := st.Issue(ctx, op(dests[0], dg)); !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("Issue with the %s's master down: %v, want ErrUnavailable", down, err)
			}
			if down == "account" {
				o := op(dests[0], dg)
				live, cooling, err := st.Peek(ctx, o.CodeKey, o.LimitKey, dg)
				if err != nil || live || cooling {
					t.Fatalf("the destination after the refused half: live %v, cooling %v, %v; want neither", live, cooling, err)
				}
				return
			}
			// The counter (max 1) counted nothing: another destination's
			// send, on a live master, goes through.
			if r, err := st.Issue(ctx, op(dests[1], dg)); err != nil || r.Status != store.Issued {
				t.Fatalf("Issue for a destination on a live master: %+v, %v; want Issued (the counter refunded)", r, err)
			}
		})
	}
}

// On a cluster, a check with the right code whose account half fails (its
// master is down) fails closed and puts the code back: it still verifies
// once the account's master is back.
func TestClusterCheckAccountDownKeepsCode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node Redis Cluster")
	}
	ctx := context.Background()
	cl := redistest.StartCluster(t, 3)
	st := open(t, cl.URL())
	master := masterOf(t, st)
	const account = "halfcheck"
	acctMaster := master(store.TagPrefix(account))
	d := ""
	for i := 0; d == ""; i++ {
		if x := "+8525" + strconv.Itoa(2000000+i); master(store.DestTag(account, x)) != acctMaster {
			d = x
		}
	}
	rate := &store.Rate{Key: store.TagPrefix(account) + "rate:check", Limit: 100, Per: time.Second}
	dg := []byte("0123456789abcdef0123456789abcdef")
	limitKey, codeKey := store.DestTag(account, d)+"limit:"+d, store.TagPrefix(account)+"code:"+d
	if r, err := st.Issue(ctx, store.IssueOp{LimitKey: limitKey, CodeKey: codeKey, Digest: dg, TTL: 10 * time.Minute, MaxAttempts: 5}); err != nil || r.Status != store.Issued {
		t.Fatalf("Issue = %+v, %v", r, err)
	}
	var node *redistest.Server
	for _, n := range cl.Nodes {
		if n.Addr == acctMaster {
			node = n
		}
	}
	node.Kill()
	check := store.CheckOp{Rate: rate, CodeKey: codeKey, LimitKey: limitKey, Digest: dg, MaxAttempts: 5}
	if _, err := st.Check(ctx, check); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Check with the account's master down: %v, want ErrUnavailable", err)
	}
	if live, _, err := st.Peek(ctx, codeKey, limitKey, dg); err != nil || !live {
		t.Fatalf("the code after the failed check: live %v, %v; want it put back", live, err)
	}
	node.Restart()
	var r store.CheckResult
	var err error
	// Until the restarted master serves again (the cluster may have marked
	// it failed meanwhile, on a slow machine): a deadline, not a count.
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if r, err = st.Check(ctx, check); err == nil {
			break
		}
	}
	if err != nil || r.Status != store.Passed {
		t.Fatalf("Check after the restart = %+v, %v; want Passed", r, err)
	}
}

// Open makes no connection: the first operation does.
func TestOpenIsLazy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, u := range []string{"redis://" + ln.Addr().String(), "redis+cluster://" + ln.Addr().String() + "," + ln.Addr().String()} {
		st, err := redisstore.Open(u)
		if err != nil {
			t.Fatal(err)
		}
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(200 * time.Millisecond))
		if c, err := ln.Accept(); err == nil {
			c.Close()
			t.Fatalf("%s: Open connected", u)
		}
		st.Close()
	}
}

// A command whose reply times out is not retried: the script may have run
// (here: it runs once the paused server continues), so a retry could apply it
// twice. Checked for a standalone server and for a cluster, whose client
// retries after network errors unless told not to (without the noReplay hook
// this takes four read timeouts).
func TestTimeoutIsNotReplayed(t *testing.T) {
	if testing.Short() {
		t.Skip("pauses redis-servers")
	}
	ctx := context.Background()
	cl := redistest.StartCluster(t, 3)
	single := redistest.Start(t)
	for _, tc := range []struct {
		name string
		url  string
		node func(st *redisstore.Store, tag string) *redistest.Server
	}{
		{"standalone", single.URL(), func(*redisstore.Store, string) *redistest.Server { return single }},
		{"cluster", cl.URL(), func(st *redisstore.Store, tag string) *redistest.Server {
			n, err := st.Client().(*redis.ClusterClient).MasterForKey(ctx, tag)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range cl.Nodes {
				if s.Addr == n.Options().Addr {
					return s
				}
			}
			t.Fatal("no node serves the tag")
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t, tc.url)
			incr := []store.Op{{Kind: store.Incr, Coll: "{replay}:c", Key: "n"}}
			if _, err := st.Apply(ctx, []store.Op{{Kind: store.Put, Coll: "{replay}:warm", Key: "k"}}); err != nil {
				t.Fatal(err) // connected, script loaded
			}
			node := tc.node(st, "{replay}")
			node.Pause()
			start := time.Now()
			_, err := st.Apply(ctx, incr)
			took := time.Since(start)
			node.Resume()
			if !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("Apply against a paused server: %v", err)
			}
			t.Logf("Apply against a paused server failed after %s", took)
			// The script the paused server held runs when it resumes; the
			// client gave up and never sends it again. Wait for it (however
			// slow the machine), then it must have run exactly once.
			var v []byte
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				v, _, err = st.Get(ctx, "{replay}:c", "n")
				if err == nil && len(v) > 0 || time.Now().After(deadline) {
					break
				}
			}
			if err != nil || string(v) != "1" {
				t.Fatalf("after the timeout the counter is %q (%v); want 1: the script ran once, never replayed", v, err)
			}
		})
	}
}

// UseClock moves the time every script measures, for every store that
// reads the same offset: codes expire, cooldowns, windows and rate buckets
// free as if that much time had passed; nonce claims keep real time.
func TestUseClock(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	var offset atomic.Int64
	clock := func() time.Duration { return time.Duration(offset.Load()) }
	a, b := open(t, srv.URL()), open(t, srv.URL())
	a.UseClock(clock)
	b.UseClock(clock)

	dg := []byte("digest-digest-digest-digest-0123")
	issue := func(st *redisstore.Store, code string) store.IssueResult {
		t.Helper()
		r, err := st.Issue(ctx, store.IssueOp{LimitKey: "{c}:limit", CodeKey: "{c}:code:" + code, Digest: dg, TTL: 10 * time.Minute,
			MaxAttempts: 5, Cooldown: time.Hour, Windows: []store.Window{{Period: 24 * time.Hour, Max: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	check := func(st *redisstore.Store, code string) store.CheckStatus {
		t.Helper()
		r, err := st.Check(ctx, store.CheckOp{CodeKey: "{c}:code:" + code, LimitKey: "{c}:limit", Digest: dg, MaxAttempts: 5})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	allow := func(st *redisstore.Store) bool {
		t.Helper()
		ok, err := st.Allow(ctx, store.Rate{Key: "{c}:rate", Limit: 1, Per: time.Hour}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if r := issue(a, "1"); r.Status != store.Issued {
		t.Fatalf("first issue: %+v", r)
	}
	if r := issue(b, "2"); r.Status != store.CoolingDown || r.RetryAfter <= 59*time.Minute {
		t.Fatalf("issue within the cooldown: %+v", r)
	}
	if !allow(a) || allow(b) {
		t.Fatal("a rate of one an hour")
	}
	if ok, err := a.Claim(ctx, "{c}:nonce", time.Hour, time.Time{}); err != nil || !ok {
		t.Fatal("claim", ok, err)
	}

	offset.Store(int64(61 * time.Minute))
	if got := check(b, "1"); got != store.NoCode {
		t.Fatalf("a 10-minute code checked 61 minutes later: status %d, want NoCode", got)
	}
	if r := issue(b, "2"); r.Status != store.Issued {
		t.Fatalf("issue after the cooldown: %+v", r)
	}
	if !allow(b) {
		t.Fatal("the rate bucket did not free after an hour")
	}
	if ok, err := b.Claim(ctx, "{c}:nonce", time.Hour, time.Time{}); err != nil || ok {
		t.Fatalf("a nonce claimed again after the clock moved: %v, %v (nonces keep real time)", ok, err)
	}
	offset.Store(int64(3 * time.Hour))
	if r := issue(a, "3"); r.Status != store.WindowFull {
		t.Fatalf("third issue within the daily window: %+v", r)
	}
	offset.Store(int64(25 * time.Hour))
	if r := issue(a, "3"); r.Status != store.Issued {
		t.Fatalf("issue after the daily window: %+v", r)
	}
	// A store without the clock sees real time: to it the cooldown set at
	// +25h runs for another day.
	if r := issue(open(t, srv.URL()), "4"); r.Status != store.CoolingDown || r.RetryAfter < 25*time.Hour {
		t.Fatalf("issue on real time: %+v", r)
	}
}
