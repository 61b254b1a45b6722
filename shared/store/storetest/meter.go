package storetest

import (
	"time"

	"github.com/verifyfn/verifyfn/shared/store"
)

// The fraud guard's counters and conversions (store.Counter,
// store.Conversion). Each issue goes to a destination of its own, so that
// only the counter or the conversion under test can refuse it.

func (f *fixture) meterIssue(name string, c []store.Counter, v []store.Conversion) (store.IssueResult, dest, []byte) {
	f.Helper()
	d, dg := f.dest(name), digest()
	op := f.issueOp(d, dg)
	op.Counters, op.Conversions = c, v
	return f.issue(op), d, dg
}

func (f *fixture) wantMeterIssued(name string, c []store.Counter, v []store.Conversion) (dest, []byte) {
	f.Helper()
	r, d, dg := f.meterIssue(name, c, v)
	if r.Status != store.Issued {
		f.Fatalf("Issue %s = %+v, want Issued", name, r)
	}
	return d, dg
}

func (f *fixture) wantMeterRefused(name string, c []store.Counter, v []store.Conversion, status store.IssueStatus, index int, first bool, maxRetry time.Duration) {
	f.Helper()
	r, d, dg := f.meterIssue(name, c, v)
	if r.Status != status || r.Index != index || r.First != first || r.RetryAfter <= 0 || r.RetryAfter > maxRetry {
		f.Fatalf("Issue %s = %+v, want status %d of index %d, first %v, RetryAfter in (0, %s]", name, r, status, index, first, maxRetry)
	}
	// A refused issue stores nothing: no code, no cooldown.
	f.wantCheck(d, dg, 5, store.NoCode, 0)
}

func testCounterSliding(f *fixture) {
	other := store.Counter{Key: f.key("other"), Span: time.Hour, Bucket: time.Minute, Max: 100, Add: 1}
	c := store.Counter{Key: f.key("velocity"), Span: time.Second, Bucket: 100 * time.Millisecond, Max: 3, Add: 1}
	cs := []store.Counter{other, c}
	for i := range 3 {
		f.wantMeterIssued(string(rune('a'+i)), cs, nil)
	}
	f.wantMeterRefused("d", cs, nil, store.CounterFull, 1, true, c.Span+c.Bucket)
	f.wantMeterRefused("e", cs, nil, store.CounterFull, 1, false, c.Span+c.Bucket)
	// The refusals counted nothing, in this counter or the other.
	for i := range 97 {
		f.wantMeterIssued("o"+string(rune('a'+i%26))+string(rune('a'+i/26)), []store.Counter{other}, nil)
	}
	f.wantMeterRefused("f", []store.Counter{other}, nil, store.CounterFull, 0, true, time.Hour+time.Minute)
	f.advance(c.Span + c.Bucket)
	f.wantMeterIssued("g", []store.Counter{c}, nil)
	// Letting an issue through ends the refusal: the next one is first again.
	f.wantMeterIssued("h", []store.Counter{c}, nil)
	f.wantMeterIssued("i", []store.Counter{c}, nil)
	f.wantMeterRefused("j", []store.Counter{c}, nil, store.CounterFull, 0, true, c.Span+c.Bucket)
}

func testCounterAdds(f *fixture) {
	c := []store.Counter{{Key: f.key("spend"), Span: time.Hour, Bucket: time.Minute, Max: 10, Add: 4}}
	f.wantMeterIssued("a", c, nil)
	f.wantMeterIssued("b", c, nil)
	f.wantMeterRefused("c", c, nil, store.CounterFull, 0, true, time.Hour+time.Minute) // 8 + 4 > 10
	c[0].Add = 2
	f.wantMeterIssued("d", c, nil) // 8 + 2 = 10
	// An issue that costs more than Max is always refused.
	big := []store.Counter{{Key: f.key("big"), Period: store.Day, Max: 3, Add: 4}}
	f.wantMeterRefused("e", big, nil, store.CounterFull, 0, true, 24*time.Hour)
}

func testCounterCalendar(f *fixture) {
	day := store.Counter{Key: f.key("day"), Period: store.Day, Max: 2, Add: 1}
	month := store.Counter{Key: f.key("month"), Period: store.Month, Max: 3, Add: 1}
	cs := []store.Counter{day, month}
	f.wantMeterIssued("a", cs, nil)
	f.wantMeterIssued("b", cs, nil)
	f.wantMeterRefused("c", cs, nil, store.CounterFull, 0, true, 24*time.Hour)
	f.wantMeterRefused("d", cs, nil, store.CounterFull, 0, false, 24*time.Hour)
	if f.h.Jump == nil {
		return // a server clock: the next day cannot be had here
	}
	_, _, end := store.PeriodBounds(store.Day, f.h.Now())
	f.h.Jump(end.Sub(f.h.Now()))
	// A new day; the month may have changed with it.
	_, mstart, _ := store.PeriodBounds(store.Month, f.h.Now())
	if mstart.Equal(end) {
		f.wantMeterIssued("e", cs, nil)
		f.wantMeterIssued("f", cs, nil)
		f.wantMeterRefused("g", cs, nil, store.CounterFull, 0, true, 24*time.Hour)
		return
	}
	f.wantMeterIssued("e", cs, nil) // the month's third
	f.wantMeterRefused("f", cs, nil, store.CounterFull, 1, true, 31*24*time.Hour)
	_, _, mend := store.PeriodBounds(store.Month, f.h.Now())
	f.h.Jump(mend.Sub(f.h.Now()))
	f.wantMeterIssued("g", cs, nil)
	f.wantMeterIssued("h", cs, nil)
}

// conv is a conversion guard of f with durations the Redis suite can wait
// for: mature after a second, judged from 4 issues, refused under one half.
func (f *fixture) conv(name string) store.Conversion {
	return store.Conversion{
		Key: f.key(name), Span: time.Minute, Bucket: 100 * time.Millisecond, Mature: time.Second,
		MinIssued: 4, MinPermille: 500, Cooloff: time.Second, Trickle: time.Second,
	}
}

// converted issues n codes under cs and verifies the first k of them.
func (f *fixture) converted(prefix string, cs []store.Conversion, n, k int) {
	f.Helper()
	for i := range n {
		d, dg := f.wantMeterIssued(prefix+string(rune('a'+i)), nil, cs)
		if i < k {
			if r, err := f.h.Store.Check(f.ctx, store.CheckOp{Now: f.h.Now(), CodeKey: d.code, LimitKey: d.limit, Digest: dg, MaxAttempts: 5, Credit: cs}); err != nil || r.Status != store.Passed {
				f.Fatalf("Check = %+v, %v; want Passed", r, err)
			}
		}
	}
}

func testConversionYoung(f *fixture) {
	cs := []store.Conversion{f.conv("country")}
	f.converted("a", cs, 6, 0)
	// Six issues, none verified, but too young to judge.
	f.wantMeterIssued("b", nil, cs)
}

func testConversionVerified(f *fixture) {
	cs := []store.Conversion{f.conv("country")}
	f.converted("a", cs, 4, 2) // one half: not below it
	f.advance(cs[0].Mature + cs[0].Bucket)
	f.wantMeterIssued("b", nil, cs)
	f.wantMeterIssued("c", nil, cs)
}

func testConversionCooloff(f *fixture) {
	good := f.conv("good")
	bad := f.conv("bad")
	f.converted("g", []store.Conversion{good}, 4, 4)
	f.converted("b", []store.Conversion{bad}, 4, 1) // one in four
	f.advance(bad.Mature + bad.Bucket)
	cs := []store.Conversion{good, bad}
	f.wantMeterRefused("c", nil, cs, store.Unconverted, 1, true, bad.Cooloff)
	f.wantMeterRefused("d", nil, cs, store.Unconverted, 1, false, bad.Cooloff)
	f.wantMeterIssued("e", nil, []store.Conversion{good}) // only the bad scope cools off
	// A scope that cools off is reported before a full counter.
	full := []store.Counter{{Key: f.key("full"), Period: store.Day, Max: 1, Add: 2}}
	if r, _, _ := f.meterIssue("x", full, cs); r.Status != store.Unconverted || r.Index != 1 {
		f.Fatalf("Issue with a full counter and a cooling conversion = %+v, want Unconverted of index 1", r)
	}
	f.advance(bad.Cooloff)
	// On probation: one issue per Trickle.
	f.wantMeterIssued("f", nil, cs)
	f.wantMeterRefused("h", nil, cs, store.Unconverted, 1, false, bad.Trickle)
	f.advance(bad.Trickle)
	f.wantMeterIssued("i", nil, cs)
}

func testConversionCredit(f *fixture) {
	cs := []store.Conversion{f.conv("prefix")}
	for i := range 4 {
		d, dg := f.wantMeterIssued(string(rune('a'+i)), nil, cs)
		op := store.CheckOp{Now: f.h.Now(), CodeKey: d.code, LimitKey: d.limit, Digest: dg, MaxAttempts: 5, Credit: cs}
		// A check that keeps the code, and a wrong guess, credit nothing.
		op.Keep = true
		if r, err := f.h.Store.Check(f.ctx, op); err != nil || r.Status != store.Passed {
			f.Fatalf("Check with Keep = %+v, %v", r, err)
		}
		op.Keep, op.Digest = false, digest()
		if r, err := f.h.Store.Check(f.ctx, op); err != nil || r.Status != store.Mismatch {
			f.Fatalf("wrong Check = %+v, %v", r, err)
		}
	}
	// A code issued without conversions credits nothing either.
	d, dg := f.wantMeterIssued("z", nil, nil)
	if r, err := f.h.Store.Check(f.ctx, store.CheckOp{Now: f.h.Now(), CodeKey: d.code, LimitKey: d.limit, Digest: dg, MaxAttempts: 5, Credit: cs}); err != nil || r.Status != store.Passed {
		f.Fatalf("Check = %+v, %v", r, err)
	}
	f.advance(cs[0].Mature + cs[0].Bucket)
	f.wantMeterRefused("e", nil, cs, store.Unconverted, 0, true, cs[0].Cooloff)
}

func testConcurrentCounter(f *fixture) {
	c := []store.Counter{{Key: f.key("velocity"), Span: time.Hour, Bucket: time.Minute, Max: 17, Add: 1}}
	res := parallel(f, 100, func(i int) (store.IssueResult, error) {
		op := f.issueOp(f.dest("p"+randHex(4)), digest())
		op.Counters = c
		return f.h.Store.Issue(f.ctx, op)
	})
	issued, first := 0, 0
	for _, r := range res {
		if r.Status == store.Issued {
			issued++
		}
		if r.First {
			first++
		}
	}
	if issued != 17 || first != 1 {
		f.Fatalf("100 concurrent issues under a counter of 17: %d issued, %d first refusals; want 17 and 1", issued, first)
	}
}
