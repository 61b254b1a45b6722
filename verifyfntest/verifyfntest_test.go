package verifyfntest_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/control"
	"github.com/verifyfn/verifyfn/verifyfntest"
)

func send(t *testing.T, srv *verifyfntest.Server, phone string) string {
	t.Helper()
	code, err := call(tencent(srv), "intlpartnersmgt", "2022-09-28", "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": phone})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func sendEmail(t *testing.T, srv *verifyfntest.Server, address string) string {
	t.Helper()
	code, err := call(tencent(srv), "domain", "2018-08-08", "SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": address})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func verifyEmail(t *testing.T, srv *verifyfntest.Server, address, code string) string {
	t.Helper()
	got, err := call(tencent(srv), "domain", "2018-08-08", "CreateIntlPhoneEmail", map[string]any{"Type": 2, "Code": address, "VerifyCode": code})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Start serves the documented account on loopback; the Server describes it.
func TestStart(t *testing.T) {
	srv := verifyfntest.Start(t)
	if !strings.HasPrefix(srv.Endpoint, "127.0.0.1:") || srv.URL != "http://"+srv.Endpoint {
		t.Fatalf("endpoint %q, URL %q", srv.Endpoint, srv.URL)
	}
	if srv.AccountID != "200000000001" || srv.SecretID != "AKIDLOCAL0000000000000000000000001" || srv.SecretKey != "local-secret-key" ||
		srv.AccessKeyID != srv.SecretID || srv.AccessKeySecret != srv.SecretKey || srv.SMHInstance != "n0v9tdme" ||
		srv.SuperAdmin != "+8618999999999" || srv.CAMSSpace != "cams-kei123" {
		t.Fatalf("server %+v", srv)
	}
	if got := send(t, srv, "51234567"); got != "" {
		t.Fatal(got)
	}
}

// Messages lists what was delivered; ClearMessages empties it; Latest and
// LatestCode read the newest to a destination in any spelling.
func TestMessagesAndLatest(t *testing.T) {
	srv := verifyfntest.Start(t)
	if got := srv.Messages(); len(got) != 0 {
		t.Fatalf("messages at start: %+v", got)
	}
	send(t, srv, "51234567")
	sendEmail(t, srv, "bob@example.com")
	msgs := srv.Messages()
	if len(msgs) != 2 || msgs[0].To != "+85251234567" || msgs[1].To != "bob@example.com" || msgs[1].Channel != "email" {
		t.Fatalf("messages %+v", msgs)
	}
	if got := srv.LatestCode(t, "+852 5123 4567"); got != msgs[0].Code {
		t.Fatalf("LatestCode = %q, want %q", got, msgs[0].Code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := srv.Latest(ctx, "+85251234599"); err == nil || !strings.Contains(err.Error(), "no message") {
		t.Fatalf("Latest to a number nothing was sent to: %v", err)
	}
	srv.ClearMessages()
	if got := srv.Messages(); len(got) != 0 {
		t.Fatalf("messages after ClearMessages: %+v", got)
	}
}

// LatestCode waits for a message sent while it waits.
func TestLatestCodeWaits(t *testing.T) {
	srv := verifyfntest.Start(t)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		send(t, srv, "51234567")
	}()
	if code := srv.LatestCode(t, "+85251234567"); len(code) != 6 {
		t.Fatalf("code %q", code)
	}
	wg.Wait()
}

// Advance moves the clock codes and cooldowns see; Now shows it;
// ResetClock returns to real time.
func TestAdvance(t *testing.T) {
	srv := verifyfntest.Start(t)
	send(t, srv, "51234567")
	if got := send(t, srv, "51234567"); got != "FailedOperation.SendVerifyCodeLimit60" {
		t.Fatalf("second send: %q", got)
	}
	srv.Advance(time.Minute)
	if got := send(t, srv, "51234567"); got != "" {
		t.Fatalf("send after advancing a minute: %q", got)
	}
	if ahead := time.Until(srv.Now()); ahead < time.Minute-5*time.Second {
		t.Fatalf("Now is %s ahead, want a minute", ahead)
	}
	srv.ResetClock()
	if ahead := time.Until(srv.Now()); ahead > 30*time.Second {
		t.Fatalf("Now after ResetClock is %s ahead", ahead)
	}
}

// Fail and FailDelivery answer documented errors; AddFault takes every
// option; Faults lists the pending ones and ClearFaults clears them.
func TestFaults(t *testing.T) {
	srv := verifyfntest.Start(t)
	f := srv.Fail("intlpartnersmgt", "SendVerifyCode", "FailedOperation.PhoneBindUpper", 2)
	if f.ID == "" || f.Count != 2 {
		t.Fatalf("fault %+v", f)
	}
	if got := send(t, srv, "51234561"); got != "FailedOperation.PhoneBindUpper" {
		t.Fatalf("first faulted call: %q", got)
	}
	if got := srv.Faults(); len(got) != 1 || got[0].Left != 1 {
		t.Fatalf("pending %+v", got)
	}
	srv.ClearFaults()
	if got := srv.Faults(); len(got) != 0 {
		t.Fatalf("after ClearFaults: %+v", got)
	}
	if got := send(t, srv, "51234561"); got != "" {
		t.Fatalf("after ClearFaults: %q", got)
	}

	srv.FailDelivery("domain", "SendIntlPhoneEmailCode", 1)
	if got := sendEmail(t, srv, "bob@example.com"); got != "InternalError.SendVerifyCodeErr" {
		t.Fatalf("failed delivery: %q", got)
	}
	if got := sendEmail(t, srv, "bob@example.com"); got != "" {
		t.Fatalf("retry after a failed delivery: %q (the cooldown was not released)", got)
	}

	n := 1
	srv.AddFault(control.FaultRequest{Service: "intlpartnersmgt", Action: "SendVerifyCode", Code: "InvalidParameterValue.UnSupportArea",
		To: "+85251234563", Count: &n, Delay: control.Duration(time.Millisecond)})
	if got := send(t, srv, "51234562"); got != "" {
		t.Fatalf("another number: %q", got)
	}
	if got := send(t, srv, "5123 4563"); got != "InvalidParameterValue.UnSupportArea" {
		t.Fatalf("the fault's number: %q", got)
	}
}

// Reset forgets what the APIs recorded and the messages; ResetAccount does
// it for one account.
func TestReset(t *testing.T) {
	srv := verifyfntest.Start(t, verifyfntest.WithAccounts(
		verifyfntest.Account{ID: "300000000001", SecretID: "AKIDfirst00000000000000000000001", SecretKey: "first-secret-value"},
		verifyfntest.Account{ID: "300000000002", SecretID: "AKIDsecond0000000000000000000001", SecretKey: "second-secret-value"},
	))
	sendEmail(t, srv, "bob@example.com")
	if got := verifyEmail(t, srv, "bob@example.com", srv.LatestCode(t, "bob@example.com")); got != "" {
		t.Fatal(got)
	}
	srv.Reset()
	if got := srv.Messages(); len(got) != 0 {
		t.Fatalf("messages after Reset: %+v", got)
	}
	// The contact is no longer verified, the cooldown is gone.
	if got := sendEmail(t, srv, "bob@example.com"); got != "" {
		t.Fatalf("send after Reset: %q", got)
	}
	if got := verifyEmail(t, srv, "bob@example.com", srv.LatestCode(t, "bob@example.com")); got != "" {
		t.Fatalf("verify after Reset: %q (still verified?)", got)
	}
	srv.ResetAccount("300000000002") // another account: nothing of this one goes
	if got := verifyEmail(t, srv, "bob@example.com", "123456"); got != "InternalError.VerifiedPhoneEmailErr" {
		t.Fatalf("after another account's reset: %q", got)
	}
	srv.ResetAccount(srv.AccountID)
	if got := srv.Messages(); len(got) != 0 {
		t.Fatalf("messages after ResetAccount: %+v", got)
	}
}

// WithAccounts serves the given accounts; the Server describes the first.
func TestWithAccounts(t *testing.T) {
	srv := verifyfntest.Start(t, verifyfntest.WithAccounts(verifyfntest.Account{
		ID: "300000000001", SecretID: "AKIDmine000000000000000000000001", SecretKey: "my-secret-value",
		Products: []string{"smh"}, SMHInstance: "inst-1", SuperAdmin: "+8613800138000",
	}))
	if srv.AccountID != "300000000001" || srv.SecretID != "AKIDmine000000000000000000000001" || srv.SMHInstance != "inst-1" || srv.CAMSSpace != "" {
		t.Fatalf("server %+v", srv)
	}
	got, err := call(tencent(srv), "smh", "2021-07-12", "SendSmsCode", map[string]any{"Purpose": "ChannelUpdateVerify", "InstanceId": "inst-1", "PhoneNumber": "13800138000"})
	if err != nil || got != "" {
		t.Fatalf("SendSmsCode: %q %v", got, err)
	}
	if got := send(t, srv, "51234567"); got != "AuthFailure.UnauthorizedOperation" {
		t.Fatalf("a product the account lacks: %q", got)
	}
	if _, err := verifyfntest.Run(verifyfntest.WithAccounts(verifyfntest.Account{ID: "1"})); err == nil {
		t.Fatal("an account without a credential was accepted")
	}
}

// WithLimits sets the limits; WithTestNumbers gives fixed codes.
func TestWithLimitsAndTestNumbers(t *testing.T) {
	srv := verifyfntest.Start(t,
		verifyfntest.WithLimits(verifyfntest.Limits{Cooldown: time.Hour, SendWindows: "1/24h", MaxAttempts: 1, CodeTTL: time.Minute}),
		verifyfntest.WithTestNumbers(map[string]string{"+85251230000": "246810"}))
	send(t, srv, "51234567")
	srv.Advance(59 * time.Minute)
	if got := send(t, srv, "51234567"); got != "FailedOperation.SendVerifyCodeLimit60" {
		t.Fatalf("within an hour's cooldown: %q", got)
	}
	srv.Advance(2 * time.Minute)
	if got := send(t, srv, "51234567"); got != "FailedOperation.SendVerifyCodeLimit" {
		t.Fatalf("second send in a day of one: %q", got)
	}
	if got := send(t, srv, "51230000"); got != "" {
		t.Fatal(got)
	}
	for _, m := range srv.Messages() {
		if m.To == "+85251230000" {
			t.Fatal("a test number got a message")
		}
	}
	code, err := call(tencent(srv), "intlpartnersmgt", "2022-09-28", "CreateAccount", map[string]any{"AccountType": "personal",
		"Mail": "ci@example.com", "Password": "Passw0rd!", "ConfirmPassword": "Passw0rd!", "CountryCode": "852", "PhoneNum": "51230000",
		"Area": "HK", "TradeOne": "kghy_01", "TradeTwo": "kghy_0101", "VerifyCode": "246810"})
	if err != nil || code != "" {
		t.Fatalf("CreateAccount with the fixed code: %q %v", code, err)
	}
}

// WithEnv sets any variable; WithLogger gets the log.
func TestWithEnvAndLogger(t *testing.T) {
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "templates.yaml")
	os.WriteFile(tmpl, []byte("sms:\n  en:\n    default: \"ACME code {{code}}\"\n"), 0o600)
	var logs strings.Builder
	var mu sync.Mutex
	srv := verifyfntest.Start(t, verifyfntest.WithEnv(map[string]string{"VERIFYFN_TEMPLATES": tmpl}),
		verifyfntest.WithLogger(slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return logs.Write(p)
		}), nil))))
	send(t, srv, "51234567")
	m := srv.Messages()[0]
	if m.Text != "ACME code "+m.Code {
		t.Fatalf("text %q", m.Text)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), `"action":"SendVerifyCode"`) {
		t.Fatalf("log: %s", logs.String())
	}
	if _, err := verifyfntest.Run(verifyfntest.WithEnv(map[string]string{"VERIFYFN_ENV": "production"})); err == nil {
		t.Fatal("Run in production (no control plane) succeeded")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// fatalRecorder is a test whose Fatalf records the failure and ends the
// goroutine, as testing.T's does.
type fatalRecorder struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.msg = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

// A refused call fails the test with the server's reason (here: the code is
// not documented); on a Server from Run it panics.
func TestRefusalsFail(t *testing.T) {
	rec := &fatalRecorder{TB: t}
	srv := verifyfntest.Start(rec)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Fail("intlpartnersmgt", "SendVerifyCode", "VerifyCode.Mismatch", 1)
	}()
	<-done
	if !strings.Contains(rec.msg, "does not document") || !strings.Contains(rec.msg, "FailedOperation.SendVerifyCodeLimit60") {
		t.Fatalf("failure %q", rec.msg)
	}

	run, err := verifyfntest.Run()
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "positive duration") {
			t.Fatalf("panic %v", r)
		}
	}()
	run.Advance(-time.Minute)
}
