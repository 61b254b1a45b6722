package app_test

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/verifyfn/verifyfn/internal/redistest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery/outbox"
)

// buildVerifyfn builds ./cmd/verifyfn into a temporary directory.
func buildVerifyfn(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "verifyfn")
	out, err := exec.Command(goBin, "build", "-o", bin, "github.com/verifyfn/verifyfn/cmd/verifyfn").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func spareAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveProcess starts the binary with env (and no other VERIFYFN_ variable),
// waits until it listens on addr and returns its process id.
func serveProcess(t *testing.T, bin, addr string, env ...string) int {
	t.Helper()
	cmd := exec.Command(bin)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VERIFYFN_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, append(env, "VERIFYFN_ADDR="+addr, "VERIFYFN_METRICS_ADDR=127.0.0.1:0")...)
	var logs strings.Builder
	var mu sync.Mutex
	cmd.Stderr = processLog(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-done:
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("verifyfn on %s exited:\n%s", addr, logs.String())
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return cmd.Process.Pid
		}
	}
	t.Fatalf("verifyfn did not listen on %s", addr)
	return 0
}

type processLog func([]byte) (int, error)

func (f processLog) Write(p []byte) (int, error) { return f(p) }

// Two verifyfn processes sharing one Redis act as one service: 100
// concurrent SendVerifyCode calls for one number, split across both, send
// exactly one message, and the code it carries passes on either instance.
// On a standalone Redis and on a Redis Cluster of three masters with a
// replica each (where the send and the check run the destination's and the
// account's halves on two masters).
func TestTwoInstancesShareRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildVerifyfn(t)
	t.Run("standalone", func(t *testing.T) { twoInstances(t, bin, redistest.Start(t).URL()) })
	t.Run("cluster", func(t *testing.T) { twoInstances(t, bin, redistest.StartClusterWithReplicas(t, 3, 1).URL()) })
}

func twoInstances(t *testing.T, bin, storeURL string) {
	dir := t.TempDir()
	outboxFile := filepath.Join(dir, "outbox.jsonl")
	env := []string{
		"VERIFYFN_STORE=" + storeURL,
		"VERIFYFN_CODE_KEY=shared-code-key-0123456789abcdef",
		"VERIFYFN_OUTBOX=" + outboxFile,
		"VERIFYFN_RATE_LIMIT=1000",
		"VERIFYFN_LOG_LEVEL=warn",
	}
	addrs := []string{spareAddr(t), spareAddr(t)}
	for _, a := range addrs {
		serveProcess(t, bin, a, env...)
	}
	clients := make([]*tcclient.Client, len(addrs))
	for i, a := range addrs {
		clients[i] = tcclient.New(tcclient.Options{Endpoint: a, SecretID: accounts.DevSecretID, SecretKey: accounts.DevSecretKey})
	}

	const n = 100
	codes := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := clients[i%2].Call("intlpartnersmgt", "2022-09-28", "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234567"})
			var e *tcerr.TencentCloudSDKError
			switch {
			case err == nil:
			case errors.As(err, &e):
				codes[i] = e.Code
			default:
				codes[i] = err.Error()
			}
		})
	}
	close(start)
	wg.Wait()
	count := map[string]int{}
	for _, c := range codes {
		count[c]++
	}
	if count[""] != 1 || count["FailedOperation.SendVerifyCodeLimit60"] != n-1 {
		t.Fatalf("outcomes %v; want one success and %d SendVerifyCodeLimit60", count, n-1)
	}
	lines, err := outbox.Read(outboxFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || lines[0].To != "+85251234567" {
		t.Fatalf("outbox has %d messages, want exactly 1: %+v", len(lines), lines)
	}
	// Codes are shared too: whichever instance sent it, the code passes on
	// instance 0 and, consumed there, is refused by instance 1.
	for i, c := range clients {
		_, err := c.Call("intlpartnersmgt", "2022-09-28", "CreateAccount", map[string]any{
			"AccountType": "personal", "Mail": "dev" + strconv.Itoa(i) + "@example.com", "Password": "Passw0rd!", "ConfirmPassword": "Passw0rd!",
			"PhoneNum": "51234567", "CountryCode": "852", "Area": "HK", "VerifyCode": lines[0].Code,
			"TradeOne": "kghy_01", "TradeTwo": "kghy_0101",
		})
		var e *tcerr.TencentCloudSDKError
		switch {
		case i == 0 && err != nil:
			t.Fatalf("CreateAccount with the shared code on instance 0: %v", err)
		case i == 1 && (!errors.As(err, &e) || e.Code != "FailedOperation.VerificationCodeIllegal"):
			t.Fatalf("reusing the code on instance 1: %v", err)
		}
	}
}
