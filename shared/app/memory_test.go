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

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery/outbox"
	"github.com/verifyfn/verifyfn/internal/tcclient"
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

// 200 parallel CreateAccount calls with a wrong code from one credential,
// against the real verifyfn binary with its production argon2id parameters:
// every call gets a documented answer, and the process's peak RSS stays
// under 300 MB, because a wrong code is refused before any password is
// hashed and hashes run at most GOMAXPROCS at a time. This measures memory,
// never time: the client waits as long as the server needs.
func TestCreateAccountWrongCodeMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const n, limit = 200, 300 << 20
	bin := buildVerifyfn(t)
	dir := t.TempDir()
	outboxFile := filepath.Join(dir, "outbox.jsonl")
	addr := spareAddr(t)
	pid := serveProcess(t, bin, addr,
		"VERIFYFN_STORE=memory",
		"VERIFYFN_CODE_KEY=memory-test-code-key-0123456789abcdef",
		"VERIFYFN_OUTBOX="+outboxFile,
		"VERIFYFN_LOG_LEVEL=warn",
	)
	c := tcclient.New(tcclient.Options{Endpoint: addr, SecretID: accounts.DevSecretID, SecretKey: accounts.DevSecretKey, Timeout: 10 * time.Minute})
	if _, err := c.Call("intlpartnersmgt", "2022-09-28", "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}); err != nil {
		t.Fatalf("SendVerifyCode: %v", err)
	}
	lines, err := outbox.Read(outboxFile)
	if err != nil || len(lines) != 1 {
		t.Fatalf("outbox: %v, %d messages", err, len(lines))
	}
	right, _ := strconv.Atoi(lines[0].Code)
	wrong := fmt.Sprintf("%06d", (right+1)%1000000)

	codes := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := c.Call("intlpartnersmgt", "2022-09-28", "CreateAccount", map[string]any{
				"AccountType": "personal", "Mail": "m" + strconv.Itoa(i) + "@example.com", "Password": "Passw0rd!", "ConfirmPassword": "Passw0rd!",
				"PhoneNum": "51234567", "CountryCode": "852", "Area": "HK", "VerifyCode": wrong,
			})
			var e *tcerr.TencentCloudSDKError
			switch {
			case err == nil:
				codes[i] = "accepted"
			case errors.As(err, &e):
				codes[i] = e.Code
			default:
				codes[i] = "no answer: " + err.Error()
			}
		})
	}
	close(start)
	wg.Wait()
	count := map[string]int{}
	for _, c := range codes {
		count[c]++
	}
	if count["FailedOperation.VerificationCodeIllegal"]+count["RequestLimitExceeded"] != n {
		t.Errorf("answers %v; want only FailedOperation.VerificationCodeIllegal and RequestLimitExceeded", count)
	}
	peak := peakRSS(t, pid)
	t.Logf("%d parallel wrong-code CreateAccount calls: answers %v, peak RSS %.1f MB", n, count, float64(peak)/(1<<20))
	if peak >= limit {
		t.Errorf("peak RSS %.1f MB, want under %d MB", float64(peak)/(1<<20), limit>>20)
	}
}
