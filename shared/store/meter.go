package store

import "time"

// The fraud guard's part of the model: counters and conversion guards that
// an IssueOp checks and adds to in the same atomic step as the code it
// issues, and conversion credits that a CheckOp adds when it consumes a
// code. Their keys carry the account's hash tag, like the request rate's, so
// on a Redis Cluster the account's half of an issue is one script on one
// slot. Every counter
// and conversion expires on its own (its span, or its calendar period, plus
// a cool-off), so memory is bounded by the keys the callers build: countries
// and number prefixes, never whole numbers.

// Period is a calendar period of a Counter, in UTC.
type Period int

// Calendar periods.
const (
	Sliding Period = iota // no calendar period: the counter slides over Span
	Day                   // the UTC day
	Month                 // the UTC month
)

// Counter counts what issued codes cost, checked before the issue: the
// issue is refused (CounterFull) when the count plus Add would exceed Max.
// A sliding counter sums buckets of Bucket over the last Span (a bucket
// counts while any part of it lies within Span, so a counter refuses at the
// latest one bucket early); a calendar counter sums the current Period and
// starts again at zero when the next one begins.
type Counter struct {
	Key    string
	Period Period
	Span   time.Duration // Sliding only
	Bucket time.Duration // Sliding only
	Max    int64
	Add    int64 // > 0: what one issue counts (1 for a send, a price for a budget)
}

// Conversion guards a scope (a country, a number prefix) by the share of its
// issued codes that were verified. Issues and verifications are counted per
// bucket of Bucket by the time of the issue, over the last Span; buckets
// younger than Mature (their end plus Mature is still ahead: their codes may
// yet be verified) are not judged. When the judged buckets hold at least
// MinIssued issues and fewer than MinPermille per mille of them were
// verified, the issue is refused (Unconverted, First set) and so is every
// issue for Cooloff; the counts start again from zero. After the cool-off
// the scope is on probation: at most one issue per Trickle goes through
// (the others are refused) until the new counts are judged again, which
// either ends the probation or starts another cool-off.
type Conversion struct {
	Key         string
	Span        time.Duration
	Bucket      time.Duration
	Mature      time.Duration
	MinIssued   int64
	MinPermille int64
	Cooloff     time.Duration
	Trickle     time.Duration
}

// PeriodBounds returns the start and end of the calendar period p that holds
// t (UTC), and an id that differs from one period to the next. It defines
// the periods for every store: the Redis scripts compute the same ids.
func PeriodBounds(p Period, t time.Time) (id int64, start, end time.Time) {
	t = t.UTC()
	switch p {
	case Day:
		start = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return start.Unix() / 86400, start, start.AddDate(0, 0, 1)
	case Month:
		start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return int64(t.Year())*12 + int64(t.Month()) - 1, start, start.AddDate(0, 1, 0)
	}
	return 0, time.Time{}, time.Time{}
}
