package app_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/redistest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/services/domain"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/redisstore"
)

// apiCode is the documented error code of an SDK call, "" on success.
func apiCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *tcerr.TencentCloudSDKError
	if !errors.As(err, &e) {
		t.Fatalf("not an API error: %v", err)
	}
	return e.Code
}

func withStore(spec string) apitest.Option {
	return apitest.WithConfig(func(c *config.Config) {
		c.Store = spec
		c.Cooldown = time.Second
		c.Windows = []store.Window{{Period: time.Hour, Max: 100}}
		c.RateLimit = 1 << 20
	})
}

func sendVerifyCode(c *tcclient.Client, phone string) error {
	_, err := c.Call(intlpartnersmgt.Name, intlpartnersmgt.Version, "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": phone})
	return err
}

// Restarting the local server on the same file store keeps registered
// accounts, bound numbers and verified contacts.
func TestFileStoreSurvivesRestart(t *testing.T) {
	spec := "file:" + filepath.Join(t.TempDir(), "verifyfn.db")
	s := apitest.Start(t, withStore(spec))
	c := s.Tencent(tcclient.Options{})
	if err := sendVerifyCode(c, "51234567"); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Call(intlpartnersmgt.Name, intlpartnersmgt.Version, "CreateAccount", map[string]any{
		"AccountType": "personal", "Mail": "dev@example.com", "Password": "Passw0rd!", "ConfirmPassword": "Passw0rd!",
		"PhoneNum": "51234567", "CountryCode": "852", "Area": "HK", "VerifyCode": s.LastCode(t, "+85251234567"),
		"TradeOne": "kghy_01", "TradeTwo": "kghy_0101",
	})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	var created struct{ Uin string }
	json.Unmarshal(resp, &created)
	if _, err := c.Call(domain.Name, domain.Version, "SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": "owner@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(domain.Name, domain.Version, "CreateIntlPhoneEmail", map[string]any{"Type": 2, "Code": "owner@example.com", "VerifyCode": s.LastCode(t, "owner@example.com")}); err != nil {
		t.Fatalf("CreateIntlPhoneEmail: %v", err)
	}
	s.Close()
	if err := s.App.Close(); err != nil {
		t.Fatal(err)
	}

	s = apitest.Start(t, withStore(spec))
	c = s.Tencent(tcclient.Options{})
	ctx := context.Background()
	if v, ok, err := s.App.Store.Get(ctx, intlpartnersmgt.BoundColl(accounts.DevAccountID), "+85251234567"); err != nil || !ok || string(v) != "1" {
		t.Fatalf("bound count after restart = %q, %v, %v; want 1", v, ok, err)
	}
	recs, total, err := s.App.Store.List(ctx, store.Coll(accounts.DevAccountID, "uin"), 0, 10)
	if err != nil || total != 1 || recs[0].Key != created.Uin {
		t.Fatalf("accounts after restart: %+v, %d, %v; want %s", recs, total, err, created.Uin)
	}
	resp, err = c.Call(domain.Name, domain.Version, "DescribeIntlPhoneEmailList", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		PhoneEmailList []struct{ Code string }
		TotalCount     int
	}
	json.Unmarshal(resp, &list)
	if list.TotalCount != 1 || list.PhoneEmailList[0].Code != "owner@example.com" {
		t.Fatalf("verified contacts after restart: %s", resp)
	}
	// The record still guards: verifying the same contact again is refused.
	c.Call(domain.Name, domain.Version, "SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": "owner@example.com"})
	_, err = c.Call(domain.Name, domain.Version, "CreateIntlPhoneEmail", map[string]any{"Type": 2, "Code": "owner@example.com", "VerifyCode": s.LastCode(t, "owner@example.com")})
	if got := apiCode(t, err); got != "InternalError.VerifiedPhoneEmailErr" {
		t.Fatalf("verifying again after restart: %q", got)
	}
}

// commandCalls reads INFO commandstats: calls per command.
func commandCalls(t *testing.T, c *redis.Client) map[string]int {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for line := range strings.SplitSeq(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
		out[strings.TrimPrefix(name, "cmdstat_")] = n
	}
	return out
}

// roundTrips counts what a go-redis client sends: one per command or
// pipeline.
type roundTrips struct{ n atomic.Int64 }

func (*roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// On a Redis Cluster a SendVerifyCode sends two EVALSHAs, one to the
// destination's master and one to the account's, which the store runs at
// once (see redisstore.Store.Issue), and one account's sends reach every
// master. Counted on the servers (INFO commandstats of each master).
func TestRedisClusterSendTwoHalves(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node Redis Cluster")
	}
	cl := redistest.StartCluster(t, 3)
	s := apitest.Start(t, withStore(cl.URL()), func(c *config.Config, o *app.Options) {
		c.Control.Disabled = true
		c.Guard.PrefixLimit = 0 // consecutive numbers: not the fraud guard's test
	})
	c := s.Tencent(tcclient.Options{})
	for i := range 30 { // connects and loads the scripts on every master
		if err := sendVerifyCode(c, fmt.Sprint(51220000+i)); err != nil {
			t.Fatal(err)
		}
	}
	admins := make([]*redis.Client, len(cl.Nodes))
	for i, n := range cl.Nodes {
		admins[i] = redis.NewClient(&redis.Options{Addr: n.Addr})
		defer admins[i].Close()
		if err := admins[i].ConfigResetStat(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
	}
	const n = 60
	for i := range n {
		if err := sendVerifyCode(c, fmt.Sprint(51230001+i)); err != nil {
			t.Fatal(err)
		}
	}
	total, reached := 0, 0
	for _, a := range admins {
		calls := commandCalls(t, a)
		total += calls["evalsha"] + calls["eval"]
		if calls["evalsha"]+calls["eval"] > 0 {
			reached++
		}
	}
	if total != 2*n || reached != len(admins) {
		t.Fatalf("%d SendVerifyCode calls ran %d scripts on %d of %d masters; want %d on every master", n, total, reached, len(admins), 2*n)
	}
	if got := len(s.Messages(t)); got != n+30 {
		t.Fatalf("%d messages", got)
	}
}

// SendVerifyCode costs one Redis round trip: its rate limit, guard, cooldown,
// windows and the code are one EVALSHA. Counted twice: by a hook on the
// store's client, and on the server (INFO commandstats, where the commands a
// script runs count too, so only the EVALSHA calls are compared). With the
// test kit's control plane on, every request also reads the shared control
// state once (one HGETALL), so that every instance sees the same clock and
// faults.
func TestRedisOneRoundTripPerSend(t *testing.T) {
	for _, tc := range []struct {
		name    string
		control bool
	}{{"control plane off", false}, {"control plane on", true}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t)
			st, err := redisstore.Open(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			hook := &roundTrips{}
			st.Client().AddHook(hook)
			s := apitest.Start(t, withStore(srv.URL()), func(c *config.Config, o *app.Options) {
				o.Store = st
				c.Control.Disabled = !tc.control
			})
			t.Cleanup(func() { st.Close() })
			if (s.App.Control != nil) != tc.control {
				t.Fatalf("control plane: %v", s.App.Control)
			}
			c := s.Tencent(tcclient.Options{})
			if err := sendVerifyCode(c, "51230000"); err != nil { // connects and loads the script
				t.Fatal(err)
			}
			admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
			defer admin.Close()
			if err := admin.ConfigResetStat(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			hook.n.Store(0)
			const n = 20
			for i := range n {
				if err := sendVerifyCode(c, fmt.Sprint(51230001+i)); err != nil {
					t.Fatal(err)
				}
			}
			// The issue script runs HGETALLs of its own: the limit hash, and
			// the fraud guard's prefix velocity counter and its prefix and
			// country conversions (no budget is set).
			want, hgetall := int64(n), 4*n
			if tc.control {
				want, hgetall = 2*n, 5*n
			}
			if got := hook.n.Load(); got != want {
				t.Fatalf("%d SendVerifyCode calls made %d round trips to Redis; want %d", n, got, want)
			}
			calls := commandCalls(t, admin)
			if calls["evalsha"] != n || calls["eval"] != 0 || calls["script|load"] != 0 || calls["hgetall"] != hgetall {
				t.Fatalf("%d SendVerifyCode calls ran %v on Redis; want %d EVALSHA and %d HGETALL (scripts' included)", n, calls, n, hgetall)
			}
			if got := len(s.Messages(t)); got != n+1 {
				t.Fatalf("%d messages", got)
			}
		})
	}
}

// A redis-server killed and restarted while requests flow: no request
// succeeds without its code and cooldown stored, errors are the documented
// InternalError, every answer is fast, and service resumes by itself.
//
// The server runs with appendfsync always, so a restart keeps acknowledged
// writes: a code found missing at delivery is then a real fault, never a
// restart race. The sender checks the store before "sending" and refuses
// (a delivery failure) when it cannot confirm the code and the cooldown.
func TestRedisFaultFailsClosed(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a redis-server")
	}
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	check, err := redisstore.Open(srv.URL() + "?dial_timeout=200ms&read_timeout=200ms&write_timeout=200ms")
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	codeKey := []byte("test-code-key-0123456789abcdef") // apitest's
	var delivered, violations, unverified atomic.Int64
	// Requests refused because this test's own checking client could not
	// reach Redis say nothing about the service's recovery.
	var unconfirmed sync.Map // E.164 number -> true
	sender := delivery.SenderFunc(func(ctx context.Context, m delivery.Message) error {
		tag := "{" + m.Account + "}:"
		ck := tag + "code:" + m.To + "|" + intlpartnersmgt.Name + "|register|"
		mac := hmac.New(sha256.New, codeKey)
		mac.Write([]byte(ck + "\x00" + m.Code))
		live, cooling, err := check.Peek(ctx, ck, store.DestTag(m.Account, m.To)+"limit:"+m.To, mac.Sum(nil))
		switch {
		case err == nil && (!live || !cooling):
			violations.Add(1)
			return errors.New("code or cooldown not stored")
		case err != nil:
			unverified.Add(1)
			unconfirmed.Store(m.To, true)
			return fmt.Errorf("cannot confirm: %w", err)
		}
		delivered.Add(1)
		return nil
	})
	s := apitest.Start(t, withStore(srv.URL()), func(c *config.Config, o *app.Options) {
		o.Sender = sender
		c.Guard.PrefixLimit = 0 // thousands of sends to one number range: not the fraud guard's test
	})

	type result struct {
		start, end time.Time
		code       string
		phone      string
	}
	var mu sync.Mutex
	var results []result
	var next atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			c := s.Tencent(tcclient.Options{})
			for {
				select {
				case <-stop:
					return
				default:
				}
				phone := fmt.Sprint(51000000 + next.Add(1))
				start := time.Now()
				err := sendVerifyCode(c, phone)
				r := result{start: start, end: time.Now(), code: apiCode(t, err), phone: "+852" + phone}
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		})
	}
	// Phases: normal, killed, restarted, paused (a hung server: connections
	// are accepted, nothing answers), resumed. Each phase lasts until what
	// it is for has been seen (outcomes, never durations: a loaded machine
	// only makes the phases longer); 2 minutes without it fails the test.
	since := func(t0 time.Time, want func(result) bool) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, r := range results {
			if r.start.After(t0) && want(r) {
				n++
			}
		}
		return n
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for !cond() {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("gave up waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	succeeded := func(r result) bool { return r.code == "" }
	anything := func(result) bool { return true }
	begin := time.Now()
	waitFor("successes before the fault", func() bool { return since(begin, succeeded) >= 20 })
	srv.Kill()
	killed := time.Now()
	waitFor("failures while Redis is down", func() bool { return since(killed, anything) >= 16 })
	restarting := time.Now()
	srv.Restart()
	restarted := time.Now()
	waitFor("service after the restart", func() bool { return since(restarted, succeeded) >= 50 })
	srv.Pause()
	paused := time.Now()
	waitFor("failures while Redis hangs", func() bool { return since(paused, anything) >= 16 })
	resuming := time.Now()
	srv.Resume()
	resumed := time.Now()
	waitFor("service after the resume", func() bool { return since(resumed, succeeded) >= 50 })
	close(stop)
	wg.Wait()

	outages := [][2]time.Time{{killed, restarting}, {paused, resuming}}
	recoveries := []time.Time{restarted, resumed}
	var ok, failed int
	firstAfter := make([]time.Time, len(recoveries))
	var slowest time.Duration
	for _, r := range results {
		slowest = max(slowest, r.end.Sub(r.start))
		switch r.code {
		case "":
			ok++
			for _, o := range outages {
				if r.start.After(o[0]) && r.end.Before(o[1]) {
					t.Errorf("a request succeeded while Redis was out (%s..%s)", r.start.Format(time.StampMicro), r.end.Format(time.StampMicro))
				}
			}
			for i, rec := range recoveries {
				if r.start.After(rec) && (firstAfter[i].IsZero() || r.end.Before(firstAfter[i])) {
					firstAfter[i] = r.end
				}
			}
		case "InternalError":
			failed++
		default:
			t.Errorf("error code %q, want InternalError", r.code)
		}
	}
	t.Logf("%d requests: %d ok, %d InternalError; %d messages sent, %d refused unconfirmed; slowest %s; first success %s after the restart, %s after the resume",
		len(results), ok, failed, delivered.Load(), unverified.Load(), slowest, firstAfter[0].Sub(restarted), firstAfter[1].Sub(resumed))
	if n := violations.Load(); n != 0 {
		t.Errorf("%d messages were about to go out without their code or cooldown stored", n)
	}
	if int64(ok) != delivered.Load() {
		t.Errorf("%d successes but %d messages sent", ok, delivered.Load())
	}
	if failed == 0 {
		t.Error("no request failed: the fault did not happen")
	}
	// Timeouts bound every answer: none hangs (a generous bound, not a
	// speed check; the client's own timeouts are 500 ms).
	if slowest > 30*time.Second {
		t.Errorf("slowest answer took %s: a request hung", slowest)
	}
	// After a recovery a pooled connection that the outage broke fails the
	// one request that next uses it (closed, never retried: a retried script
	// could apply twice) and is then dropped. So once service has resumed,
	// the failures are bounded by the pool (go-redis: 10 per CPU), whatever
	// the machine's speed.
	pool := 10 * runtime.GOMAXPROCS(0)
	for i, rec := range recoveries {
		end := time.Now()
		if i+1 < len(outages) {
			end = outages[i+1][0]
		}
		lateFailures := 0
		for _, r := range results {
			if _, harness := unconfirmed.Load(r.phone); harness || r.code == "" {
				continue
			}
			if r.start.After(firstAfter[i]) && r.start.Before(end) && r.start.After(rec) {
				lateFailures++
			}
		}
		if lateFailures > pool {
			t.Errorf("recovery %d: %d requests failed after service resumed; want at most one per pooled connection (%d)", i, lateFailures, pool)
		}
	}
}
