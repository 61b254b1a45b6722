package loadgen

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/store/redisstore"
)

// The pumping simulation (`verifyfn bench --mix pumping`): real sign-up
// traffic over many countries whose users enter 70 % of their codes, and
// from AttackAt on an attack that pumps one number range and enters none,
// both sending codes with SendIntlPhoneEmailCode (Type 1, SMS) and the real
// users checking theirs with CreateIntlPhoneEmail. It runs once with the
// fraud guard and once without, with the same seed, and reports per bucket
// of simulated time what was sent and refused.
//
// Time is compressed: the engine and the embedded store run on a simulated
// clock (app.Options.EngineNow) that advances Speed times as fast as the
// real one, so six hours of traffic take six minutes at 60x; requests are
// signed with the real time, which the front doors check. On Redis the
// store reads the server's clock, so a Redis run is real time (Speed 1).

// PumpingConfig describes a pumping simulation. Zero fields take the
// defaults of the bench flags.
type PumpingConfig struct {
	Store      string        // as VERIFYFN_STORE: memory (default) or a Redis URL
	Duration   time.Duration // simulated length (default 6 h)
	Speed      float64       // simulated seconds per real second (default 60; Redis: 1)
	AttackAt   time.Duration // simulated start of the attack (default 2 h)
	RealRate   float64       // sign-ups per simulated second (default 1)
	AttackRate float64       // attack sends per simulated second (default 2)
	Conversion float64       // share of real codes entered (default 0.7)
	Bucket     time.Duration // simulated length of a reported bucket (default 10 min)
	Conns      int           // concurrent connections (default 16)
	Seed       uint64
	Progress   io.Writer
	// Policy adjusts the server's configuration (both runs).
	Policy func(*config.Config)
}

func (c *PumpingConfig) defaults() {
	if c.Store == "" {
		c.Store = "memory"
	}
	if c.Duration <= 0 {
		c.Duration = 6 * time.Hour
	}
	if c.Speed <= 0 {
		c.Speed = 60
		if strings.HasPrefix(c.Store, "redis") {
			c.Speed = 1
		}
	}
	if c.AttackAt <= 0 {
		c.AttackAt = 2 * time.Hour
	}
	if c.RealRate <= 0 {
		c.RealRate = 1
	}
	if c.AttackRate <= 0 {
		c.AttackRate = 2
	}
	if c.Conversion <= 0 {
		c.Conversion = 0.7
	}
	if c.Bucket <= 0 {
		c.Bucket = 10 * time.Minute
	}
	if c.Conns <= 0 {
		c.Conns = 16
	}
	if c.Seed == 0 {
		c.Seed = rand.Uint64()
	}
}

// PumpingPoint is one bucket of simulated time.
type PumpingPoint struct {
	At                                 time.Duration // simulated start of the bucket
	RealSent, RealRefused, Verified    int64
	AttackSent, AttackRefused, Failing int64
}

// PumpingRun is one run, with or without the guard.
type PumpingRun struct {
	Guard  bool
	Points []PumpingPoint
	// Totals, and the attack's sends from its first refusal by the
	// conversion rule on (the guard has its minimum volume and judged).
	Real, RealRefused, Verified, Attack, AttackRefused int64
	Judged                                             time.Duration // simulated; -1 if never
	AttackAfterJudged, AttackRefusedAfterJudged        int64
	Failures                                           int64 // transport errors and unexpected codes
	Reasons                                            map[string]int64
	Requests                                           int64
	CPU                                                time.Duration
	Elapsed                                            time.Duration
	Sends                                              Histogram // latency of SendIntlPhoneEmailCode
	RedisCommands, RedisUsec                           int64     // Redis round trips; EVALSHA µs on the server (-1 off Redis)
	Behind                                             time.Duration
	// Before the attack (real traffic only, nothing for the guard to
	// refuse): requests, CPU, send latency and EVALSHA µs, the guard's
	// pure cost when compared with the run without it.
	Calm                   int64
	CalmCPU                time.Duration
	CalmSends              Histogram
	CalmUsec, CalmCommands int64
}

// PumpingResult is both runs.
type PumpingResult struct {
	Config PumpingConfig
	Runs   []*PumpingRun // with the guard, then without
}

// realRegions are the countries of the real traffic, most frequent first.
var realRegions = []string{
	"US", "IN", "ID", "BR", "GB", "DE", "MX", "PH", "VN", "NG", "TR", "FR", "TH", "EG", "PK",
	"BD", "JP", "KR", "IT", "ES", "PL", "CA", "AU", "ZA", "KE", "AR", "CO", "SA", "MY", "HK",
}

// attackRegion and the range the attack pumps: the example mobile number of
// the region with its last five digits random (ten prefixes of 10,000).
const attackRegion = "GB"

// mobile returns a random valid mobile (or fixed-line-or-mobile) number of
// region whose national number keeps all but its last `random` digits of
// the region's example mobile number.
func mobile(r *rand.Rand, region string, random int) string {
	ex := phonenumbers.GetExampleNumberForType(region, phonenumbers.MOBILE)
	if ex == nil {
		return ""
	}
	nsn := phonenumbers.GetNationalSignificantNumber(ex)
	cc := strconv.Itoa(int(ex.GetCountryCode()))
	random = min(random, len(nsn)-2)
	for range 50 {
		b := []byte(nsn)
		for i := len(b) - random; i < len(b); i++ {
			b[i] = byte('0' + r.IntN(10))
		}
		e164 := "+" + cc + string(b)
		pn, err := phonenumbers.Parse(e164, "")
		if err != nil || !phonenumbers.IsValidNumber(pn) {
			continue
		}
		switch phonenumbers.GetNumberType(pn) {
		case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
			return e164
		}
	}
	return "+" + cc + nsn
}

// event is something due at a simulated time: a send (real or attack) or a
// real user's check.
type event struct {
	due    time.Duration // simulated, from the start
	kind   int
	number string
}

const (
	evReal = iota
	evAttack
	evVerify
)

type events []event

func (e events) Len() int           { return len(e) }
func (e events) Less(i, j int) bool { return e[i].due < e[j].due }
func (e events) Swap(i, j int)      { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)        { *e = append(*e, x.(event)) }
func (e *events) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

// Pumping runs the simulation with the guard and without it.
func Pumping(ctx context.Context, cfg PumpingConfig) (*PumpingResult, error) {
	cfg.defaults()
	if strings.HasPrefix(cfg.Store, "redis") && cfg.Speed != 1 {
		return nil, errors.New("pumping on Redis runs in real time (--speed 1): the store reads the server's clock")
	}
	res := &PumpingResult{Config: cfg}
	for _, guard := range []bool{true, false} {
		run, err := pumpingRun(ctx, cfg, guard)
		if run != nil {
			res.Runs = append(res.Runs, run)
		}
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

func pumpingRun(ctx context.Context, cfg PumpingConfig, guard bool) (*PumpingRun, error) {
	realStart := time.Now()
	// The simulated clock runs ahead of the real one (which the front doors
	// pass to the store), so that their sweeps never find it expired.
	base := realStart.Add(time.Hour).Truncate(time.Hour)
	simNow := func() time.Time {
		return base.Add(time.Duration(float64(time.Since(realStart)) * cfg.Speed))
	}
	elapsed := func() time.Duration { return simNow().Sub(base) }

	var codes sync.Map // number -> code, for the real users
	run := &PumpingRun{Guard: guard, Judged: -1, Reasons: map[string]int64{}, RedisCommands: -1, RedisUsec: -1}
	var reasonsMu sync.Mutex
	lc := Config{
		Store:     cfg.Store,
		RateLimit: 1_000_000_000,
		EngineNow: simNow,
		OnMessage: func(m delivery.Message) { codes.Store(m.To, m.Code) },
		OnGuardRefusal: func(reason, _ string) {
			reasonsMu.Lock()
			run.Reasons[reason]++
			reasonsMu.Unlock()
		},
		Policy: func(c *config.Config) {
			if def, err := config.FromEnv(func(string) string { return "" }); err == nil {
				c.Guard = def.Guard // the production thresholds, which the bench's own policy lifts
			}
			c.Guard.Off = !guard
			if cfg.Policy != nil {
				cfg.Policy(c)
			}
		},
	}
	lc.defaults()
	srv, err := startFull(&lc, &codeBook{m: map[string]string{}})
	if err != nil {
		return nil, err
	}
	defer srv.close()
	var usec0 int64
	if rs, ok := srv.store.(*redisstore.Store); ok {
		usec0 = evalUsec(ctx, rs)
	}
	var cmds0 int64
	if srv.cmds != nil {
		cmds0 = srv.cmds.n.Load()
	}
	client := newClient(cfg.Conns)
	defer client.CloseIdleConnections()
	r := &runner{cfg: &lc, sign: newSigner(lc.SecretID, lc.SecretKey)}

	nb := int((cfg.Duration + cfg.Bucket - 1) / cfg.Bucket)
	points := make([]PumpingPoint, nb)
	for i := range points {
		points[i].At = time.Duration(i) * cfg.Bucket
	}
	var mu sync.Mutex // points, run totals, the heap
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	h := &events{}
	nextReal := time.Duration(rng.ExpFloat64() / cfg.RealRate * float64(time.Second))
	nextAttack := cfg.AttackAt

	jobs := make(chan event, cfg.Conns)
	var wg sync.WaitGroup
	var requests atomic.Int64
	cpu0 := processCPU()
	for k := range cfg.Conns {
		wrng := rand.New(rand.NewPCG(cfg.Seed, uint64(k)+2))
		wg.Go(func() {
			var buf bytes.Buffer
			intern := map[string]string{}
			for ev := range jobs {
				var c call
				switch ev.kind {
				case evVerify:
					code, _ := codes.LoadAndDelete(ev.number)
					s, _ := code.(string)
					c = call{service: svcDomain, version: verDomain, action: CreateIntlPhoneEmail, body: contactBody(1, ev.number, s)}
				default:
					c = call{service: svcDomain, version: verDomain, action: SendIntlPhoneEmailCode, body: contactBody(1, ev.number, "")}
				}
				sent := time.Now()
				outcome := r.do(ctx, client, srv.url, srv.host, c, &buf, intern)
				lat := time.Since(sent)
				requests.Add(1)
				at := elapsed()
				mu.Lock()
				i := min(int(ev.due/cfg.Bucket), nb-1)
				p := &points[i]
				refused := outcome == "RequestLimitExceeded" || outcome == "InvalidParameterValue.InvalidParameterFormat"
				switch {
				case ev.kind == evVerify:
					if outcome == "OK" {
						p.Verified++
						run.Verified++
					}
				case ev.kind == evReal:
					run.Real++
					p.RealSent++
					run.Sends.Record(lat)
					if ev.due < cfg.AttackAt {
						run.CalmSends.Record(lat)
					}
					if refused {
						p.RealRefused++
						run.RealRefused++
					}
					if outcome == "OK" && wrng.Float64() < cfg.Conversion {
						// The user types the code 15 s to 2 min later.
						delay := time.Duration(15+wrng.IntN(105)) * time.Second
						heap.Push(h, event{due: at + delay, kind: evVerify, number: ev.number})
					} else {
						codes.Delete(ev.number)
					}
				case ev.kind == evAttack:
					run.Attack++
					p.AttackSent++
					run.Sends.Record(lat)
					if refused {
						p.AttackRefused++
						run.AttackRefused++
					}
					if run.Judged >= 0 {
						run.AttackAfterJudged++
						if refused {
							run.AttackRefusedAfterJudged++
						}
					}
					codes.Delete(ev.number)
				}
				if outcome != "OK" && !refused && ev.kind != evVerify {
					p.Failing++
					run.Failures++
				}
				mu.Unlock()
			}
		})
	}

	// Judged: the first refusal by a conversion rule.
	judged := func() {
		reasonsMu.Lock()
		n := run.Reasons["prefix_conversion"] + run.Reasons["country_conversion"]
		reasonsMu.Unlock()
		mu.Lock()
		if n > 0 && run.Judged < 0 {
			run.Judged = elapsed()
		}
		mu.Unlock()
	}

	lastProgress := time.Now()
	calm := false
	for ctx.Err() == nil {
		now := elapsed()
		if now >= cfg.Duration {
			break
		}
		if !calm && now >= cfg.AttackAt {
			calm = true
			run.Calm, run.CalmCPU = requests.Load(), processCPU()-cpu0
			if rs, ok := srv.store.(*redisstore.Store); ok {
				run.CalmUsec = evalUsec(ctx, rs) - usec0
			}
			if srv.cmds != nil {
				run.CalmCommands = srv.cmds.n.Load() - cmds0
			}
		}
		mu.Lock()
		var ev event
		have := false
		switch {
		case h.Len() > 0 && (*h)[0].due <= now && (*h)[0].due <= nextReal && (*h)[0].due <= nextAttack:
			ev, have = heap.Pop(h).(event), true
		case nextReal <= now && nextReal <= nextAttack:
			ev, have = event{due: nextReal, kind: evReal, number: mobile(rng, realRegions[weighted(rng, len(realRegions))], 7)}, true
			nextReal += time.Duration(rng.ExpFloat64() / cfg.RealRate * float64(time.Second))
		case nextAttack <= now:
			ev, have = event{due: nextAttack, kind: evAttack, number: mobile(rng, attackRegion, 5)}, true
			nextAttack += time.Duration(rng.ExpFloat64() / cfg.AttackRate * float64(time.Second))
		}
		mu.Unlock()
		if !have {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		if lag := now - ev.due; lag > run.Behind {
			run.Behind = lag
		}
		select {
		case jobs <- ev:
		case <-ctx.Done():
		}
		if ev.kind == evAttack {
			judged()
		}
		if cfg.Progress != nil && time.Since(lastProgress) >= 5*time.Second {
			lastProgress = time.Now()
			mu.Lock()
			fmt.Fprintf(cfg.Progress, "[pumping, guard %v] %s simulated: %d real sends (%d refused), %d attack sends (%d refused), %d verified\n",
				guard, now.Truncate(time.Minute), run.Real, run.RealRefused, run.Attack, run.AttackRefused, run.Verified)
			mu.Unlock()
		}
	}
	close(jobs)
	wg.Wait()
	run.CPU = processCPU() - cpu0
	run.Elapsed = time.Since(realStart)
	run.Requests = requests.Load()
	run.Points = points
	if srv.cmds != nil {
		run.RedisCommands = srv.cmds.n.Load() - cmds0
	}
	if rs, ok := srv.store.(*redisstore.Store); ok {
		run.RedisUsec = evalUsec(ctx, rs) - usec0
	}
	return run, ctx.Err()
}

// weighted picks an index of n, the first ones more often (weights n..1).
func weighted(r *rand.Rand, n int) int {
	total := n * (n + 1) / 2
	x := r.IntN(total)
	for i := range n {
		w := n - i
		if x < w {
			return i
		}
		x -= w
	}
	return n - 1
}

// evalUsec is the server's total time in EVALSHA (INFO commandstats).
func evalUsec(ctx context.Context, rs *redisstore.Store) int64 {
	s, err := rs.Client().Info(ctx, "commandstats").Result()
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(s, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_evalsha:"); ok {
			for f := range strings.SplitSeq(rest, ",") {
				if v, ok := strings.CutPrefix(f, "usec="); ok {
					n, _ := strconv.ParseInt(v, 10, 64)
					return n
				}
			}
		}
	}
	return 0
}

// share is a/b, 0 for b = 0.
func share(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// WritePumpingReport prints the summary of both runs and the aims.
func WritePumpingReport(w io.Writer, res *PumpingResult) {
	cfg := res.Config
	fmt.Fprintf(w, "verifyfn bench --mix pumping: store %s, %s simulated at %gx, attack from %s\n", redact(cfg.Store), cfg.Duration, cfg.Speed, cfg.AttackAt)
	fmt.Fprintf(w, "machine: %s\n", Machine())
	fmt.Fprintf(w, "real sign-ups: %.2f/s simulated over %d countries, %.0f %% of codes entered; attack: %.2f/s simulated into one %s range (%s...), none entered\n\n",
		cfg.RealRate, len(realRegions), 100*cfg.Conversion, cfg.AttackRate, attackRegion, mobile(rand.New(rand.NewPCG(1, 1)), attackRegion, 5)[:8])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\treal sends\treal refused\tverified\tattack sends\tattack refused\tafter judged\trequests\tCPU/request\tsend p50\tsend p99\tRedis trips/request\tEVALSHA µs/request\t")
	for _, r := range res.Runs {
		name := "without guard"
		if r.Guard {
			name = "with guard"
		}
		trips, usec := "n/a", "n/a"
		if r.RedisCommands >= 0 && r.Requests > 0 {
			trips = strconv.FormatFloat(float64(r.RedisCommands)/float64(r.Requests), 'f', 2, 64)
			usec = strconv.FormatFloat(float64(r.RedisUsec)/float64(r.Requests), 'f', 1, 64)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d (%.2f %%)\t%d\t%d\t%d (%.1f %%)\t%d of %d (%.1f %%)\t%d\t%d µs\t%s\t%s\t%s\t%s\t\n", name,
			r.Real, r.RealRefused, 100*share(r.RealRefused, r.Real), r.Verified, r.Attack,
			r.AttackRefused, 100*share(r.AttackRefused, r.Attack),
			r.AttackRefusedAfterJudged, r.AttackAfterJudged, 100*share(r.AttackRefusedAfterJudged, r.AttackAfterJudged),
			r.Requests, (r.CPU / time.Duration(max(r.Requests, 1))).Microseconds(),
			ms(r.Sends.Quantile(0.5)), ms(r.Sends.Quantile(0.99)), trips, usec)
	}
	tw.Flush()
	for _, r := range res.Runs {
		if !r.Guard {
			continue
		}
		reasons := make([]string, 0, len(r.Reasons))
		for k, v := range r.Reasons {
			reasons = append(reasons, fmt.Sprintf("%s %d", k, v))
		}
		slices.Sort(reasons)
		judged := "never"
		if r.Judged >= 0 {
			judged = (r.Judged - cfg.AttackAt).Round(time.Second).String() + " after the attack began"
		}
		fmt.Fprintf(w, "\nguard refusals by reason: %s; the conversion rule first refused %s; %d failures; the simulation fell behind by at most %s\n",
			strings.Join(reasons, ", "), judged, r.Failures, r.Behind.Round(time.Second))
		fmt.Fprintf(w, "aims: attack refused once judged %.1f %% (aim >= 95 %%), real traffic refused %.2f %% (aim <= 1 %%)\n",
			100*share(r.AttackRefusedAfterJudged, r.AttackAfterJudged), 100*share(r.RealRefused, r.Real))
	}
	if len(res.Runs) == 2 && res.Runs[1].Calm > 0 && res.Runs[0].Calm > 0 {
		on, off := res.Runs[0], res.Runs[1]
		per := func(d time.Duration, n int64) float64 { return float64(d) / float64(n) }
		fmt.Fprintf(w, "cost of the guard before the attack (the same real traffic, nothing refused): CPU per request %.2fx (%.0f vs %.0f µs), send p50 %.2fx, send p99 %.2fx",
			per(on.CalmCPU, on.Calm)/per(off.CalmCPU, off.Calm), per(on.CalmCPU, on.Calm)/1e3, per(off.CalmCPU, off.Calm)/1e3,
			ratio(on.CalmSends.Quantile(0.5), off.CalmSends.Quantile(0.5)), ratio(on.CalmSends.Quantile(0.99), off.CalmSends.Quantile(0.99)))
		if on.CalmUsec > 0 && off.CalmUsec > 0 {
			fmt.Fprintf(w, "; EVALSHA µs per request %.2fx (%.1f vs %.1f); Redis round trips per request %.2f vs %.2f",
				(float64(on.CalmUsec)/float64(on.Calm))/(float64(off.CalmUsec)/float64(off.Calm)),
				float64(on.CalmUsec)/float64(on.Calm), float64(off.CalmUsec)/float64(off.Calm),
				float64(on.CalmCommands)/float64(on.Calm), float64(off.CalmCommands)/float64(off.Calm))
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "whole runs, attack included (refused sends skip the delivery): CPU per request %.2fx, send p50 %.2fx, send p99 %.2fx\n",
			per(on.CPU, on.Requests)/per(off.CPU, off.Requests),
			ratio(on.Sends.Quantile(0.5), off.Sends.Quantile(0.5)), ratio(on.Sends.Quantile(0.99), off.Sends.Quantile(0.99)))
	}
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// PumpingCSVHeader is the first row of WritePumpingCSV.
var PumpingCSVHeader = []string{"run", "minute", "real_sent", "real_refused", "verified", "attack_sent", "attack_refused", "failures"}

// WritePumpingCSV writes one row per run and bucket of simulated time.
func WritePumpingCSV(w io.Writer, res *PumpingResult) error {
	cw := csv.NewWriter(w)
	cw.Write(PumpingCSVHeader)
	for _, r := range res.Runs {
		name := "without guard"
		if r.Guard {
			name = "with guard"
		}
		for _, p := range r.Points {
			i := func(n int64) string { return strconv.FormatInt(n, 10) }
			cw.Write([]string{name, strconv.Itoa(int(p.At / time.Minute)), i(p.RealSent), i(p.RealRefused), i(p.Verified),
				i(p.AttackSent), i(p.AttackRefused), i(p.Failing)})
		}
	}
	cw.Flush()
	return cw.Error()
}
