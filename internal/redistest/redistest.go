// Package redistest runs a test-owned redis-server for one test: on a spare
// loopback port, without persistence (--save "" --appendonly no), stopped by
// t.Cleanup. It never touches a Redis the test did not start.
//
// When redis-server is not installed the test is skipped with a message, or
// fails when the environment variable CI is set (CI must run every test;
// `make test` installs Debian's redis-server).
package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a redis-server owned by one test.
type Server struct {
	tb    testing.TB
	bin   string
	Port  int
	Addr  string // 127.0.0.1:port
	extra []string
	dir   string // working directory, kept across restarts

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	out    *bytes.Buffer
}

// Binary returns the path of redis-server, or skips (fails under CI) the test
// when it is not installed.
func Binary(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err == nil {
		return bin
	}
	msg := "redis-server is not installed (Debian: apt-get install -y redis-server; `make test` does it)"
	if os.Getenv("CI") != "" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// Start starts a redis-server on a spare port with the given extra
// arguments (e.g. "--appendonly", "yes") and stops it when the test ends.
func Start(tb testing.TB, extra ...string) *Server {
	tb.Helper()
	return start(tb, false, extra)
}

func start(tb testing.TB, clusterBus bool, extra []string) *Server {
	tb.Helper()
	bin := Binary(tb)
	var lastErr error
	for range 10 {
		port, err := sparePort(clusterBus)
		if err != nil {
			lastErr = err
			continue
		}
		s := &Server{tb: tb, bin: bin, Port: port, Addr: "127.0.0.1:" + strconv.Itoa(port), extra: extra, dir: tb.TempDir()}
		if lastErr = s.start(); lastErr == nil {
			tb.Cleanup(s.Stop)
			return s
		}
	}
	tb.Fatalf("redistest: %v", lastErr)
	return nil
}

// URL is the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr }

// sparePort returns a free loopback port; with clusterBus, one whose cluster
// bus port (port+10000) is free too.
func sparePort(clusterBus bool) (int, error) {
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		if !clusterBus {
			ln.Close()
			return port, nil
		}
		if port+10000 <= 65535 {
			if bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000)); err == nil {
				bus.Close()
				ln.Close()
				return port, nil
			}
		}
		ln.Close()
	}
	return 0, fmt.Errorf("no spare port pair for a cluster node")
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	args := append([]string{"--port", strconv.Itoa(s.Port), "--save", "", "--appendonly", "no",
		"--bind", "127.0.0.1", "--daemonize", "no", "--loglevel", "warning"}, s.extra...)
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("redis-server on port %d exited: %s", s.Port, out.String())
		default:
		}
		if ping(s.Addr) == nil {
			s.cmd, s.exited, s.out = cmd, exited, out
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
	<-exited
	return fmt.Errorf("redis-server on port %d did not answer PING: %s", s.Port, out.String())
}

// ping sends PING and expects +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// Kill stops the server at once (SIGKILL), as a crash would.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}

// Pause stops the server process (SIGSTOP) without closing its sockets: the
// kernel still accepts connections, but nothing answers, as with a hung or
// partitioned server. Resume continues it.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.cmd.Process.Signal(sig)
	}
}

// Restart starts the server again on the same port after Kill.
func (s *Server) Restart() {
	s.tb.Helper()
	var err error
	for range 50 { // the port may take a moment to be free again
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.tb.Fatalf("redistest: restart: %v", err)
}

// Stop kills the server; Start registers it with t.Cleanup.
func (s *Server) Stop() { s.Kill() }
