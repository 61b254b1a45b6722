package loadgen_test

import (
	"time"

	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/verifyfn/verifyfn/internal/loadgen"
	"github.com/verifyfn/verifyfn/shared/app/all"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery/outbox"
)

// childEnv, set in the environment of a spawned child, makes this test
// binary play the verifyfn binary: `serve` and loadgen.BareCommand.
const childEnv = "LOADGEN_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" && len(os.Args) > 1 {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := 2
		switch os.Args[1] {
		case "serve":
			cfg, err := config.FromEnv(os.Getenv)
			if err != nil {
				os.Stderr.WriteString(err.Error() + "\n")
				break
			}
			code = all.RunServer(ctx, cfg, nil, os.Stderr)
		case loadgen.BareCommand:
			code = loadgen.ServeBare(ctx, os.Args[2:], os.Stderr)
		}
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestSpawn runs --spawn end to end: both children answer, both phases are
// reported with their servers' CPU, nothing fails, the full child writes
// its log and its outbox, and the checks read their codes from the outbox.
func TestSpawn(t *testing.T) {
	t.Setenv(childEnv, "1")
	dir := t.TempDir()
	m, err := loadgen.ParseMix("SendVerifyCode:1,SendSmsCode:1,VerifySmsCode:1")
	if err != nil {
		t.Fatal(err)
	}
	// The request count ends each round; the duration only bounds a round
	// on a machine too busy to send 300 requests in the default 10 s.
	cfg := loadgen.Config{Spawn: true, SpawnDir: dir, Ceiling: true, Conns: 4, Requests: 300, Rounds: 2,
		Duration: 10 * time.Minute, Warmup: -1, Mix: m, Seed: 7}
	res, err := loadgen.Load(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Phases) != 2 || res.Phases[0].Server != "full" || res.Phases[1].Server != "ceiling" {
		t.Fatalf("phases: %+v", res.Phases)
	}
	for _, p := range res.Phases {
		if p.Requests != 600 || p.Failures != 0 {
			t.Errorf("%s: %d requests, %d failures; want 600 and 0", p.Server, p.Requests, p.Failures)
		}
		if p.ServerCPU <= 0 || p.CPU <= 0 {
			t.Errorf("%s: server CPU %s, client CPU %s; want both > 0", p.Server, p.ServerCPU, p.CPU)
		}
	}
	full := res.Phases[0]
	if full.Stats[loadgen.Key{Action: "VerifySmsCode", Outcome: "OK"}].Count() == 0 {
		t.Errorf("no check passed: the codes were not read from the outbox: %v", full.Stats)
	}
	if len(res.Children) != 2 {
		t.Fatalf("children: %+v", res.Children)
	}
	for _, c := range res.Children {
		if c.PID <= 0 || syscall.Kill(c.PID, 0) == nil {
			t.Errorf("child %s (pid %d) is still running", c.Name, c.PID)
		}
	}
	log, err := os.ReadFile(res.Children[0].Log)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), `"msg":"request"`); n < 600 {
		t.Errorf("the full child's log has %d request lines, want at least 600", n)
	}
	lines, err := outbox.Read(res.Children[0].Outbox)
	if err != nil || len(lines) == 0 {
		t.Errorf("the full child's outbox: %d lines, %v", len(lines), err)
	}
	for _, l := range lines {
		if strings.Contains(string(log), l.To) || strings.Contains(string(log), `"`+l.Code+`"`) {
			t.Fatalf("the log shows the number %s or its code", l.To)
		}
	}
	if filepath.Dir(res.Children[1].Log) != dir {
		t.Errorf("bare log %s not in %s", res.Children[1].Log, dir)
	}
}
