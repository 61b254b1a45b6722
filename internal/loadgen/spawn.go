package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/procfs"

	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
)

// BareCommand is the hidden subcommand of the verifyfn binary that serves
// the bare envelope (the ceiling) on its own, for `bench --spawn`.
const BareCommand = "bench-bare-server"

// ServeBare is BareCommand: it serves `{"Response":{"RequestId":"x"}}`
// through app.Serve (the same http.Server settings as `verifyfn serve`) on
// a loopback port until ctx ends, and writes a JSON "listening" line with
// the address to stderr, as `verifyfn serve` does.
func ServeBare(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "verifyfn %s: no arguments expected\n", BareCommand)
		return 2
	}
	logger := app.NewLogger(stderr, "info")
	err := app.Serve(ctx, "127.0.0.1:0", ceilingHandler, logger, func(a net.Addr) {
		logger.Info("listening", "addr", a.String())
	})
	if err != nil {
		fmt.Fprintf(stderr, "verifyfn %s: %v\n", BareCommand, err)
		return 1
	}
	return 0
}

// Child is a server the harness started as a child process (--spawn).
type Child struct {
	Name string // "full" or "ceiling"
	PID  int
	Log  string // the file its stderr (its JSON log) goes to
	// Outbox is the full child's outbox file (empty for the bare child).
	Outbox string
}

// spawnChild starts exe with args and env, its stdout and stderr written to
// logPath, and waits until its log says where it listens. The child is
// killed when ctx ends; close stops it with SIGTERM (so that it shuts down
// cleanly and writes its profile) and kills it if it does not exit in time.
func spawnChild(ctx context.Context, name, exe string, args, env []string, logPath string) (*server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr()
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("--spawn: start %s: %w", name, err)
	}
	logf.Close() // the child has its own descriptor
	s := &server{pid: cmd.Process.Pid, done: make(chan error, 1)}
	// exec kills the child when ctx ends; Wait returns then too.
	go func() { s.done <- cmd.Wait() }()
	// SIGTERM: the child shuts down as on a deployment's stop.
	s.stop = func() { cmd.Process.Signal(syscall.SIGTERM) }
	kill := func() {
		cmd.Process.Kill()
		<-s.done
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if addr := listeningAddr(logPath); addr != "" {
			s.host = addr
			s.url = "http://" + addr + "/"
			break
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("--spawn: %s exited before listening (%v); its log: %s", name, err, tail(logPath))
		case <-ctx.Done():
			kill()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			kill()
			return nil, fmt.Errorf("--spawn: %s did not listen within 30 s; its log: %s", name, tail(logPath))
		}
	}
	s.closeChild = func() error {
		s.stop()
		select {
		case err := <-s.done:
			return err
		case <-time.After(15 * time.Second):
			kill()
			return fmt.Errorf("--spawn: %s did not exit on SIGTERM; killed", name)
		}
	}
	return s, nil
}

// listeningAddr finds the address in the "listening" line of a JSON log.
func listeningAddr(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if !bytes.Contains(sc.Bytes(), []byte(`"msg":"listening"`)) {
			continue
		}
		var l struct{ Addr string }
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Addr != "" {
			return l.Addr
		}
	}
	return ""
}

// tail returns the last lines of a file, for an error message.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// childEnv is the environment of a child: this process's without any
// VERIFYFN_* variable, plus set.
func childEnv(set ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VERIFYFN_") {
			env = append(env, kv)
		}
	}
	return append(env, set...)
}

// startSpawned starts `verifyfn serve` as a child of this executable,
// configured through its environment as a user runs it: the store named by
// cfg.Store, its JSON log written to a file, every code appended to its
// outbox, the fraud guard off and the per-account rate limit raised so that
// the load is not refused, the control plane off (as in production and as
// the in-process harness runs it). It returns the child and its files.
func startSpawned(ctx context.Context, cfg *Config, dir string) (*server, *Child, error) {
	exe, err := spawnExe()
	if err != nil {
		return nil, nil, err
	}
	c := &Child{Name: "full", Log: filepath.Join(dir, "server.log"), Outbox: filepath.Join(dir, "outbox.jsonl")}
	// The outbox exists before the harness follows it.
	if err := os.WriteFile(c.Outbox, nil, 0o600); err != nil {
		return nil, nil, err
	}
	env := childEnv(
		"VERIFYFN_ADDR=127.0.0.1:0",
		"VERIFYFN_METRICS_ADDR=127.0.0.1:0",
		"VERIFYFN_STORE="+or(cfg.Store, "memory"),
		"VERIFYFN_OUTBOX="+c.Outbox,
		"VERIFYFN_GUARD=off",
		"VERIFYFN_RATE_LIMIT="+strconv.Itoa(cfg.RateLimit),
		"VERIFYFN_CONTROL=false",
	)
	if cfg.ShortLifetimes {
		env = append(env, soakEnv()...)
	}
	args := []string{"serve"}
	if cfg.ServerCPUProfile != "" {
		args = append(args, "--cpuprofile", cfg.ServerCPUProfile)
	}
	s, err := spawnChild(ctx, "verifyfn serve", exe, args, env, c.Log)
	if err != nil {
		return nil, nil, err
	}
	c.PID = s.pid
	return s, c, nil
}

// soakEnv is SoakPolicy as VERIFYFN_* variables, for a spawned server.
func soakEnv() []string {
	var c config.Config
	SoakPolicy(&c)
	windows := make([]string, len(c.Windows))
	for i, w := range c.Windows {
		windows[i] = strconv.Itoa(w.Max) + "/" + w.Period.String()
	}
	return []string{"VERIFYFN_CODE_TTL=" + c.CodeTTL.String(), "VERIFYFN_RESEND_COOLDOWN=" + c.Cooldown.String(),
		"VERIFYFN_SEND_WINDOWS=" + strings.Join(windows, ",")}
}

// startBare starts BareCommand as a child of this executable.
func startBare(ctx context.Context, cfg *Config, dir string) (*server, *Child, error) {
	exe, err := spawnExe()
	if err != nil {
		return nil, nil, err
	}
	c := &Child{Name: "ceiling", Log: filepath.Join(dir, "bare.log")}
	s, err := spawnChild(ctx, "the bare server", exe, []string{BareCommand}, childEnv(), c.Log)
	if err != nil {
		return nil, nil, err
	}
	c.PID = s.pid
	return s, c, nil
}

func spawnExe() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("--spawn: %w", err)
	}
	return exe, nil
}

// childCPU is the CPU time (user and system, /proc/<pid>/stat through
// procfs) process pid has used, or 0 when it cannot be read.
func childCPU(pid int) time.Duration {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return 0
	}
	st, err := p.Stat()
	if err != nil {
		return 0
	}
	return time.Duration(st.CPUTime() * float64(time.Second))
}
