package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/app/all"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/tcauth"
)

// newBenchApp builds the real stack (front door, engine, embedded store) with
// limits out of the way and a sender that drops messages, so the benchmark
// measures verifyfn itself.
func newBenchApp(b *testing.B) http.Handler {
	b.Helper()
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	cfg.CodeKey = []byte("bench-code-key-0123456789abcdef")
	cfg.RateLimit = 1 << 30
	// Runs of consecutive numbers from one account are what the fraud
	// guard refuses as pumping: it stays on with thresholds no run reaches.
	cfg.Guard.PrefixLimit = 1 << 30
	cfg.Guard.MinPermille = 0
	a, err := all.New(cfg, app.Options{
		Sender: delivery.SenderFunc(func(context.Context, delivery.Message) error { return nil }),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	return a.Handler
}

// signedSend returns a TC3-signed SendVerifyCode for the n-th of a million
// distinct Hong Kong mobile numbers.
func signedSend(url, host string, n int64, now time.Time) *http.Request {
	prefixes := []string{"512", "513", "514", "912", "913", "923", "934", "635", "640", "651"}
	num := fmt.Sprintf("%s%05d", prefixes[(n/100_000)%int64(len(prefixes))], n%100_000)
	body := []byte(`{"CountryCode":"852","PhoneNum":"` + num + `"}`)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-TC-Action", "SendVerifyCode")
	req.Header.Set("X-TC-Version", "2022-09-28")
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("Authorization", tcauth.Sign(accounts.DevSecretID, []byte(accounts.DevSecretKey), "intlpartnersmgt",
		"POST", host, "application/json", "", body, ts))
	return req
}

// BenchmarkLoopback compares, in one run, a full signed SendVerifyCode over a
// keep-alive loopback connection with the same server stack answering a bare
// envelope (the ceiling). Report full/ceiling ns/op as the ratio.
func BenchmarkLoopback(b *testing.B) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	do := func(b *testing.B, req *http.Request) {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if bytes.Contains(body, []byte(`"Error"`)) {
			b.Fatalf("error response: %s", body)
		}
	}
	b.Run("ceiling", func(b *testing.B) {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header()["Content-Type"] = []string{"application/json"}
			w.Write([]byte(`{"Response":{"RequestId":"x"}}`))
		}))
		defer ts.Close()
		var n atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				do(b, signedSend(ts.URL, ts.Listener.Addr().String(), n.Add(1), time.Now()))
			}
		})
	})
	b.Run("SendVerifyCode", func(b *testing.B) {
		ts := httptest.NewServer(newBenchApp(b))
		defer ts.Close()
		var n atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				do(b, signedSend(ts.URL, ts.Listener.Addr().String(), n.Add(1), time.Now()))
			}
		})
	})
}

// BenchmarkHandler measures the handler alone (no network): allocations per
// full SendVerifyCode.
func BenchmarkHandler(b *testing.B) {
	h := newBenchApp(b)
	now := time.Now()
	reqs := make([]*http.Request, 0, b.N)
	for i := range b.N {
		reqs = append(reqs, signedSend("http://bench.local/", "bench.local", int64(i), now))
	}
	w := &bodyWriter{header: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for _, r := range reqs {
		w.body = w.body[:0]
		h.ServeHTTP(w, r)
		if bytes.Contains(w.body, []byte(`"Error"`)) {
			b.Fatalf("error: %s", w.body)
		}
	}
}

// bodyWriter is a ResponseWriter that reuses its header map and buffer, so
// BenchmarkHandler counts only the handler's own allocations.
type bodyWriter struct {
	header http.Header
	body   []byte
}

func (w *bodyWriter) Header() http.Header         { return w.header }
func (w *bodyWriter) WriteHeader(int)             {}
func (w *bodyWriter) Write(p []byte) (int, error) { w.body = append(w.body, p...); return len(p), nil }
