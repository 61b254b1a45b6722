package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/redistest"
	"github.com/verifyfn/verifyfn/shared/store"
)

// The scripts' calendar periods are store.PeriodBounds's: the same ids and
// ends for days and months around leap days, year ends and the epoch.
func TestScriptPeriodsMatchPeriodBounds(t *testing.T) {
	srv := redistest.Start(t)
	st, err := Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sc := newScript(`
local id, fin = period(tonumber(ARGV[1]), tonumber(ARGV[2]))
return {id, fin}
`)
	times := []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(2000, 2, 29, 12, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC),
		time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(2100, 2, 28, 1, 0, 0, 0, time.UTC),
	}
	for d := range 800 { // every day of two years and more
		times = append(times, time.Date(2027, 1, 1, 13, 0, 0, 0, time.UTC).AddDate(0, 0, d))
	}
	ctx := context.Background()
	for _, tm := range times {
		for _, p := range []store.Period{store.Day, store.Month} {
			v, err := st.run(ctx, sc, []string{"x"}, int(p), tm.UnixMicro())
			if err != nil {
				t.Fatal(err)
			}
			got, err := ints(v, 2)
			if err != nil {
				t.Fatal(err)
			}
			id, _, end := store.PeriodBounds(p, tm)
			if got[0] != id || got[1] != end.UnixMicro() {
				t.Fatalf("period %d of %s: script says id %d end %d, PeriodBounds %d %d", p, tm, got[0], got[1], id, end.UnixMicro())
			}
		}
	}
}
