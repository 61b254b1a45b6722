package redisstore_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/verifyfn/verifyfn/internal/redistest"
	"github.com/verifyfn/verifyfn/shared/store"
)

// BenchmarkRoundTrip measures SendVerifyCode's store operation (an Issue
// with the request rate, the bound-accounts guard, the cooldown, two send
// windows and the code, each op for a new number) against a bare EVALSHA of
// a trivial one-key script, the ceiling for one round trip on the same
// client and server, in the same run. For one client (serial) and for 16
// concurrent ones (parallel) it reports ops/s and p99 of both and the issue
// throughput as a percentage of the ceiling ("%ceiling"). Run with
// -bench RoundTrip; the redis-server is test-owned, on loopback.
func BenchmarkRoundTrip(b *testing.B) {
	srv := redistest.Start(b)
	st := open(b, srv.URL())
	c := st.Client()
	ctx := context.Background()
	const trivial = "return 1"
	sum := sha1.Sum([]byte(trivial))
	sha := hex.EncodeToString(sum[:])
	if err := c.ScriptLoad(ctx, trivial).Err(); err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	digest := make([]byte, 32)
	rate := &store.Rate{Key: "{200000000001}:rate:intlpartnersmgt:SendVerifyCode", Limit: 1 << 30, Per: time.Second}
	issue := func() error {
		dest := "+8525" + strconv.FormatInt(1_000_000+seq.Add(1), 10)
		r, err := st.Issue(ctx, sendOp(dest, rate, digest, false))
		if err == nil && r.Status != store.Issued {
			b.Fatalf("Issue = %+v", r)
		}
		return err
	}
	ceiling := func() error { return c.EvalSha(ctx, sha, []string{"{200000000001}:bench"}).Err() }
	if err := issue(); err != nil { // loads the script
		b.Fatal(err)
	}

	for _, mode := range []struct {
		name        string
		concurrency int
	}{{"serial", 1}, {"parallel", 16}} {
		b.Run(mode.name, func(b *testing.B) {
			c, i := compare(b, mode.concurrency, ceiling, issue)
			b.ReportMetric(c.opsPerSec, "ceiling-ops/s")
			b.ReportMetric(float64(c.p99.Microseconds()), "ceiling-p99-µs")
			b.ReportMetric(i.opsPerSec, "issue-ops/s")
			b.ReportMetric(float64(i.p99.Microseconds()), "issue-p99-µs")
			b.ReportMetric(100*i.opsPerSec/c.opsPerSec, "%ceiling")
		})
	}
}

// sendOp is SendVerifyCode's IssueOp for dest as shared/otp builds it, with
// the fraud guard's prefix velocity counter and its prefix and country
// conversions when guarded (their thresholds never refuse).
func sendOp(dest string, rate *store.Rate, digest []byte, guarded bool) store.IssueOp {
	const acct = "{200000000001}:"
	op := store.IssueOp{
		Rate:     rate,
		LimitKey: store.DestTag("200000000001", dest) + "limit:" + dest,
		Cooldown: time.Minute,
		Windows:  []store.Window{{Period: time.Hour, Max: 5}, {Period: 24 * time.Hour, Max: 10}},
		Guard:    &store.Guard{Coll: acct + "bound", Key: dest, Max: 5},
		CodeKey:  acct + "code:" + dest + "|intlpartnersmgt|register|",
		Digest:   digest, TTL: 10 * time.Minute, MaxAttempts: 5,
	}
	if guarded {
		op.Counters = []store.Counter{{Key: acct + "fg:v:" + dest[:7], Span: time.Hour, Bucket: 5 * time.Minute, Max: 1 << 40, Add: 1}}
		conv := store.Conversion{Span: 4 * time.Hour, Bucket: 10 * time.Minute, Mature: 10 * time.Minute,
			MinIssued: 1 << 40, MinPermille: 0, Cooloff: time.Hour, Trickle: time.Minute}
		p, c := conv, conv
		p.Key, c.Key = acct+"fg:p:"+dest[:7], acct+"fg:c:HK"
		op.Conversions = []store.Conversion{p, c}
	}
	return op
}

// BenchmarkScripts reports the Redis server's CPU per script
// (usec_per_call of EVALSHA in INFO commandstats) and the commands each runs:
// SendVerifyCode's IssueOp without and with the fraud guard's counter and
// conversions (each for a new number), and the CheckOp that consumes such a
// code with a right digest (its codes issued before the timer starts).
func BenchmarkScripts(b *testing.B) {
	srv := redistest.Start(b)
	st := open(b, srv.URL())
	c := st.Client()
	ctx := context.Background()
	digest := make([]byte, 32)
	rate := &store.Rate{Key: "{200000000001}:rate:intlpartnersmgt:SendVerifyCode", Limit: 1 << 30, Per: time.Second}
	var seq int64
	report := func(b *testing.B, unit string) {
		calls, usec, inner := evalStats(b, c)
		if calls > 0 {
			b.ReportMetric(usec/calls, "server-µs/"+unit)
			b.ReportMetric(inner/calls, "commands/"+unit)
		}
	}
	for _, guarded := range []bool{false, true} {
		name := "issue/plain"
		if guarded {
			name = "issue/guarded"
		}
		b.Run(name, func(b *testing.B) {
			if err := c.ConfigResetStat(ctx).Err(); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				seq++
				dest := "+8525" + strconv.FormatInt(1_000_000+seq, 10)
				if r, err := st.Issue(ctx, sendOp(dest, rate, digest, guarded)); err != nil || r.Status != store.Issued {
					b.Fatalf("Issue = %+v, %v", r, err)
				}
			}
			report(b, "issue")
		})
	}
	b.Run("check/consume", func(b *testing.B) {
		var ops []store.IssueOp
		for range b.N {
			seq++
			op := sendOp("+8525"+strconv.FormatInt(1_000_000+seq, 10), rate, digest, false)
			if r, err := st.Issue(ctx, op); err != nil || r.Status != store.Issued {
				b.Fatalf("Issue = %+v, %v", r, err)
			}
			ops = append(ops, op)
		}
		if err := c.ConfigResetStat(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for _, op := range ops {
			r, err := st.Check(ctx, store.CheckOp{Rate: rate, CodeKey: op.CodeKey, LimitKey: op.LimitKey, Digest: digest, MaxAttempts: 5})
			if err != nil || r.Status != store.Passed {
				b.Fatalf("Check = %+v, %v", r, err)
			}
		}
		b.StopTimer()
		report(b, "check")
	})
}

// evalStats sums the calls and microseconds of EVALSHA and EVAL in INFO
// commandstats, and the calls of the commands the scripts ran.
func evalStats(b *testing.B, c redis.UniversalClient) (calls, usec, inner float64) {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		script := name == "cmdstat_evalsha" || name == "cmdstat_eval"
		switch name {
		case "cmdstat_config", "cmdstat_info", "cmdstat_hello", "cmdstat_ping", "cmdstat_client":
			continue // the benchmark's own
		}
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			f, _ := strconv.ParseFloat(v, 64)
			switch {
			case k == "calls" && script:
				calls += f
			case k == "usec" && script:
				usec += f
			case k == "calls":
				inner += f
			}
		}
	}
	return calls, usec, inner
}

type figures struct {
	opsPerSec float64
	p99       time.Duration
}

// compare runs b.N ceiling ops and b.N issue ops with the given concurrency,
// in ten alternating phases, so both see the same machine: a noisy neighbour
// slows both, not one.
func compare(b *testing.B, concurrency int, ceiling, issue func() error) (figures, figures) {
	const phases = 10
	per := max(b.N/phases, 1)
	var took [2]time.Duration
	var lat [2][]time.Duration
	b.ResetTimer()
	for range phases {
		for k, fn := range []func() error{ceiling, issue} {
			d, l := phase(b, per, concurrency, fn)
			took[k] += d
			lat[k] = append(lat[k], l...)
		}
	}
	b.StopTimer()
	var out [2]figures
	for k := range out {
		slices.Sort(lat[k])
		out[k] = figures{opsPerSec: float64(per*phases) / took[k].Seconds(), p99: lat[k][len(lat[k])*99/100]}
	}
	return out[0], out[1]
}

// phase runs fn n times on concurrency goroutines and returns the elapsed
// time and every latency.
func phase(b *testing.B, n, concurrency int, fn func() error) (time.Duration, []time.Duration) {
	var left atomic.Int64
	left.Store(int64(n))
	var mu sync.Mutex
	lat := make([]time.Duration, 0, n)
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			local := make([]time.Duration, 0, n/concurrency+1)
			for left.Add(-1) >= 0 {
				t0 := time.Now()
				if err := fn(); err != nil {
					b.Error(err)
					return
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return time.Since(start), lat
}
