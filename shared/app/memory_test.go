package app_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery/outbox"
)

// peakRSS reads VmHWM (the peak resident set size) of process pid, in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc status for the process: %v", err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// memoryLimit is the peak RSS a verifyfn process may reach under a burst of
// CreateAccount calls.
const memoryLimit = 300 << 20

// TestCreateAccountMemory runs bursts of parallel CreateAccount calls from
// one credential against the real verifyfn binary, with its production
// argon2id parameters (19 MiB a hash), each burst on a fresh process, and
// reads the process's peak RSS: under 300 MB, with every call answered by a
// documented code. A wrong code is refused before any password is hashed,
// and right codes are hashed at most GOMAXPROCS at a time. This measures
// memory, never time: the client waits as long as the server needs.
func TestCreateAccountMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildVerifyfn(t)
	t.Run("200 with a wrong code", func(t *testing.T) {
		// The default rate limit (20 a second) admits a few; none is hashed.
		codes, peak := createAccountBurst(t, bin, 200, false)
		if codes["FailedOperation.VerificationCodeIllegal"]+codes["RequestLimitExceeded"] != 200 {
			t.Errorf("answers %v; want only FailedOperation.VerificationCodeIllegal and RequestLimitExceeded", codes)
		}
		if peak >= memoryLimit {
			t.Errorf("peak RSS %.1f MB, want under %d MB", float64(peak)/(1<<20), memoryLimit>>20)
		}
	})
	t.Run("40 with the right code", func(t *testing.T) {
		// The rate limit is out of the way: every call passes the first
		// check until one has consumed the code, so many would hash at once
		// unless hashes were bounded (unbounded, this burst peaked at about
		// 500 MB). The bound is GOMAXPROCS hashes, fixed here at 2 so the
		// figure does not depend on the machine's cores.
		codes, peak := createAccountBurst(t, bin, 40, true, "VERIFYFN_RATE_LIMIT=1000", "GOMAXPROCS=2")
		if codes[""] != 1 || codes["FailedOperation.VerificationCodeIllegal"] != 39 {
			t.Errorf("answers %v; want 1 account created and 39 FailedOperation.VerificationCodeIllegal", codes)
		}
		if peak >= memoryLimit {
			t.Errorf("peak RSS %.1f MB, want under %d MB", float64(peak)/(1<<20), memoryLimit>>20)
		}
	})
}

// createAccountBurst starts bin, sends a code to one number and makes n
// parallel CreateAccount calls with it (right) or with another code. It
// returns the count of each answer's code ("" for success) and the
// process's peak RSS.
func createAccountBurst(t *testing.T, bin string, n int, right bool, env ...string) (map[string]int, int64) {
	t.Helper()
	outboxFile := filepath.Join(t.TempDir(), "outbox.jsonl")
	addr := spareAddr(t)
	pid := serveProcess(t, bin, addr, append([]string{
		"VERIFYFN_STORE=memory",
		"VERIFYFN_CODE_KEY=memory-test-code-key-0123456789abcdef",
		"VERIFYFN_OUTBOX=" + outboxFile,
		"VERIFYFN_LOG_LEVEL=warn",
	}, env...)...)
	c := tcclient.New(tcclient.Options{Endpoint: addr, SecretID: accounts.DevSecretID, SecretKey: accounts.DevSecretKey, Timeout: 10 * time.Minute})
	if _, err := c.Call("intlpartnersmgt", "2022-09-28", "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}); err != nil {
		t.Fatalf("SendVerifyCode: %v", err)
	}
	lines, err := outbox.Read(outboxFile)
	if err != nil || len(lines) != 1 {
		t.Fatalf("outbox: %v, %d messages", err, len(lines))
	}
	code := lines[0].Code
	if !right {
		v, _ := strconv.Atoi(code)
		code = fmt.Sprintf("%06d", (v+1)%1000000)
	}
	answers := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := c.Call("intlpartnersmgt", "2022-09-28", "CreateAccount", map[string]any{
				"AccountType": "personal", "Mail": "m" + strconv.Itoa(i) + "@example.com", "Password": "Passw0rd!", "ConfirmPassword": "Passw0rd!",
				"PhoneNum": "51234567", "CountryCode": "852", "Area": "HK", "VerifyCode": code,
				"TradeOne": "kghy_01", "TradeTwo": "kghy_0101",
			})
			var e *tcerr.TencentCloudSDKError
			switch {
			case err == nil:
			case errors.As(err, &e):
				answers[i] = e.Code
			default:
				answers[i] = "no answer: " + err.Error()
			}
		})
	}
	close(start)
	wg.Wait()
	count := map[string]int{}
	for _, a := range answers {
		count[a]++
	}
	peak := peakRSS(t, pid)
	t.Logf("%d parallel CreateAccount calls: answers %v, peak RSS %.1f MB", n, count, float64(peak)/(1<<20))
	return count, peak
}
