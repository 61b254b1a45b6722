// Package loadgen is verifyfn's load harness (the `verifyfn bench`
// subcommand). It drives a server with requests signed as the official SDKs
// sign them (TC3-HMAC-SHA256 through shared/tcauth), in a realistic mix of
// sends and checks, at a fixed offered rate (open loop: latency is measured
// from when each request was due, so a stalled server cannot hide queueing)
// or flat out. It reports requests/s and p50/p90/p99 latency per action and
// per outcome code, and in the same run measures the ceiling: the same
// server stack (app.Serve's http.Server) answering a bare envelope with no
// work, driven the same way.
//
// With no target it starts the real stack in-process (app.New + app.Serve on
// a loopback port) on the embedded store or on Redis. A sweep over offered
// rates writes CSV for docs/benchmarks.md; a soak run samples the heap, the
// embedded store's live entries, goroutines and per-minute p99 to show that
// state expires and nothing leaks.
package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
)

// Config describes a run. Zero fields take the defaults of the bench flags.
type Config struct {
	// Target is the base URL of a running server; empty starts the real
	// stack in-process on a loopback port.
	Target string
	// Store is the in-process store, as VERIFYFN_STORE names it: "memory"
	// (default), "file:PATH" or a Redis URL.
	Store string
	// Rate is the offered load in requests per second; 0 runs flat out.
	Rate float64
	// Sweep, when set, runs one phase per offered rate instead of Rate.
	Sweep    []float64
	Duration time.Duration // per phase (default 10 s)
	// Rounds splits each phase into this many rounds that alternate with
	// the ceiling's (default 1), so both see the same background load.
	Rounds int
	Warmup time.Duration // before the first phase on each server (default 1 s; negative: none)
	// Requests ends a phase after this many requests (0: no limit).
	Requests int64
	Conns    int // concurrent connections (default 32)
	Mix      Mix // default DefaultMix
	// Ceiling also measures the bare-envelope ceiling after each phase.
	Ceiling bool
	// Soak samples memory, store entries, goroutines and per-minute p99
	// during one fixed-rate phase; see SoakReport.
	Soak   bool
	Sample time.Duration // soak sampling interval (default 10 s)

	SecretID, SecretKey string // default: the development credential
	Instance            string // SMH instance for SendSmsCode (default: the development one)
	// Outbox, with Target, is the server's outbox file: codes are read
	// from it so that checks can use the right code. Without it checks of
	// a remote server use random (wrong) codes.
	Outbox string

	// Spawn starts the servers as child processes of this executable
	// (os.Executable): `verifyfn serve` configured through its environment
	// (its log and outbox written to files in SpawnDir) and, for the
	// ceiling, BareCommand; both are driven as Target is. Their CPU per
	// request is read from /proc/<pid>/stat.
	Spawn bool
	// SpawnDir holds the children's logs and the outbox (default: a
	// temporary directory, removed at the end).
	SpawnDir string
	// ServerCPUProfile, with Spawn, is where the full child writes a CPU
	// profile of its whole life (`verifyfn serve --cpuprofile`).
	ServerCPUProfile string
	// ShortLifetimes gives a spawned server the lifetimes of SoakPolicy.
	ShortLifetimes bool

	// In-process only.
	RateLimit int                  // per account and action requests/s (default 1e9: one account drives all the load)
	Policy    func(*config.Config) // adjusts the server's policy
	CodeKey   []byte               // default: random
	Logger    *slog.Logger         // the server's logger (default: JSON, discarded)
	OnMessage func(delivery.Message)
	// EngineNow is the clock of the engine and the embedded store (default:
	// the real one); the pumping simulation compresses time with it.
	EngineNow func() time.Time
	// OnGuardRefusal is told of every send the fraud guard refuses.
	OnGuardRefusal func(reason, country string)

	// KeepDestinations records every number and address used (Result.Destinations).
	KeepDestinations bool
	// Progress receives one line per second; nil prints nothing.
	Progress io.Writer
	Seed     uint64 // default: random
}

func (c *Config) defaults() {
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Warmup == 0 {
		c.Warmup = time.Second
	}
	if c.Conns <= 0 {
		c.Conns = 32
	}
	if c.Rounds <= 0 || c.Soak {
		c.Rounds = 1
	}
	if c.Mix.cum == nil {
		c.Mix, _ = ParseMix(DefaultMix)
	}
	if c.Sample <= 0 {
		c.Sample = 10 * time.Second
	}
	if c.SecretID == "" {
		c.SecretID, c.SecretKey = accounts.DevSecretID, accounts.DevSecretKey
	}
	if c.Instance == "" {
		c.Instance = accounts.DevInstanceID
	}
	if c.RateLimit <= 0 {
		c.RateLimit = 1_000_000_000
	}
	if c.Seed == 0 {
		c.Seed = rand.Uint64()
	}
}

// Key names one action and outcome code ("OK" for success).
type Key struct{ Action, Outcome string }

// Outcomes that are not API answers.
const (
	OutcomeTransport   = "(transport error)"
	OutcomeBadEnvelope = "(not a Tencent envelope)"
)

// Phase is the result of driving one server at one offered rate.
type Phase struct {
	Server   string  // "full" or "ceiling"
	Offered  float64 // requests/s; 0 = flat out
	Elapsed  time.Duration
	Requests int64     // answered (any outcome)
	Failures int64     // transport errors, non-200 answers and malformed envelopes
	Missed   int64     // due at the offered rate but never sent (the server could not keep up)
	All      Histogram // latency from when each request was due (open loop) or sent (flat out)
	Sent     Histogram // latency from when each request was actually sent
	Stats    map[Key]*Histogram
	// CPU is the CPU time the process used during the phase: the client
	// and, unless Target was set, the server. Unlike requests/s it does
	// not depend on what else the machine is doing.
	CPU time.Duration
	// ServerCPU is the CPU time a spawned server (--spawn) used during the
	// phase, from /proc/<pid>/stat; CPU is then the client's alone.
	ServerCPU time.Duration
	// RedisCommands is the number of commands the store sent to Redis
	// during the phase (-1 when not on Redis).
	RedisCommands int64
	// RedisUsec is the Redis server's time in EVALSHA during the phase
	// (INFO commandstats: every client of that server counts; -1 when not
	// on Redis).
	RedisUsec int64
	Soak      *SoakReport
}

// merge returns p with the measurements of q added (p may be nil).
func (p *Phase) merge(q *Phase) *Phase {
	if p == nil {
		return q
	}
	p.Elapsed += q.Elapsed
	p.CPU += q.CPU
	p.ServerCPU += q.ServerCPU
	p.Requests += q.Requests
	p.Failures += q.Failures
	p.Missed += q.Missed
	p.All.Merge(&q.All)
	p.Sent.Merge(&q.Sent)
	for k, h := range q.Stats {
		if p.Stats[k] == nil {
			p.Stats[k] = &Histogram{}
		}
		p.Stats[k].Merge(h)
	}
	if p.RedisCommands >= 0 {
		p.RedisCommands += q.RedisCommands
		p.RedisUsec += q.RedisUsec
	}
	return p
}

// CPUPerRequest is the process CPU time per answered request.
func (p *Phase) CPUPerRequest() time.Duration {
	if p.Requests == 0 {
		return 0
	}
	return p.CPU / time.Duration(p.Requests)
}

// ServerCPUPerRequest is a spawned server's CPU time per answered request.
func (p *Phase) ServerCPUPerRequest() time.Duration {
	if p.Requests == 0 {
		return 0
	}
	return p.ServerCPU / time.Duration(p.Requests)
}

// Achieved is the answered requests per second.
func (p *Phase) Achieved() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Requests) / p.Elapsed.Seconds()
}

// Result is everything a run measured.
type Result struct {
	// LoadBefore and LoadAfter are the machine's load averages (1, 5 and
	// 15 minutes) when the run started and ended, as a reminder of what
	// else was running.
	LoadBefore, LoadAfter string
	Phases                []*Phase
	Destinations          []string // with Config.KeepDestinations
	Children              []Child  // with Config.Spawn: the servers started
}

// Load runs the harness as cfg describes and returns what it measured.
func Load(ctx context.Context, cfg Config) (*Result, error) {
	cfg.defaults()
	wl := newWorkload(cfg.Mix, cfg.Instance, cfg.Seed, cfg.KeepDestinations)
	var soakBase int
	if cfg.Soak {
		if cfg.Rate <= 0 || len(cfg.Sweep) > 0 {
			return nil, errors.New("a soak runs at one fixed --rate")
		}
		soakBase = settledGoroutines(0, 0)
		cfg.Ceiling = false
		if cfg.Policy == nil {
			cfg.Policy = SoakPolicy
		}
	}

	var full *server
	fullURL := cfg.Target
	host := ""
	var spawnDir string
	if cfg.Spawn {
		if cfg.Target != "" || cfg.Soak {
			return nil, errors.New("--spawn starts its own servers: not with --target or --soak")
		}
		spawnDir = cfg.SpawnDir
		if spawnDir == "" {
			d, err := os.MkdirTemp("", "verifyfn-bench-")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(d)
			spawnDir = d
		}
	}
	res := &Result{LoadBefore: loadAverage()}
	if cfg.Spawn {
		s, c, err := startSpawned(ctx, &cfg, spawnDir)
		if err != nil {
			return nil, err
		}
		res.Children = append(res.Children, *c)
		full = s
		fullURL, host = s.url, s.host
		tctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := tailOutbox(tctx, c.Outbox, wl.book); err != nil {
			s.close()
			return nil, err
		}
	} else if fullURL == "" {
		s, err := startFull(&cfg, wl.book)
		if err != nil {
			return nil, err
		}
		full = s
		fullURL, host = s.url, s.host
	} else {
		u, err := url.Parse(fullURL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("--target %q: want http://host:port", cfg.Target)
		}
		host = u.Host
		u.Path, u.RawQuery = "/", ""
		fullURL = u.String()
		if cfg.Outbox != "" {
			tctx, cancel := context.WithCancel(ctx)
			defer cancel()
			if err := tailOutbox(tctx, cfg.Outbox, wl.book); err != nil {
				return nil, err
			}
		}
	}
	fullClient := newClient(cfg.Conns)
	r := &runner{cfg: &cfg, sign: newSigner(cfg.SecretID, cfg.SecretKey), wls: map[string]*workload{
		"full":    wl,
		"ceiling": newWorkload(cfg.Mix, cfg.Instance, cfg.Seed+1, false),
	}}
	defer func() {
		fullClient.CloseIdleConnections()
		if full != nil {
			full.close()
		}
	}()

	rates := cfg.Sweep
	if len(rates) == 0 {
		rates = []float64{cfg.Rate}
	}
	var ceil *server
	var ceilClient *http.Client
	if cfg.Ceiling {
		var s *server
		var err error
		if cfg.Spawn {
			var c *Child
			s, c, err = startBare(ctx, &cfg, spawnDir)
			if c != nil {
				res.Children = append(res.Children, *c)
			}
		} else {
			s, err = serve(ceilingHandler, slog.New(slog.DiscardHandler))
		}
		if err != nil {
			return nil, err
		}
		ceil, ceilClient = s, newClient(cfg.Conns)
		defer func() {
			ceilClient.CloseIdleConnections()
			ceil.close()
		}()
	}
	type target struct {
		name, url, host string
		client          *http.Client
		srv             *server
	}
	targets := []target{{"full", fullURL, host, fullClient, full}}
	if ceil != nil {
		targets = append(targets, target{"ceiling", ceil.url, ceil.host, ceilClient, ceil})
	}
	warmed := map[string]bool{}
	for _, rate := range rates {
		merged := make([]*Phase, len(targets))
		// Rounds alternate the servers, so that a change in what else the
		// machine is doing weighs on both alike.
		for range cfg.Rounds {
			for i, t := range targets {
				if ctx.Err() != nil {
					return res, ctx.Err()
				}
				if !warmed[t.name] && cfg.Warmup > 0 {
					warmed[t.name] = true
					r.phase(ctx, t.name, t.url, t.host, t.client, t.srv, rate, cfg.Warmup, 0, nil, false)
				}
				var soak *soaker
				if cfg.Soak {
					soak = newSoaker(cfg.Sample, t.srv)
				}
				p := r.phase(ctx, t.name, t.url, t.host, t.client, t.srv, rate, cfg.Duration/time.Duration(cfg.Rounds), cfg.Requests, soak, true)
				if soak != nil {
					// Stop the server, close every connection and count
					// the goroutines that are left.
					fullClient.CloseIdleConnections()
					if full != nil {
						full.close()
						full = nil
					}
					p.Soak = soak.report(soakBase, settledGoroutines(soakBase, 5*time.Second))
				}
				merged[i] = merged[i].merge(p)
			}
		}
		res.Phases = append(res.Phases, merged...)
	}
	if cfg.KeepDestinations {
		res.Destinations = wl.destinations()
	}
	res.LoadAfter = loadAverage()
	return res, ctx.Err()
}

// newClient returns an HTTP client with conns keep-alive connections.
func newClient(conns int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          conns,
			MaxIdleConnsPerHost:   conns,
			MaxConnsPerHost:       conns,
			DisableCompression:    true,
			ResponseHeaderTimeout: 30 * time.Second,
		},
		Timeout: 60 * time.Second,
	}
}

// settledGoroutines waits up to wait for the goroutine count to fall to
// want or below, and returns it.
func settledGoroutines(want int, wait time.Duration) int {
	deadline := time.Now().Add(wait)
	for {
		runtime.GC()
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runner drives phases.
type runner struct {
	cfg  *Config
	wls  map[string]*workload // per server: the ceiling gets its own flows
	sign *signer
	seq  atomic.Uint64
}

// recorder collects the latencies of one phase.
type recorder struct {
	mu       sync.Mutex
	all      Histogram
	sent     Histogram
	by       map[Key]*Histogram
	sec      Histogram // since the last progress line
	secFail  int64
	minute   Histogram // since the last soak minute
	fails    int64
	requests int64
}

func (rec *recorder) add(action, outcome string, d, sent time.Duration, failed bool) {
	rec.mu.Lock()
	rec.all.Record(d)
	rec.sent.Record(sent)
	rec.sec.Record(d)
	rec.minute.Record(d)
	k := Key{action, outcome}
	h := rec.by[k]
	if h == nil {
		h = &Histogram{}
		rec.by[k] = h
	}
	h.Record(d)
	rec.requests++
	if failed {
		rec.fails++
		rec.secFail++
	}
	rec.mu.Unlock()
}

// phase drives one server for dur (or until limit requests) at rate (flat
// out when 0) and returns what it measured.
func (r *runner) phase(ctx context.Context, name, target, host string, client *http.Client, srv *server, rate float64, dur time.Duration, limit int64, soak *soaker, report bool) *Phase {
	cfg := r.cfg
	rec := &recorder{by: map[Key]*Histogram{}}
	wl := r.wls[name]
	var cmds0, usec0 int64
	if srv != nil && srv.cmds != nil {
		usec0 = evalUsec(ctx, srv.rs) // INFO: before the count starts
		cmds0 = srv.cmds.n.Load()
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var scpu0 time.Duration
	if srv != nil && srv.pid != 0 {
		scpu0 = childCPU(srv.pid)
	}
	cpu0 := processCPU()
	start := time.Now()
	end := start.Add(dur)

	var issued atomic.Int64
	var jobs chan time.Time
	if rate > 0 {
		jobs = make(chan time.Time, 4*cfg.Conns)
		go func() {
			defer close(jobs)
			interval := float64(time.Second) / rate
			var i int64
			for pctx.Err() == nil {
				now := time.Now()
				due := int64(float64(now.Sub(start)) / interval)
				for ; i <= due; i++ {
					at := start.Add(time.Duration(float64(i) * interval))
					if !at.Before(end) || limit > 0 && i >= limit {
						return
					}
					select {
					case jobs <- at:
						issued.Add(1)
					case <-pctx.Done():
						return
					}
					// Every connection is busy and the schedule has
					// run out: what is still due counts as missed.
					if len(jobs) == cap(jobs) && !time.Now().Before(end) {
						return
					}
				}
				next := start.Add(time.Duration(float64(i) * interval))
				if d := time.Until(next); d > 0 {
					preciseSleep(d)
				}
			}
		}()
	}

	// Progress: one line per second; soak minutes and samples.
	var progressWG sync.WaitGroup
	progressWG.Add(1)
	go func() {
		defer progressWG.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var sampleTick <-chan time.Time
		if soak != nil {
			st := time.NewTicker(soak.every)
			defer st.Stop()
			sampleTick = st.C
			soak.sample(0)
		}
		secs := 0
		for {
			select {
			case <-pctx.Done():
				return
			case <-sampleTick:
				soak.sample(time.Since(start))
			case <-tick.C:
				secs++
				rec.mu.Lock()
				n, fails := rec.sec.Count(), rec.secFail
				p50, p99 := rec.sec.Quantile(0.5), rec.sec.Quantile(0.99)
				rec.sec, rec.secFail = Histogram{}, 0
				var minute *Histogram
				if soak != nil && secs%60 == 0 {
					m := rec.minute
					minute = &m
					rec.minute = Histogram{}
				}
				rec.mu.Unlock()
				if minute != nil {
					soak.minute(minute)
				}
				if report && cfg.Progress != nil {
					offered := "max"
					if rate > 0 {
						offered = strconv.FormatFloat(rate, 'f', 0, 64) + "/s"
					}
					fmt.Fprintf(cfg.Progress, "[%s] %3ds  offered %s  achieved %d/s  p50 %s  p99 %s  failures %d\n",
						name, secs, offered, n, ms(p50), ms(p99), fails)
				}
			}
		}
	}()

	var wg sync.WaitGroup
	for k := range cfg.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := &worker{rng: rand.New(rand.NewPCG(cfg.Seed, r.seq.Add(1)+uint64(k)<<32))}
			var buf bytes.Buffer
			intern := map[string]string{}
			do := func(due time.Time) {
				c := wl.call(wk)
				sent := time.Now()
				outcome := r.do(pctx, client, target, host, c, &buf, intern)
				if c.done != nil {
					c.done(outcome)
				}
				failed := outcome == OutcomeTransport || outcome == OutcomeBadEnvelope || len(outcome) > 5 && outcome[:5] == "HTTP "
				if pctx.Err() == nil || !failed {
					now := time.Now()
					rec.add(c.action, outcome, now.Sub(due), now.Sub(sent), failed)
				}
			}
			if jobs != nil {
				for due := range jobs {
					do(due)
				}
				return
			}
			for time.Now().Before(end) && pctx.Err() == nil {
				if limit > 0 && issued.Add(1) > limit {
					return
				}
				do(time.Now())
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	var scpu time.Duration
	if srv != nil && srv.pid != 0 {
		scpu = childCPU(srv.pid) - scpu0
	}
	cancel()
	progressWG.Wait()
	if soak != nil {
		soak.sample(elapsed)
		rec.mu.Lock()
		if rec.minute.Count() > 0 {
			m := rec.minute
			soak.minute(&m)
		}
		rec.mu.Unlock()
	}

	p := &Phase{Server: name, Offered: rate, Elapsed: elapsed, CPU: cpu, ServerCPU: scpu, Requests: rec.requests, Failures: rec.fails,
		All: rec.all, Sent: rec.sent, Stats: rec.by, RedisCommands: -1, RedisUsec: -1}
	if rate > 0 {
		planned := int64(rate * dur.Seconds())
		if limit > 0 {
			planned = min(planned, limit)
		}
		p.Missed = max(planned-issued.Load(), 0)
	}
	if srv != nil && srv.cmds != nil {
		p.RedisCommands = srv.cmds.n.Load() - cmds0
		p.RedisUsec = evalUsec(ctx, srv.rs) - usec0
	}
	return p
}

// do sends one call and returns its outcome: "OK", the error code, or one of
// the Outcome* values.
func (r *runner) do(ctx context.Context, client *http.Client, target, host string, c call, buf *bytes.Buffer, intern map[string]string) string {
	req, err := r.sign.request(ctx, target, host, c, time.Now())
	if err != nil {
		return OutcomeTransport
	}
	resp, err := client.Do(req)
	if err != nil {
		return OutcomeTransport
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return OutcomeTransport
	}
	if resp.StatusCode != http.StatusOK {
		return "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	return outcomeOf(buf.Bytes(), intern)
}

var (
	errorField = []byte(`"Error":`)
	codeField  = []byte(`"Code":"`)
	requestID  = []byte(`"RequestId":"`)
)

// outcomeOf reads the error code of a Tencent envelope without decoding it
// all: "OK" when it has no Error.
func outcomeOf(body []byte, intern map[string]string) string {
	if !bytes.HasPrefix(body, []byte(`{"Response":{`)) || !bytes.Contains(body, requestID) {
		return OutcomeBadEnvelope
	}
	i := bytes.Index(body, errorField)
	if i < 0 {
		return "OK"
	}
	rest := body[i:]
	j := bytes.Index(rest, codeField)
	if j < 0 {
		return OutcomeBadEnvelope
	}
	rest = rest[j+len(codeField):]
	k := bytes.IndexByte(rest, '"')
	if k < 0 {
		return OutcomeBadEnvelope
	}
	if s, ok := intern[string(rest[:k])]; ok {
		return s
	}
	s := string(rest[:k])
	intern[s] = s
	return s
}

// tailOutbox follows a development outbox file from its current end and
// hands every code it sees to the code book.
func tailOutbox(ctx context.Context, path string, book *codeBook) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--outbox: %w", err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return fmt.Errorf("--outbox: %w", err)
	}
	go func() {
		defer f.Close()
		rd := bufio.NewReader(f)
		var partial []byte
		for ctx.Err() == nil {
			line, err := rd.ReadBytes('\n')
			partial = append(partial, line...)
			if err != nil {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			var m struct{ Action, To, Code string }
			if json.Unmarshal(partial, &m) == nil {
				book.deliver(m.Action, m.To, m.Code)
			}
			partial = partial[:0]
		}
	}()
	return nil
}

// loadAverage returns the 1, 5 and 15 minute load averages, or "n/a".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}

// ms formats a latency in milliseconds.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}
