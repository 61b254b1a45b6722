package memstore

import (
	"time"

	"github.com/verifyfn/verifyfn/shared/store"
)

// meters holds the fraud guard's counters and conversions (store.Counter,
// store.Conversion). Times are counted in microseconds since the Unix epoch,
// as the Redis scripts count them, so that both stores put an event in the
// same bucket.
type meters struct {
	counters map[string]*counterRec
	convs    map[string]*convRec
}

func newMeters() meters {
	return meters{counters: map[string]*counterRec{}, convs: map[string]*convRec{}}
}

type counterRec struct {
	period  int64           // calendar counters: the period id
	n       int64           // calendar counters: the count of the period
	buckets map[int64]int64 // sliding counters: bucket index -> count
	warned  bool            // refused since it last let an issue through
	expires time.Time
}

type convRec struct {
	buckets map[int64]*[2]int64 // bucket index -> issued, verified
	blocked time.Time           // end of the cool-off; zero when not cooling off nor on probation
	next    time.Time           // on probation: the earliest next issue
	reset   time.Time           // the counts started again here: older issues are not credited
	expires time.Time
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us) }

// bucketOf returns the index of the bucket of width b (µs) that holds t (µs).
func bucketOf(t, b int64) int64 {
	if t >= 0 {
		return t / b
	}
	return -((-t + b - 1) / b)
}

// inSpan reports whether bucket k of width b still counts at now for a span:
// some part of it lies within (now - span, now].
func inSpan(k, b, span, now int64) bool { return (k+1)*b > now-span }

func (m *meters) counter(c store.Counter, now time.Time) *counterRec {
	rec := m.counters[c.Key]
	if rec != nil && !now.Before(rec.expires) {
		delete(m.counters, c.Key)
		rec = nil
	}
	return rec
}

// total returns the count of rec for c at now, dropping what no longer
// counts.
func (rec *counterRec) total(c store.Counter, now time.Time) int64 {
	if rec == nil {
		return 0
	}
	if c.Period != store.Sliding {
		id, _, _ := store.PeriodBounds(c.Period, now)
		if rec.period != id {
			rec.period, rec.n, rec.warned = id, 0, false
		}
		return rec.n
	}
	t, b, span := micros(now), c.Bucket.Microseconds(), c.Span.Microseconds()
	var sum int64
	for k, n := range rec.buckets {
		if !inSpan(k, b, span, t) {
			delete(rec.buckets, k)
			continue
		}
		sum += n
	}
	return sum
}

// retryAfter is how long until an issue of c fits under Max again.
func (rec *counterRec) retryAfter(c store.Counter, now time.Time, total int64) time.Duration {
	if c.Period != store.Sliding {
		_, _, end := store.PeriodBounds(c.Period, now)
		return end.Sub(now)
	}
	if c.Add > c.Max {
		return c.Span
	}
	t, b, span := micros(now), c.Bucket.Microseconds(), c.Span.Microseconds()
	oldest := bucketOf(t, b) + 1
	for k := range rec.buckets {
		oldest = min(oldest, k)
	}
	for k := oldest; k <= bucketOf(t, b); k++ {
		total -= rec.buckets[k]
		if total+c.Add <= c.Max {
			return fromMicros((k+1)*b + span).Sub(now)
		}
	}
	return c.Span
}

func (m *meters) conv(c store.Conversion, now time.Time) *convRec {
	rec := m.convs[c.Key]
	if rec != nil && !now.Before(rec.expires) {
		delete(m.convs, c.Key)
		rec = nil
	}
	return rec
}

// judged sums the issues and verifications of rec's mature buckets within
// c.Span, dropping the buckets that left it.
func (rec *convRec) judged(c store.Conversion, now time.Time) (issued, verified int64) {
	t, b := micros(now), c.Bucket.Microseconds()
	span, mature := c.Span.Microseconds(), c.Mature.Microseconds()
	for k, n := range rec.buckets {
		if !inSpan(k, b, span, t) {
			delete(rec.buckets, k)
			continue
		}
		if (k+1)*b+mature <= t {
			issued += n[0]
			verified += n[1]
		}
	}
	return issued, verified
}

// check runs the conversions, then the counters, of op at now. It returns the
// refusal, if any; judging a conversion may change its state (a cool-off
// starts, a probation ends) even when the issue is refused.
func (m *meters) check(op store.IssueOp, now time.Time) (store.IssueResult, bool) {
	for i, c := range op.Conversions {
		rec := m.conv(c, now)
		if rec == nil {
			continue
		}
		probation := !rec.blocked.IsZero()
		if probation && now.Before(rec.blocked) {
			return store.IssueResult{Status: store.Unconverted, Index: i, RetryAfter: rec.blocked.Sub(now)}, true
		}
		if probation && now.Before(rec.next) {
			return store.IssueResult{Status: store.Unconverted, Index: i, RetryAfter: rec.next.Sub(now)}, true
		}
		issued, verified := rec.judged(c, now)
		if issued < c.MinIssued {
			continue
		}
		if verified*1000 < c.MinPermille*issued {
			rec.blocked, rec.next, rec.reset = now.Add(c.Cooloff), time.Time{}, now
			clear(rec.buckets)
			rec.expires = rec.blocked.Add(c.Span + c.Bucket)
			return store.IssueResult{Status: store.Unconverted, Index: i, First: true, RetryAfter: c.Cooloff}, true
		}
		if probation {
			rec.blocked, rec.next = time.Time{}, time.Time{}
		}
	}
	for i, c := range op.Counters {
		rec := m.counter(c, now)
		total := rec.total(c, now)
		if total+c.Add <= c.Max {
			continue
		}
		if rec == nil {
			rec = &counterRec{buckets: map[int64]int64{}}
			rec.period, _, _ = store.PeriodBounds(c.Period, now)
			m.counters[c.Key] = rec
		}
		first := !rec.warned
		rec.warned = true
		rec.expires = counterExpiry(c, now)
		return store.IssueResult{Status: store.CounterFull, Index: i, First: first, RetryAfter: rec.retryAfter(c, now, total)}, true
	}
	return store.IssueResult{}, false
}

func counterExpiry(c store.Counter, now time.Time) time.Time {
	if c.Period != store.Sliding {
		_, _, end := store.PeriodBounds(c.Period, now)
		return end
	}
	return now.Add(c.Span + c.Bucket)
}

// count adds one issue of op at now to its counters and conversions.
func (m *meters) count(op store.IssueOp, now time.Time) {
	for _, c := range op.Counters {
		rec := m.counter(c, now)
		if rec == nil {
			rec = &counterRec{buckets: map[int64]int64{}}
			rec.period, _, _ = store.PeriodBounds(c.Period, now)
			m.counters[c.Key] = rec
		}
		rec.total(c, now) // rolls a calendar period over
		if c.Period != store.Sliding {
			rec.n += c.Add
		} else {
			rec.buckets[bucketOf(micros(now), c.Bucket.Microseconds())] += c.Add
		}
		rec.warned = false
		rec.expires = counterExpiry(c, now)
	}
	for _, c := range op.Conversions {
		rec := m.conv(c, now)
		if rec == nil {
			rec = &convRec{buckets: map[int64]*[2]int64{}}
			m.convs[c.Key] = rec
		}
		k := bucketOf(micros(now), c.Bucket.Microseconds())
		if rec.buckets[k] == nil {
			rec.buckets[k] = &[2]int64{}
		}
		rec.buckets[k][0]++
		if !rec.blocked.IsZero() {
			rec.next = now.Add(c.Trickle)
		}
		if exp := now.Add(c.Span + c.Bucket); exp.After(rec.expires) {
			rec.expires = exp
		}
	}
}

// credit counts a code issued at issued, consumed at now, as verified in
// each conversion of cs: in the bucket of its issue, if that bucket still
// counts and its counts did not start again after the issue.
func (m *meters) credit(cs []store.Conversion, issued, now time.Time) {
	for _, c := range cs {
		rec := m.conv(c, now)
		if rec == nil || issued.Before(rec.reset) {
			continue
		}
		b := c.Bucket.Microseconds()
		k := bucketOf(micros(issued), b)
		if !inSpan(k, b, c.Span.Microseconds(), micros(now)) {
			continue
		}
		if n := rec.buckets[k]; n != nil && n[1] < n[0] {
			n[1]++
		}
	}
}

// sweep deletes a few expired counters and conversions.
func (m *meters) sweep(now time.Time) {
	n := 0
	for k, rec := range m.counters {
		if !now.Before(rec.expires) {
			delete(m.counters, k)
		}
		if n++; n >= sweepPerOp {
			break
		}
	}
	n = 0
	for k, rec := range m.convs {
		if !now.Before(rec.expires) {
			delete(m.convs, k)
		}
		if n++; n >= sweepPerOp {
			break
		}
	}
}

func (m *meters) len() int { return len(m.counters) + len(m.convs) }
