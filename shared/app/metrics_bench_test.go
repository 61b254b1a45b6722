package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/metrics"
)

// newMetricsBenchApp is newBenchApp's stack, with metrics when m is not nil.
func newMetricsBenchApp(b *testing.B, m *metrics.Metrics) http.Handler {
	b.Helper()
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	cfg.CodeKey = []byte("bench-code-key-0123456789abcdef")
	cfg.RateLimit = 1 << 30
	a, err := app.New(cfg, app.Options{
		Sender:  delivery.SenderFunc(func(context.Context, delivery.Message) error { return nil }),
		Metrics: m,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	return a.Handler
}

// BenchmarkMetricsCost is what the metrics cost a request, measured in one
// run with the two stacks interleaved (batches of 64 requests to each in
// turn), so that the load of the rest of the machine falls on both alike:
//
//   - handler: a signed SendVerifyCode through the handler alone (no
//     network), with the CPU time of the calling thread;
//   - loopback: the same request as a round trip over a keep-alive
//     loopback connection (as BenchmarkLoopback), one at a time.
//
// Each reports the time per request without (off-ns/req) and with metrics
// (on-ns/req) and their ratio; docs/benchmarks.md has the figures.
func BenchmarkMetricsCost(b *testing.B) {
	const batch = 64
	apps := [2]http.Handler{newMetricsBenchApp(b, nil), newMetricsBenchApp(b, metrics.New(metrics.Options{}))}
	var n atomic.Int64
	report := func(b *testing.B, spent [2]time.Duration, reqs [2]int, unit string) {
		off, on := float64(spent[0])/float64(reqs[0]), float64(spent[1])/float64(reqs[1])
		b.ReportMetric(off, "off-"+unit+"/req")
		b.ReportMetric(on, "on-"+unit+"/req")
		b.ReportMetric(on/off, "ratio")
	}
	b.Run("handler", func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		w := &bodyWriter{header: http.Header{}}
		var spent [2]time.Duration
		var reqs [2]int
		for done := 0; done < b.N; {
			for side, h := range apps {
				rs := make([]*http.Request, batch)
				for i := range rs {
					rs[i] = signedSend("http://bench.local/", "bench.local", n.Add(1), time.Now())
				}
				start := threadCPU()
				for _, r := range rs {
					w.body = w.body[:0]
					h.ServeHTTP(w, r)
					if bytes.Contains(w.body, []byte(`"Error"`)) {
						b.Fatalf("error: %s", w.body)
					}
				}
				spent[side] += threadCPU() - start
				reqs[side] += batch
			}
			done += 2 * batch
		}
		report(b, spent, reqs, "cpu-ns")
	})
	b.Run("loopback", func(b *testing.B) {
		var servers [2]*httptest.Server
		for i, h := range apps {
			servers[i] = httptest.NewServer(h)
			defer servers[i].Close()
		}
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		var spent [2]time.Duration
		var reqs [2]int
		for done := 0; done < b.N; {
			for side, ts := range servers {
				rs := make([]*http.Request, batch)
				for i := range rs {
					rs[i] = signedSend(ts.URL, ts.Listener.Addr().String(), n.Add(1), time.Now())
				}
				start := time.Now()
				for _, r := range rs {
					resp, err := client.Do(r)
					if err != nil {
						b.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if bytes.Contains(body, []byte(`"Error"`)) {
						b.Fatalf("error response: %s", body)
					}
				}
				spent[side] += time.Since(start)
				reqs[side] += batch
			}
			done += 2 * batch
		}
		report(b, spent, reqs, "ns")
	})
}

// threadCPU is the CPU time the calling OS thread has used.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_THREAD, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
