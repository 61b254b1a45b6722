package loadgen

import (
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: 2^subBits buckets per power of
// two, so a recorded latency is off by at most 1/2^(subBits+1) (1.6 %).
const subBits = 5

// numBuckets covers latencies up to 2^40 µs (about 12 days).
const numBuckets = (40 + 1) << subBits

// Histogram counts latencies in log-linear buckets of microseconds, like an
// HDR histogram: exact below 32 µs, then 32 buckets per power of two. The
// zero value is empty and ready; it is not safe for concurrent use.
type Histogram struct {
	counts [numBuckets]uint64
	n      uint64
	max    time.Duration
}

func bucketOf(us uint64) int {
	if us < 1<<subBits {
		return int(us)
	}
	shift := bits.Len64(us) - subBits - 1
	i := shift<<subBits + int(us>>shift)
	if i >= numBuckets {
		return numBuckets - 1
	}
	return i
}

// bucketMid is the middle of bucket i, in microseconds.
func bucketMid(i int) float64 {
	if i < 2<<subBits {
		return float64(i)
	}
	shift := i>>subBits - 1
	top := uint64(i - shift<<subBits)
	lo := top << shift
	return float64(lo) + float64(uint64(1)<<shift)/2
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d.Microseconds()))]++
	h.n++
	if d > h.max {
		h.max = d
	}
}

// Count is the number of recorded latencies.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest recorded latency.
func (h *Histogram) Max() time.Duration { return h.max }

// Merge adds every latency of o.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Quantile returns the latency at quantile q (0 < q <= 1), or 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			d := time.Duration(bucketMid(i) * float64(time.Microsecond))
			return min(d, h.max)
		}
	}
	return h.max
}
