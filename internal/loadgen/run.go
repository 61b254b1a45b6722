package loadgen

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/verifyfn/verifyfn/shared/accounts"
)

// Run is the `verifyfn bench` command: it parses args, runs the harness,
// prints the summary to stdout (progress to stderr) and returns the exit
// code (1 when a soak check failed or the run could not complete).
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verifyfn bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	fs.StringVar(&cfg.Target, "target", "", "base URL of a running server, e.g. http://127.0.0.1:9000 (default: start the real stack in-process)")
	fs.BoolVar(&cfg.Spawn, "spawn", false, "start `verifyfn serve` (its JSON log and outbox written to files, guard off, rate limit raised, store as --store) and a bare-envelope server as child processes and drive them from this process as --target does; reports server CPU per request of each (docs/benchmarks.md)")
	fs.StringVar(&cfg.SpawnDir, "spawn-dir", "", "with --spawn: directory for the children's logs and the outbox (default: a temporary one, removed at the end)")
	fs.StringVar(&cfg.ServerCPUProfile, "server-cpuprofile", "", "with --spawn: the served child writes a CPU profile of its whole life to this file (serve --cpuprofile)")
	fs.StringVar(&cfg.Store, "store", or(getenv("VERIFYFN_STORE"), "memory"), "in-process store, as VERIFYFN_STORE: memory, file:PATH or a redis:// URL")
	fs.Float64Var(&cfg.Rate, "rate", 0, "offered requests per second (0: flat out)")
	sweep := fs.String("sweep", "", "comma-separated offered rates, one phase each (e.g. 1000,2000,4000)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "length of each phase (default 10s)")
	fs.DurationVar(&cfg.Warmup, "warmup", 0, "warm-up before the first phase on each server (default 1s; negative: none)")
	fs.Int64Var(&cfg.Requests, "requests", 0, "end each phase (each round) after this many requests (0: no limit)")
	fs.IntVar(&cfg.Rounds, "rounds", 1, "split each phase into rounds alternating with the ceiling's, so both see the same background load")
	fs.IntVar(&cfg.Conns, "conns", 32, "concurrent keep-alive connections")
	mix := fs.String("mix", "mixed", "workload: mixed, pumping (the fraud guard's simulation, see docs/fraud.md), or Action[:weight],... (e.g. SendVerifyCode)")
	var pc PumpingConfig
	fs.DurationVar(&pc.Duration, "sim-duration", 0, "pumping: simulated length (default 6h)")
	fs.Float64Var(&pc.Speed, "speed", 0, "pumping: simulated seconds per real second (default 60 on the memory store; Redis runs at 1)")
	fs.DurationVar(&pc.AttackAt, "attack-at", 0, "pumping: simulated time the attack begins (default 2h)")
	fs.Float64Var(&pc.RealRate, "real-rate", 0, "pumping: real sign-ups per simulated second (default 1)")
	fs.Float64Var(&pc.AttackRate, "attack-rate", 0, "pumping: attack sends per simulated second (default 2)")
	noCeiling := fs.Bool("no-ceiling", false, "do not measure the bare-envelope ceiling")
	fs.BoolVar(&cfg.Soak, "soak", false, "soak: sample heap, store entries, goroutines and per-minute p99; check they stay flat (needs --rate)")
	fs.DurationVar(&cfg.Sample, "sample", 0, "soak sampling interval (default 10s)")
	csvPath := fs.String("csv", "", "write offered vs achieved rate and latency per phase to this CSV file")
	fs.StringVar(&cfg.SecretID, "secret-id", or(getenv("VERIFYFN_SECRET_ID"), accounts.DevSecretID), "SecretId to sign with")
	fs.StringVar(&cfg.SecretKey, "secret-key", or(getenv("VERIFYFN_SECRET_KEY"), accounts.DevSecretKey), "SecretKey to sign with")
	fs.StringVar(&cfg.Instance, "instance", accounts.DevInstanceID, "SMH instance id for SendSmsCode")
	fs.StringVar(&cfg.Outbox, "outbox", "", "with --target: the server's outbox file, to check with the right codes")
	fs.IntVar(&cfg.RateLimit, "rate-limit", 0, "in-process: requests/s per account and action (default: no practical limit)")
	short := fs.Bool("short-lifetimes", false, "in-process: codes live 30 s, cooldown 5 s, send windows 15 s and 30 s (as --soak), so that a shared Redis is not left with a day of keys; the work per request is the same")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "random seed (default: random)")
	quiet := fs.Bool("quiet", false, "no progress lines")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (client and in-process server) to this file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: verifyfn bench [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if *mix == "pumping" {
		pc.Store, pc.Seed = cfg.Store, cfg.Seed
		if cfg.Conns != 32 {
			pc.Conns = cfg.Conns
		}
		if !*quiet {
			pc.Progress = stderr
		}
		return runPumping(ctx, pc, *csvPath, stdout, stderr)
	}
	m, err := ParseMix(*mix)
	if err != nil {
		fmt.Fprintf(stderr, "verifyfn bench: %v\n", err)
		return 2
	}
	cfg.Mix = m
	cfg.Ceiling = !*noCeiling
	if *short {
		cfg.Policy = SoakPolicy
		cfg.ShortLifetimes = true
	}
	if cfg.ServerCPUProfile != "" && !cfg.Spawn {
		fmt.Fprintln(stderr, "verifyfn bench: --server-cpuprofile needs --spawn")
		return 2
	}
	if *sweep != "" {
		for part := range strings.SplitSeq(*sweep, ",") {
			r, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
			if err != nil || r <= 0 {
				fmt.Fprintf(stderr, "verifyfn bench: --sweep: %q is not a positive rate\n", part)
				return 2
			}
			cfg.Sweep = append(cfg.Sweep, r)
		}
	}
	if cfg.Soak && cfg.Rate <= 0 {
		fmt.Fprintln(stderr, "verifyfn bench: --soak needs --rate")
		return 2
	}
	if !*quiet {
		cfg.Progress = stderr
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "verifyfn bench: --cpuprofile: %v\n", err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	res, err := Load(ctx, cfg)
	if res != nil {
		WriteReport(stdout, cfg, res)
	}
	if err != nil {
		fmt.Fprintf(stderr, "verifyfn bench: %v\n", err)
		return 1
	}
	if *csvPath != "" {
		f, err := os.Create(*csvPath)
		if err == nil {
			err = WriteCSV(f, cfg, res)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "verifyfn bench: --csv: %v\n", err)
			return 1
		}
	}
	for _, p := range res.Phases {
		if p.Soak != nil && !p.Soak.OK() {
			return 1
		}
	}
	return 0
}

// runPumping runs the pumping simulation, prints its report and writes its
// CSV.
func runPumping(ctx context.Context, pc PumpingConfig, csvPath string, stdout, stderr io.Writer) int {
	res, err := Pumping(ctx, pc)
	if res != nil && len(res.Runs) > 0 {
		WritePumpingReport(stdout, res)
	}
	if err != nil {
		fmt.Fprintf(stderr, "verifyfn bench: %v\n", err)
		return 1
	}
	if csvPath != "" {
		f, err := os.Create(csvPath)
		if err == nil {
			err = WritePumpingCSV(f, res)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "verifyfn bench: --csv: %v\n", err)
			return 1
		}
	}
	return 0
}
