package redisstore_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/internal/redistest"
	"github.com/verifyfn/verifyfn/shared/store"
)

// BenchmarkRoundTrip measures SendVerifyCode's store operation (an Issue
// with the request rate, the bound-accounts guard, the cooldown, two send
// windows and the code, each op for a new number) against a bare EVALSHA of
// a trivial one-key script, the ceiling for one round trip on the same
// client and server. Each mode reports ops/s and p99; the issue benchmarks
// also report their ops/s as a percentage of the preceding ceiling run
// ("%ceiling"). Run with -bench RoundTrip; the redis-server is test-owned.
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
		r, err := st.Issue(ctx, store.IssueOp{
			Rate:     rate,
			LimitKey: "{200000000001}:limit:" + dest,
			Cooldown: time.Minute,
			Windows:  []store.Window{{Period: time.Hour, Max: 5}, {Period: 24 * time.Hour, Max: 10}},
			Guard:    &store.Guard{Coll: "{200000000001}:bound", Key: dest, Max: 5},
			CodeKey:  "{200000000001}:code:" + dest + "|intlpartnersmgt|register|",
			Digest:   digest, TTL: 10 * time.Minute, MaxAttempts: 5,
		})
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
		name     string
		parallel bool
	}{{"serial", false}, {"parallel", true}} {
		var ceilingOps float64
		for _, op := range []struct {
			name string
			fn   func() error
		}{{"ceiling-evalsha", ceiling}, {"issue", issue}} {
			b.Run(mode.name+"/"+op.name, func(b *testing.B) {
				ops, p99 := measure(b, mode.parallel, op.fn)
				b.ReportMetric(ops, "ops/s")
				b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
				if op.name == "ceiling-evalsha" {
					ceilingOps = ops
				} else if ceilingOps > 0 {
					b.ReportMetric(100*ops/ceilingOps, "%ceiling")
				}
			})
		}
	}
}

// measure runs fn b.N times (in parallel when asked) and returns ops/s and
// the 99th percentile latency.
func measure(b *testing.B, parallel bool, fn func() error) (float64, time.Duration) {
	var mu sync.Mutex
	var lat []time.Duration
	run := func(next func() bool) {
		local := make([]time.Duration, 0, 1024)
		for next() {
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
	}
	b.ResetTimer()
	start := time.Now()
	if parallel {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) { run(pb.Next) })
	} else {
		i := 0
		run(func() bool { i++; return i <= b.N })
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) == 0 {
		return 0, 0
	}
	slices.Sort(lat)
	return float64(len(lat)) / elapsed.Seconds(), lat[len(lat)*99/100]
}
