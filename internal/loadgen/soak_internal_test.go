package loadgen

import (
	"testing"
	"time"
)

// TestSoakP99LastFullMinute: a 10-minute soak ends with a remainder bucket of
// a few requests; the p99 check must judge the last full minute, so a slow
// tenth minute fails the check even when the remainder is fast.
func TestSoakP99LastFullMinute(t *testing.T) {
	s := &soaker{
		samples: []Sample{{At: 30 * time.Second}, {At: 90 * time.Second}},
		p99:     []time.Duration{10 * time.Millisecond, 97 * time.Millisecond, 5 * time.Millisecond},
		counts:  []uint64{120000, 119997, 2},
	}
	if c := p99Check(t, s); c.OK {
		t.Fatalf("p99 check %+v: want a failure judged on minute 2 (97 ms > 21 ms)", c)
	}
	s.p99[1] = 12 * time.Millisecond
	if c := p99Check(t, s); !c.OK {
		t.Fatalf("p99 check %+v: 12 ms is within 2×10 ms + 1 ms", c)
	}
	if lastFull(nil) != -1 || lastFull([]uint64{5}) != 0 || lastFull([]uint64{100, 40, 1}) != 0 {
		t.Fatal("lastFull")
	}
}

// p99Check returns the report's "p99 steady" check, failing the test when
// the report has none.
func p99Check(t *testing.T, s *soaker) Check {
	t.Helper()
	for _, c := range s.report(3, 3).Checks {
		if c.Name == "p99 steady" {
			return c
		}
	}
	t.Fatal("the report has no p99 steady check")
	return Check{}
}
