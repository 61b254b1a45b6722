package layout

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// docBlock returns the fenced block that follows "<!-- doc-test: NAME -->"
// in a document.
func docBlock(t *testing.T, file, name string) string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var block []string
	state := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case state == 0 && strings.TrimSpace(line) == "<!-- doc-test: "+name+" -->":
			state = 1
		case state == 1 && strings.HasPrefix(line, "```"):
			state = 2
		case state == 2 && strings.HasPrefix(line, "```"):
			return strings.Join(block, "\n") + "\n"
		case state == 2:
			block = append(block, line)
		}
	}
	t.Fatalf("%s has no block marked doc-test: %s", file, name)
	return ""
}

// guideEnv is a fresh directory with the verifyfn binary in it as
// ./verifyfn, and the environment that points it and `verifyfn call` at a
// spare loopback port.
func guideEnv(t *testing.T) (dir, addr string, env []string) {
	t.Helper()
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := tool + " is not installed (Debian: apt-get install -y " + tool + "; `make test` does it)"
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	dir = t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "verifyfn"), "./cmd/verifyfn")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	return dir, addr, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "VERIFYFN_ADDR=" + addr, "VERIFYFN_ENDPOINT=" + addr}
}

// runBash runs script with bash -euo pipefail in its own process group,
// killed (with anything it started) when the test ends.
func runBash(t *testing.T, dir string, env []string, script string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() { syscall.Kill(-pgid, syscall.SIGKILL) })
	err := cmd.Wait()
	return out.String(), err
}

// TestTestingGuideCI runs docs/testing.md's CI example as written: it starts
// the built binary itself, signs up through the official SDK, injects a
// fault, advances the clock and resets, asserting each answer.
func TestTestingGuideCI(t *testing.T) {
	script := docBlock(t, "docs/testing.md", "ci")
	dir, _, env := guideEnv(t)
	out, err := runBash(t, dir, env, script)
	if err != nil {
		t.Fatalf("docs/testing.md's CI example failed: %v\n%s", err, out)
	}
	for _, want := range []string{`"Uin"`, `"code":"FailedOperation.SendVerifyCodeLimit"`, `"offset":"11m0s"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %s:\n%s", want, out)
		}
	}
}

// TestTestingGuideInbox runs the dev inbox example against a running
// binary.
func TestTestingGuideInbox(t *testing.T) {
	script := docBlock(t, "docs/testing.md", "inbox")
	dir, addr, env := guideEnv(t)
	srv := exec.Command(filepath.Join(dir, "verifyfn"))
	srv.Dir, srv.Env = dir, env
	logs := &lockedBuffer{}
	srv.Stdout, srv.Stderr = logs, logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the server did not listen on %s:\n%s", addr, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	out, err := runBash(t, dir, env, script)
	if err != nil {
		t.Fatalf("docs/testing.md's inbox example failed: %v\n%s\nserver log:\n%s", err, out, logs.String())
	}
	if strings.Count(out, `"to":"you@example.com"`) != 2 || !strings.Contains(out, `"offset":"1m1s"`) {
		t.Fatalf("unexpected output:\n%s", out)
	}
	if !strings.Contains(logs.String(), "/_verifyfn/") {
		t.Errorf("the server does not name its control plane when it starts:\n%s", logs.String())
	}
}

// lockedBuffer is a buffer a running process writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTestingGuideGoIsATest: docs/testing.md's Go example is
// verifyfntest/guide_test.go, byte for byte, so it is compiled and run.
func TestTestingGuideGoIsATest(t *testing.T) {
	block := docBlock(t, "docs/testing.md", "go")
	src, err := os.ReadFile(filepath.Join(root, "verifyfntest", "guide_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	if block != string(src) {
		t.Fatal("docs/testing.md's Go example differs from verifyfntest/guide_test.go: copy the file into the block")
	}
}
