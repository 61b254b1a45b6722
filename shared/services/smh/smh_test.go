package smh_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/services/smh"
)

func code(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *tcerr.TencentCloudSDKError
	if !errors.As(err, &e) {
		t.Fatalf("not an SDK API error: %v", err)
	}
	return e.Code
}

type caller struct {
	t *testing.T
	c *tcclient.Client
}

func (c caller) send(p map[string]any) string {
	c.t.Helper()
	_, err := c.c.Call(smh.Name, smh.Version, "SendSmsCode", p)
	return code(c.t, err)
}

func (c caller) verify(p map[string]any) string {
	c.t.Helper()
	_, err := c.c.Call(smh.Name, smh.Version, "VerifySmsCode", p)
	return code(c.t, err)
}

func req(purpose, phone string, extra ...string) map[string]any {
	p := map[string]any{"Purpose": purpose, "PhoneNumber": phone, "InstanceId": accounts.DevInstanceID}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			delete(p, extra[i])
		} else {
			p[extra[i]] = extra[i+1]
		}
	}
	return p
}

func withCode(p map[string]any, c string) map[string]any {
	p["Code"] = c
	return p
}

func start(t *testing.T, opts ...apitest.Option) (*apitest.Server, caller) {
	s := apitest.Start(t, opts...)
	return s, caller{t, s.Tencent(tcclient.Options{})}
}

func TestBindSuperAdminFlow(t *testing.T) {
	s, c := start(t)
	if got := c.send(req(smh.BindSuperAdmin, "18999999998")); got != "" {
		t.Fatalf("SendSmsCode: %q", got)
	}
	m := s.Messages(t)[0]
	if m.To != "+8618999999998" || m.Purpose != smh.BindSuperAdmin || len(m.Code) != 6 {
		t.Fatalf("message %+v", m)
	}
	// A BindSuperAdmin code never passes ChannelUpdateVerify.
	if got := c.verify(withCode(req(smh.ChannelUpdateVerify, "18999999998"), m.Code)); got != "UnauthorizedOperation.SmsCode" {
		t.Fatalf("code used for another purpose: %q", got)
	}
	if got := c.verify(withCode(req(smh.BindSuperAdmin, "+86 189 9999 9998", "CountryCode", "86"), m.Code)); got != "" {
		t.Fatalf("VerifySmsCode: %q", got)
	}
	if got := c.verify(withCode(req(smh.BindSuperAdmin, "18999999998"), m.Code)); got != "UnauthorizedOperation.SmsCode" {
		t.Fatalf("reused code: %q", got)
	}
	// The new super admin is persisted and seen by the next SendSmsCode.
	s.Clock.Advance(61 * time.Second)
	if got := c.send(req(smh.BindSuperAdmin, "18999999998")); got != "InvalidParameterValue.NotModified" {
		t.Fatalf("binding the current admin again: %q", got)
	}
	if got := c.send(req(smh.ChannelUpdateVerify, "18999999999")); got != "InvalidParameterValue.NotSuperAdmin" {
		t.Fatalf("the former admin: %q", got)
	}
	if got := c.send(req(smh.ChannelUpdateVerify, "18999999998")); got != "" {
		t.Fatalf("ChannelUpdateVerify for the new admin: %q", got)
	}
	cv := s.LastCode(t, "+8618999999998")
	if got := c.verify(withCode(req(smh.ChannelUpdateVerify, "18999999998"), cv)); got != "" {
		t.Fatalf("VerifySmsCode ChannelUpdateVerify: %q", got)
	}
	if _, ok, _ := s.App.Store.Get(context.Background(), smh.ChannelColl(accounts.DevAccountID), accounts.DevInstanceID); !ok {
		t.Fatal("the channel verification was not recorded")
	}
}

func TestSendSmsCodeDocumentedErrors(t *testing.T) {
	const other = `
accounts:
  - id: "1"
    credentials: [{id: AKIDONE, secret: one-secret, actions: ["*"]}]
    products: [smh]
    smh_instances: [{id: mine0001, super_admin: "+8618999999999"}]
  - id: "2"
    credentials: [{id: AKIDTWO, secret: two-secret, actions: ["*"]}]
    products: [smh]
    smh_instances: [{id: theirs01}]
`
	reg, err := accounts.Parse("two.yaml", []byte(other), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	s := apitest.Start(t, apitest.WithAccounts(reg))
	c := caller{t, s.Tencent(tcclient.Options{SecretID: "AKIDONE", SecretKey: "one-secret"})}
	inst := func(p map[string]any, id string) map[string]any { p["InstanceId"] = id; return p }
	cases := []struct {
		name string
		p    map[string]any
		want string
	}{
		{"unsupported purpose", req("ResetPassword", "18999999998"), "UnsupportedOperation.Purpose"},
		{"missing purpose", req("", "18999999998", "Purpose", ""), "MissingParameter"},
		{"unknown country code", req(smh.BindSuperAdmin, "18999999998", "CountryCode", "999"), "InvalidParameterValue.CountryCode"},
		{"letters as country code", req(smh.BindSuperAdmin, "18999999998", "CountryCode", "+x"), "InvalidParameterValue.CountryCode"},
		{"short number", req(smh.BindSuperAdmin, "1899"), "InvalidParameterValue.PhoneNumber"},
		{"landline", req(smh.BindSuperAdmin, "01065529988"), "InvalidParameterValue.PhoneNumber"},
		{"unknown instance", inst(req(smh.BindSuperAdmin, "18999999998"), "nope0000"), "ResourceNotFound.OfficialInstance"},
		{"another account's instance", inst(req(smh.BindSuperAdmin, "18999999998"), "theirs01"), "ResourceNotFound.OfficialInstance"},
		{"already the admin", inst(req(smh.BindSuperAdmin, "18999999999"), "mine0001"), "InvalidParameterValue.NotModified"},
		{"not the admin", inst(req(smh.ChannelUpdateVerify, "18999999998"), "mine0001"), "InvalidParameterValue.NotSuperAdmin"},
		{"accepts 86 without plus", inst(req(smh.BindSuperAdmin, "18999999990", "CountryCode", "86"), "mine0001"), ""},
		{"cooldown", inst(req(smh.BindSuperAdmin, "18999999990", "CountryCode", "+86"), "mine0001"), "RequestLimitExceeded.SendSms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.send(tc.p); got != tc.want {
				t.Fatalf("code = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSendSmsCodeDeliveryFailure(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	var sent []delivery.Message
	var mu sync.Mutex
	sender := delivery.SenderFunc(func(_ context.Context, m delivery.Message) error {
		if fail.Load() {
			mu.Lock()
			sent = append(sent, m)
			mu.Unlock()
			return errors.New("carrier rejected")
		}
		return nil
	})
	_, c := start(t, func(_ *config.Config, o *app.Options) { o.Sender = sender })
	if got := c.send(req(smh.BindSuperAdmin, "18999999998")); got != "InternalError.SendSms" {
		t.Fatalf("failed delivery: %q", got)
	}
	if got := c.verify(withCode(req(smh.BindSuperAdmin, "18999999998"), sent[0].Code)); got != "UnauthorizedOperation.SmsCode" {
		t.Fatalf("the undelivered code: %q", got)
	}
	fail.Store(false)
	if got := c.send(req(smh.BindSuperAdmin, "18999999998")); got != "" {
		t.Fatalf("an immediate retry: %q", got)
	}
}

func TestVerifySmsCodeErrors(t *testing.T) {
	s, c := start(t)
	if got := c.send(req(smh.BindSuperAdmin, "18999999998")); got != "" {
		t.Fatal(got)
	}
	right := s.LastCode(t, "+8618999999998")
	wrong := "000000"
	if right == wrong {
		wrong = "000001"
	}
	for _, bad := range []string{"12345", "abcdef", "1234567"} {
		if got := c.verify(withCode(req(smh.BindSuperAdmin, "18999999998"), bad)); got != "UnauthorizedOperation.SmsCode" {
			t.Fatalf("malformed code %q: %q", bad, got)
		}
	}
	for i := range 4 {
		if got := c.verify(withCode(req(smh.BindSuperAdmin, "18999999998"), wrong)); got != "UnauthorizedOperation.SmsCode" {
			t.Fatalf("wrong guess %d: %q", i+1, got)
		}
	}
	if got := c.verify(withCode(req(smh.BindSuperAdmin, "18999999998"), wrong)); got != "UnauthorizedOperation.SmsCodeExceeded" {
		t.Fatalf("fifth wrong guess: %q", got)
	}
	if got := c.verify(withCode(req(smh.BindSuperAdmin, "18999999998"), right)); got != "UnauthorizedOperation.SmsCodeExceeded" {
		t.Fatalf("the right code after the cap: %q", got)
	}
	if got := c.verify(req(smh.BindSuperAdmin, "18999999998")); got != "MissingParameter" {
		t.Fatalf("no Code: %q", got)
	}
	if got := c.verify(withCode(req(smh.BindSuperAdmin, "18999999998", "CountryCode", "999"), right)); got != "InvalidParameterValue.CountryCode" {
		t.Fatalf("bad country code: %q", got)
	}
	if got := c.verify(withCode(req("Other", "18999999998"), right)); got != "UnsupportedOperation.Purpose" {
		t.Fatalf("bad purpose: %q", got)
	}
	if got := c.verify(withCode(req(smh.BindSuperAdmin, "12"), right)); got != "InvalidParameterValue.PhoneNumber" {
		t.Fatalf("bad number: %q", got)
	}
	if got := c.verify(withCode(req(smh.BindSuperAdmin, "18999999998", "InstanceId", "zzz"), right)); got != "ResourceNotFound.OfficialInstance" {
		t.Fatalf("bad instance: %q", got)
	}
}

func TestCodeLengthIsConfigurable(t *testing.T) {
	s, c := start(t, apitest.WithConfig(func(cfg *config.Config) { cfg.SMHCodeLength = 4 }))
	if got := c.send(req(smh.BindSuperAdmin, "18999999998")); got != "" {
		t.Fatal(got)
	}
	code := s.LastCode(t, "+8618999999998")
	if len(code) != 4 {
		t.Fatalf("code %q, want 4 digits", code)
	}
	if got := c.verify(withCode(req(smh.BindSuperAdmin, "18999999998"), code)); got != "" {
		t.Fatalf("verify: %q", got)
	}
}

func TestConcurrentVerifySmsCode(t *testing.T) {
	s, c := start(t, apitest.WithConfig(func(cfg *config.Config) { cfg.RateLimit = 10000 }))
	if got := c.send(req(smh.BindSuperAdmin, "18999999998")); got != "" {
		t.Fatal(got)
	}
	right := s.LastCode(t, "+8618999999998")
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if c.verify(withCode(req(smh.BindSuperAdmin, "18999999998"), right)) == "" {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d of 50 concurrent right checks passed, want exactly 1", ok.Load())
	}

	s.Clock.Advance(61 * time.Second)
	if got := c.send(req(smh.ChannelUpdateVerify, "18999999998")); got != "" {
		t.Fatal(got)
	}
	right = s.LastCode(t, "+8618999999998")
	wrong := strings.Repeat("1", 6)
	if right == wrong {
		wrong = strings.Repeat("2", 6)
	}
	var mismatch, exceeded atomic.Int32
	for range 200 {
		wg.Go(func() {
			switch got := c.verify(withCode(req(smh.ChannelUpdateVerify, "18999999998"), wrong)); got {
			case "UnauthorizedOperation.SmsCode":
				mismatch.Add(1)
			case "UnauthorizedOperation.SmsCodeExceeded":
				exceeded.Add(1)
			default:
				t.Errorf("unexpected %q", got)
			}
		})
	}
	wg.Wait()
	if mismatch.Load() != 4 || exceeded.Load() != 196 {
		t.Fatalf("%d wrong guesses evaluated and %d refused, want 4 and 196", mismatch.Load(), exceeded.Load())
	}
	if got := c.verify(withCode(req(smh.ChannelUpdateVerify, "18999999998"), right)); got != "UnauthorizedOperation.SmsCodeExceeded" {
		t.Fatalf("the right code after 200 wrong guesses: %q", got)
	}
}
