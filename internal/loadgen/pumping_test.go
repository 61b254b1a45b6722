package loadgen

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// A short pumping simulation on the compressed clock: with the guard the
// attack's range is refused (prefix velocity within minutes), without it
// nothing is; the real traffic goes through either way, and both runs
// report and write their CSV.
func TestPumpingSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the stack twice for 15 s")
	}
	res, err := Pumping(context.Background(), PumpingConfig{
		Duration: 15 * time.Minute, AttackAt: time.Minute, Speed: 60, Seed: 3, Conns: 8,
	})
	if err != nil {
		t.Fatal(err)
	}
	on, off := res.Runs[0], res.Runs[1]
	if !on.Guard || off.Guard {
		t.Fatal("runs out of order")
	}
	if on.Attack == 0 || share(on.AttackRefused, on.Attack) < 0.5 || on.Reasons["prefix_velocity"] == 0 {
		t.Errorf("with the guard: %d of %d attack sends refused (%v), want most, by prefix velocity", on.AttackRefused, on.Attack, on.Reasons)
	}
	if share(off.AttackRefused, off.Attack) > 0.1 {
		t.Errorf("without the guard: %d of %d attack sends refused", off.AttackRefused, off.Attack)
	}
	if on.Real == 0 || share(on.RealRefused, on.Real) > 0.05 || on.Verified == 0 || on.Failures != 0 {
		t.Errorf("real traffic with the guard: %d sent, %d refused, %d verified, %d failures", on.Real, on.RealRefused, on.Verified, on.Failures)
	}
	var rep, csv bytes.Buffer
	WritePumpingReport(&rep, res)
	if !strings.Contains(rep.String(), "aims: attack refused") {
		t.Errorf("report:\n%s", rep.String())
	}
	if err := WritePumpingCSV(&csv, res); err != nil || strings.Count(csv.String(), "\n") != 1+2*2 {
		t.Errorf("CSV (%v):\n%s", err, csv.String())
	}
}
