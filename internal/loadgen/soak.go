package loadgen

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/store"
)

// SoakPolicy is the server policy of an in-process soak: every lifetime is
// short (codes 30 s, cooldown 5 s, send windows 3 per 15 s and 5 per 30 s),
// so that within the first minute expired state is being evicted as fast as
// new state is made, and memory must then stay flat.
func SoakPolicy(c *config.Config) {
	c.CodeTTL = 30 * time.Second
	c.Cooldown = 5 * time.Second
	c.Windows = []store.Window{{Period: 15 * time.Second, Max: 3}, {Period: 30 * time.Second, Max: 5}}
}

// Sample is one soak measurement.
type Sample struct {
	At           time.Duration // since the phase started
	HeapInuse    uint64        // runtime.MemStats.HeapInuse, bytes (client and server: one process)
	StoreEntries int           // live ephemeral entries of the embedded store; -1 when not in use
	Goroutines   int
}

// Check is one soak verdict.
type Check struct {
	Name   string
	OK     bool
	Detail string
}

// SoakReport is what a soak measured and concluded.
type SoakReport struct {
	Samples []Sample
	// MinuteP99 and MinuteCount hold each minute's p99 and requests (the
	// last minute may be partial).
	MinuteP99   []time.Duration
	MinuteCount []uint64
	// GoroutinesBefore is counted before the server started;
	// GoroutinesAfter after it shut down and every connection closed.
	GoroutinesBefore, GoroutinesAfter int
	Checks                            []Check
}

// OK reports whether every check passed.
func (r *SoakReport) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

type soaker struct {
	every   time.Duration
	srv     *server
	mu      sync.Mutex
	samples []Sample
	p99     []time.Duration
	counts  []uint64
}

func newSoaker(every time.Duration, srv *server) *soaker { return &soaker{every: every, srv: srv} }

func (s *soaker) sample(at time.Duration) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	entries := -1
	if s.srv != nil && s.srv.mem != nil {
		entries = s.srv.mem.Len()
	}
	s.mu.Lock()
	s.samples = append(s.samples, Sample{At: at, HeapInuse: ms.HeapInuse, StoreEntries: entries, Goroutines: runtime.NumGoroutine()})
	s.mu.Unlock()
}

func (s *soaker) minute(h *Histogram) {
	s.mu.Lock()
	s.p99 = append(s.p99, h.Quantile(0.99))
	s.counts = append(s.counts, h.Count())
	s.mu.Unlock()
}

// window summarises the samples taken in (from, to]: the largest and the
// mean of f.
func window(samples []Sample, from, to time.Duration, f func(Sample) float64) (maxV, mean float64, n int) {
	var sum float64
	for _, s := range samples {
		if s.At <= from || s.At > to {
			continue
		}
		v := f(s)
		maxV = max(maxV, v)
		sum += v
		n++
	}
	if n > 0 {
		mean = sum / float64(n)
	}
	return maxV, mean, n
}

func (s *soaker) report(before, after int) *SoakReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &SoakReport{Samples: s.samples, MinuteP99: s.p99, MinuteCount: s.counts, GoroutinesBefore: before, GoroutinesAfter: after}
	if len(s.samples) == 0 {
		return r
	}
	end := s.samples[len(s.samples)-1].At
	lastFrom := max(end-time.Minute, 0)
	// Flat: the last minute's mean is within 25 % (plus a small allowance)
	// of the first minute's highest sample, taken once state has started
	// to expire.
	flat := func(name, unit string, f func(Sample) float64, allowance float64) {
		firstMax, firstMean, n1 := window(s.samples, 0, time.Minute, f)
		_, lastMean, n2 := window(s.samples, lastFrom, end, f)
		if n1 == 0 || n2 == 0 {
			r.Checks = append(r.Checks, Check{Name: name, OK: false, Detail: "not enough samples"})
			return
		}
		limit := 1.25*firstMax + allowance
		r.Checks = append(r.Checks, Check{Name: name, OK: lastMean <= limit, Detail: fmt.Sprintf(
			"first minute mean %.1f%s (max %.1f%s), last minute mean %.1f%s; limit %.1f%s",
			firstMean, unit, firstMax, unit, lastMean, unit, limit, unit)})
	}
	mib := func(v Sample) float64 { return float64(v.HeapInuse) / (1 << 20) }
	flat("heap in use flat", " MiB", mib, 16)
	if s.samples[0].StoreEntries >= 0 {
		flat("store entries flat", "", func(v Sample) float64 { return float64(v.StoreEntries) }, 1000)
	}
	r.Checks = append(r.Checks, Check{Name: "no goroutine leak", OK: after <= before+2,
		Detail: fmt.Sprintf("%d before the server started, %d after it shut down", before, after)})
	if last := lastFull(s.counts); last >= 0 {
		first, lastP99 := s.p99[0], s.p99[last]
		limit := 2*first + time.Millisecond
		r.Checks = append(r.Checks, Check{Name: "p99 steady", OK: lastP99 <= limit,
			Detail: fmt.Sprintf("first minute %s, last full minute (%d) %s; limit %s", ms(first), last+1, ms(lastP99), ms(limit))})
	}
	return r
}

// lastFull returns the index of the last minute that is not a remainder: a
// phase that ends a few milliseconds after a whole minute leaves a last
// bucket of a handful of requests, whose p99 says nothing. A minute counts
// as full when it holds at least half as many requests as the first; -1
// when there is no minute.
func lastFull(counts []uint64) int {
	if len(counts) == 0 {
		return -1
	}
	for i := len(counts) - 1; i > 0; i-- {
		if 2*counts[i] >= counts[0] {
			return i
		}
	}
	return 0
}
