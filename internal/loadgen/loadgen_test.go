package loadgen_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/loadgen"
	"github.com/verifyfn/verifyfn/shared/config"
)

func TestHistogramQuantiles(t *testing.T) {
	var h loadgen.Histogram
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		got, want := h.Quantile(q), time.Duration(q*10000)*time.Microsecond
		if d := float64(got-want) / float64(want); d > 0.02 || d < -0.02 {
			t.Errorf("Quantile(%v) = %s, want %s within 2%%", q, got, want)
		}
	}
	if got, want := h.Max(), 10*time.Millisecond; got != want {
		t.Errorf("Max = %s, want %s", got, want)
	}
	var m loadgen.Histogram
	m.Merge(&h)
	m.Merge(&h)
	if got, want := m.Count(), uint64(20000); got != want {
		t.Errorf("merged Count = %d, want %d", got, want)
	}
	var empty loadgen.Histogram
	if empty.Quantile(0.99) != 0 {
		t.Error("empty histogram has a quantile")
	}
}

func TestParseMix(t *testing.T) {
	for in, want := range map[string]string{
		"mixed":                             loadgen.DefaultMix,
		"SendVerifyCode":                    "SendVerifyCode:1",
		"SendVerifyCode:3, VerifySmsCode:1": "SendVerifyCode:3,VerifySmsCode:1",
	} {
		m, err := loadgen.ParseMix(in)
		if err != nil {
			t.Fatalf("ParseMix(%q): %v", in, err)
		}
		if got := m.String(); got != want {
			t.Errorf("ParseMix(%q) = %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"Nope", "SendVerifyCode:0", "SendVerifyCode:x", "SendVerifyCode,"} {
		if _, err := loadgen.ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
}

// TestFixedRate offers 400 requests at a fixed rate: every one is either
// answered or counted as missed, and the ceiling phase follows.
func TestFixedRate(t *testing.T) {
	res, err := loadgen.Load(context.Background(), loadgen.Config{
		Rate: 400, Duration: time.Second, Warmup: -1, Conns: 4, Ceiling: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Phases) != 2 || res.Phases[0].Server != "full" || res.Phases[1].Server != "ceiling" {
		t.Fatalf("phases %+v", res.Phases)
	}
	for _, p := range res.Phases {
		if p.Failures != 0 {
			t.Errorf("%s: %d failures", p.Server, p.Failures)
		}
		if got := p.Requests + p.Missed; got != 400 {
			t.Errorf("%s: %d answered + %d missed, want 400 offered", p.Server, p.Requests, p.Missed)
		}
	}
	for k := range res.Phases[0].Stats {
		if strings.HasPrefix(k.Outcome, "AuthFailure") || k.Outcome == "UnknownParameter" || k.Outcome == "InvalidParameter" {
			t.Errorf("the harness sent a bad request: %v", k)
		}
	}
}

// TestTargetWithOutbox drives a running server (the real stack behind
// httptest) by URL, reading the codes from its outbox: checks with the right
// code pass, so signing, the mix and the outbox follower all work.
func TestTargetWithOutbox(t *testing.T) {
	s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) { c.RateLimit = 1_000_000 }))
	if err := os.WriteFile(s.Outbox, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	mix, _ := loadgen.ParseMix("SendSmsCode:1,VerifySmsCode:1,SendIntlPhoneEmailCode:1,CreateIntlPhoneEmail:1")
	res, err := loadgen.Load(context.Background(), loadgen.Config{
		Target: s.URL, Outbox: s.Outbox, Mix: mix, Rate: 200, Duration: 2 * time.Second, Warmup: -1, Conns: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Phases[0]
	if p.Failures != 0 {
		t.Fatalf("%d failures", p.Failures)
	}
	for _, k := range []loadgen.Key{{"VerifySmsCode", "OK"}, {"CreateIntlPhoneEmail", "OK"}, {"SendSmsCode", "OK"}} {
		if p.Stats[k] == nil || p.Stats[k].Count() == 0 {
			t.Errorf("no %v answers; stats: %v", k, keys(p))
		}
	}
}

func keys(p *loadgen.Phase) []loadgen.Key {
	var out []loadgen.Key
	for k := range p.Stats {
		out = append(out, k)
	}
	return out
}

func TestRunCommand(t *testing.T) {
	getenv := func(string) string { return "" }
	var out, errs bytes.Buffer
	if code := loadgen.Run(context.Background(), []string{"--mix", "Nope"}, getenv, &out, &errs); code != 2 {
		t.Fatalf("bad mix: exit %d", code)
	}
	if code := loadgen.Run(context.Background(), []string{"--soak"}, getenv, &out, &errs); code != 2 {
		t.Fatalf("soak without rate: exit %d", code)
	}
	path := filepath.Join(t.TempDir(), "bench.csv")
	out.Reset()
	args := []string{"--sweep", "100,200", "--duration", "500ms", "--warmup", "-1s", "--conns", "2", "--mix", "SendVerifyCode", "--csv", path, "--quiet"}
	if code := loadgen.Run(context.Background(), args, getenv, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	for _, want := range []string{"full at 100/s", "ceiling at 200/s", "full/ceiling at 200/s", "SendVerifyCode"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || strings.Join(rows[0], ",") != strings.Join(loadgen.CSVHeader, ",") {
		t.Fatalf("CSV rows: %v", rows)
	}
}

// TestSoak runs a few seconds of soak: samples are taken, the store's
// entries are counted, and no goroutine is left once the server stopped.
func TestSoak(t *testing.T) {
	res, err := loadgen.Load(context.Background(), loadgen.Config{
		Rate: 200, Duration: 3 * time.Second, Warmup: -1, Conns: 4, Soak: true, Sample: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Phases[0].Soak
	if r == nil || len(r.Samples) < 3 || len(r.MinuteP99) != 1 {
		t.Fatalf("soak report %+v", r)
	}
	if last := r.Samples[len(r.Samples)-1]; last.StoreEntries <= 0 {
		t.Errorf("store entries not sampled: %+v", last)
	}
	for _, c := range r.Checks {
		if c.Name == "no goroutine leak" && !c.OK {
			t.Errorf("%s: %s", c.Name, c.Detail)
		}
	}
}
