package loadgen

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Machine describes where the run happened, for reports.
func Machine() string {
	cpu := runtime.GOARCH
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	return fmt.Sprintf("%s, %d cores (GOMAXPROCS %d), %s %s/%s", cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func offered(rate float64) string {
	if rate <= 0 {
		return "flat out"
	}
	return strconv.FormatFloat(rate, 'f', 0, 64) + "/s"
}

// WriteReport prints the summary of a run: per phase the totals, then
// requests/s and latency per action and outcome, then the ratio to the
// ceiling and, for soaks, the samples and checks.
func WriteReport(w io.Writer, cfg Config, res *Result) {
	cfg.defaults()
	where := "in-process server (app.New + app.Serve on loopback), store " + redact(or(cfg.Store, "memory"))
	if cfg.Target != "" {
		where = "target " + cfg.Target
	}
	if cfg.Spawn {
		where = "spawned servers (this executable's `serve` with its log and outbox written to files, store " +
			redact(or(cfg.Store, "memory")) + ", guard off; the ceiling a bare child on the same http.Server settings)"
	}
	fmt.Fprintf(w, "verifyfn bench: %s\n", where)
	for _, c := range res.Children {
		fmt.Fprintf(w, "child %s: pid %d, log %s", c.Name, c.PID, c.Log)
		if c.Outbox != "" {
			fmt.Fprintf(w, ", outbox %s", c.Outbox)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "machine: %s; load average %s at the start, %s at the end\n", Machine(), res.LoadBefore, res.LoadAfter)
	rounds := ""
	if cfg.Rounds > 1 {
		rounds = fmt.Sprintf(" in %d rounds alternating with the ceiling's", cfg.Rounds)
	}
	fmt.Fprintf(w, "mix: %s; %d connections; %s per phase%s\n\n", cfg.Mix, cfg.Conns, cfg.Duration, rounds)
	var last *Phase
	for _, p := range res.Phases {
		fmt.Fprintf(w, "%s at %s: %d requests in %.1fs = %.0f req/s; p50 %s p90 %s p99 %s max %s; %d failures",
			p.Server, offered(p.Offered), p.Requests, p.Elapsed.Seconds(), p.Achieved(),
			ms(p.All.Quantile(0.5)), ms(p.All.Quantile(0.9)), ms(p.All.Quantile(0.99)), ms(p.All.Max()), p.Failures)
		if p.Missed > 0 {
			fmt.Fprintf(w, "; %d due but never sent (the server fell behind)", p.Missed)
		}
		fmt.Fprintln(w)
		switch {
		case cfg.Spawn:
			fmt.Fprintf(w, "  CPU per request: server %d µs (its process, /proc/<pid>/stat), client %d µs (this process)\n",
				p.ServerCPUPerRequest().Microseconds(), p.CPUPerRequest().Microseconds())
		case p.CPU > 0:
			fmt.Fprintf(w, "  CPU per request (this process: client%s): %d µs\n", map[bool]string{true: " and server", false: ""}[cfg.Target == "" || p.Server == "ceiling"], p.CPUPerRequest().Microseconds())
		}
		if p.Offered > 0 {
			fmt.Fprintf(w, "  latency is counted from when each request was due; from when it was sent: p50 %s p99 %s\n",
				ms(p.Sent.Quantile(0.5)), ms(p.Sent.Quantile(0.99)))
		}
		if p.RedisCommands >= 0 && p.Requests > 0 {
			fmt.Fprintf(w, "  Redis round trips per request: %.2f; Redis server time in scripts per request: %.1f µs (EVALSHA in INFO commandstats)\n",
				float64(p.RedisCommands)/float64(p.Requests), float64(p.RedisUsec)/float64(p.Requests))
		}
		if p.Server == "full" {
			writeStats(w, p)
		}
		if p.Server == "ceiling" && last != nil && last.Offered == p.Offered && p.Achieved() > 0 {
			fmt.Fprintf(w, "  full/ceiling at %s: %.2f of the ceiling's requests/s; p99 %s vs %s\n",
				offered(p.Offered), last.Achieved()/p.Achieved(), ms(last.All.Quantile(0.99)), ms(p.All.Quantile(0.99)))
			if cfg.Spawn && last.ServerCPU > 0 && p.ServerCPU > 0 {
				fmt.Fprintf(w, "  server CPU per request full / ceiling: %d / %d µs (ceiling/full %.2f)\n",
					last.ServerCPUPerRequest().Microseconds(), p.ServerCPUPerRequest().Microseconds(),
					float64(p.ServerCPUPerRequest())/float64(last.ServerCPUPerRequest()))
			} else if last.CPU > 0 && p.CPU > 0 && cfg.Target == "" {
				fmt.Fprintf(w, "  ceiling/full CPU per request: %.2f (the full stack's share of the ceiling's capacity when CPU-bound)\n",
					float64(p.CPUPerRequest())/float64(last.CPUPerRequest()))
			}
		}
		if p.Soak != nil {
			writeSoak(w, p.Soak)
		}
		fmt.Fprintln(w)
		last = p
	}
}

func writeStats(w io.Writer, p *Phase) {
	keys := make([]Key, 0, len(p.Stats))
	for k := range p.Stats {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b Key) int {
		if c := strings.Compare(a.Action, b.Action); c != 0 {
			return c
		}
		return strings.Compare(a.Outcome, b.Outcome)
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  action\toutcome\tcount\treq/s\tp50\tp90\tp99\t")
	row := func(action, outcome string, h *Histogram) {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%.0f\t%s\t%s\t%s\t\n", action, outcome, h.Count(),
			float64(h.Count())/p.Elapsed.Seconds(), ms(h.Quantile(0.5)), ms(h.Quantile(0.9)), ms(h.Quantile(0.99)))
	}
	var total Histogram
	for i, k := range keys {
		row(k.Action, k.Outcome, p.Stats[k])
		total.Merge(p.Stats[k])
		if i == len(keys)-1 || keys[i+1].Action != k.Action {
			row(k.Action, "(all)", &total)
			total = Histogram{}
		}
	}
	tw.Flush()
}

func writeSoak(w io.Writer, r *SoakReport) {
	fmt.Fprintln(w, "  soak samples:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  at\theap in use\tstore entries\tgoroutines\t")
	for _, s := range r.Samples {
		entries := "n/a"
		if s.StoreEntries >= 0 {
			entries = strconv.Itoa(s.StoreEntries)
		}
		fmt.Fprintf(tw, "  %s\t%.1f MiB\t%s\t%d\t\n", s.At.Round(time.Second), float64(s.HeapInuse)/(1<<20), entries, s.Goroutines)
	}
	tw.Flush()
	fmt.Fprintln(w, "  per-minute p99:")
	for i, p := range r.MinuteP99 {
		fmt.Fprintf(w, "    minute %d: p99 %s (%d requests)\n", i+1, ms(p), r.MinuteCount[i])
	}
	for _, c := range r.Checks {
		verdict := "PASS"
		if !c.OK {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "  %s %s: %s\n", verdict, c.Name, c.Detail)
	}
}

// CSVHeader is the first row WriteCSV writes.
var CSVHeader = []string{"server", "store", "mix", "conns", "offered_rps", "achieved_rps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "requests", "failures", "missed", "cpu_us_per_request", "server_cpu_us_per_request"}

// WriteCSV writes one row per phase: offered rate (0 = flat out) vs
// achieved rate and latency.
func WriteCSV(w io.Writer, cfg Config, res *Result) error {
	cfg.defaults()
	cw := csv.NewWriter(w)
	cw.Write(CSVHeader)
	f := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
	}
	store := or(cfg.Store, "memory")
	if cfg.Target != "" {
		store = "remote"
	}
	for _, p := range res.Phases {
		st := store
		if p.Server == "ceiling" {
			st = "none"
		}
		cw.Write([]string{p.Server, redact(st), cfg.Mix.String(), strconv.Itoa(cfg.Conns),
			strconv.FormatFloat(p.Offered, 'f', 0, 64), strconv.FormatFloat(p.Achieved(), 'f', 1, 64),
			f(p.All.Quantile(0.5)), f(p.All.Quantile(0.9)), f(p.All.Quantile(0.99)), f(p.All.Max()),
			strconv.FormatInt(p.Requests, 10), strconv.FormatInt(p.Failures, 10), strconv.FormatInt(p.Missed, 10),
			strconv.FormatInt(p.CPUPerRequest().Microseconds(), 10), strconv.FormatInt(p.ServerCPUPerRequest().Microseconds(), 10)})
	}
	cw.Flush()
	return cw.Error()
}

// redact drops credentials from a store URL.
func redact(s string) string {
	if i := strings.Index(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "xxxxx" + s[i:]
		}
	}
	return s
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
