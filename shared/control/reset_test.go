package control_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/acsauth"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/services/cams"
	"github.com/verifyfn/verifyfn/shared/services/domain"
	"github.com/verifyfn/verifyfn/shared/services/smh"
	"github.com/verifyfn/verifyfn/shared/store"
)

// POST /_verifyfn/reset forgets each state the APIs wrote: one subtest per
// state, each showing the state in force before the reset and gone after.
func TestResetForgets(t *testing.T) {
	t.Run("codes", func(t *testing.T) {
		k := start(t)
		k.sendVerifyCode(t, "51230001")
		code := k.latest(t, "+85251230001").Code
		k.reset(t, "")
		if got := k.createAccount(t, "51230001", "a@example.com", code); got != "FailedOperation.VerificationCodeIllegal" {
			t.Fatalf("CreateAccount with a code sent before the reset: %q", got)
		}
	})

	t.Run("attempt counts", func(t *testing.T) {
		k := start(t)
		admin := "18999999999"
		k.sendSmsCode(t, smh.ChannelUpdateVerify, admin)
		code := k.latest(t, "+86"+admin).Code
		for range 4 {
			if got := k.verifySmsCode(t, smh.ChannelUpdateVerify, admin, wrongCode(code)); got != "UnauthorizedOperation.SmsCode" {
				t.Fatal(got)
			}
		}
		k.reset(t, "")
		if got := k.sendSmsCode(t, smh.ChannelUpdateVerify, admin); got != "" {
			t.Fatalf("send after the reset: %q", got)
		}
		code = k.latest(t, "+86"+admin).Code
		// Four attempts carried over would make this wrong guess the fifth.
		if got := k.verifySmsCode(t, smh.ChannelUpdateVerify, admin, wrongCode(code)); got != "UnauthorizedOperation.SmsCode" {
			t.Fatalf("first wrong guess after the reset: %q (the attempts were kept)", got)
		}
		if got := k.verifySmsCode(t, smh.ChannelUpdateVerify, admin, code); got != "" {
			t.Fatalf("the right code: %q", got)
		}
	})

	t.Run("cooldowns", func(t *testing.T) {
		k := start(t)
		k.sendVerifyCode(t, "51230001")
		if got := k.sendVerifyCode(t, "51230001"); got != "FailedOperation.SendVerifyCodeLimit60" {
			t.Fatalf("second send: %q", got)
		}
		k.reset(t, "")
		if got := k.sendVerifyCode(t, "51230001"); got != "" {
			t.Fatalf("send after the reset: %q", got)
		}
	})

	t.Run("send windows", func(t *testing.T) {
		k := start(t, apitest.WithConfig(func(c *config.Config) { c.Windows = []store.Window{{Period: 24 * time.Hour, Max: 1}} }))
		k.sendContactCode(t, "bob@example.com")
		k.advance(t, time.Minute)
		if got := k.sendContactCode(t, "bob@example.com"); got != "RequestLimitExceeded" {
			t.Fatalf("second send within the day: %q", got)
		}
		k.reset(t, "")
		if got := k.sendContactCode(t, "bob@example.com"); got != "" {
			t.Fatalf("send after the reset: %q", got)
		}
	})

	t.Run("rate counters", func(t *testing.T) {
		k := start(t, apitest.WithConfig(func(c *config.Config) { c.RateLimit = 1 }))
		list := func() string {
			_, err := k.tc.Call("intlpartnersmgt", "2022-09-28", "GetTradeConfigList", nil)
			return tcCode(t, err)
		}
		list()
		if got := list(); got != "RequestLimitExceeded" {
			t.Fatalf("second request in the second: %q", got)
		}
		k.reset(t, "")
		if got := list(); got != "" {
			t.Fatalf("request after the reset: %q", got)
		}
	})

	t.Run("nonces", func(t *testing.T) {
		k := start(t)
		req := acsauth.ACS3Request{Endpoint: k.URL, Action: cams.GetChatappVerifyCode, Version: cams.Version, Time: k.Clock.Now(),
			Nonce: "3f1e6a1c9b2d4e5f8a7b6c5d4e3f2a1b", AccessKeyID: accounts.DevSecretID, Secret: []byte(accounts.DevSecretKey),
			Query: url.Values{"CustSpaceId": {accounts.DevCAMSSpace}, "PhoneNumber": {"85261230001"}, "Method": {"sms"}, "Locale": {"en"}}}
		send := func() answer {
			r, err := req.HTTPRequest(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			return normalized(t, resp)
		}
		if a := send(); a.Status != http.StatusOK {
			t.Fatalf("first request: %+v", a)
		}
		if a := send(); a.Status != http.StatusBadRequest || !strings.Contains(a.Body, "SignatureNonceUsed") {
			t.Fatalf("replayed request: %+v", a)
		}
		k.reset(t, "")
		if a := send(); a.Status != http.StatusOK {
			t.Fatalf("the same request after the reset: %+v (the nonce was kept)", a)
		}
	})

	t.Run("verified contacts", func(t *testing.T) {
		k := start(t)
		k.sendContactCode(t, "bob@example.com")
		if got := k.createContact(t, "bob@example.com", k.latest(t, "bob@example.com").Code); got != "" {
			t.Fatal(got)
		}
		if n := k.contacts(t); n != 1 {
			t.Fatalf("%d contacts", n)
		}
		k.reset(t, "")
		if n := k.contacts(t); n != 0 {
			t.Fatalf("%d contacts after the reset", n)
		}
	})

	t.Run("registrations", func(t *testing.T) {
		k := start(t)
		k.getChatappCode(t, "85261230001")
		if got, _ := k.register(t, "85261230001", k.latest(t, "+85261230001").Code); got != "" {
			t.Fatal(got)
		}
		k.advance(t, time.Minute)
		if got, _ := k.getChatappCode(t, "85261230001"); got != "PhoneNumber.AlreadyRegistered" {
			t.Fatalf("a registered number: %q", got)
		}
		k.reset(t, "")
		if got, _ := k.getChatappCode(t, "85261230001"); got != "" {
			t.Fatalf("the number after the reset: %q", got)
		}
	})

	t.Run("created accounts", func(t *testing.T) {
		k := start(t)
		k.sendVerifyCode(t, "51230001")
		if got := k.createAccount(t, "51230001", "alice@example.com", k.latest(t, "+85251230001").Code); got != "" {
			t.Fatal(got)
		}
		k.advance(t, time.Minute)
		k.sendVerifyCode(t, "51230001")
		if got := k.createAccount(t, "51230001", "alice@example.com", k.latest(t, "+85251230001").Code); got != "FailedOperation.MailIsRegistered" {
			t.Fatalf("the same mail again: %q", got)
		}
		k.reset(t, "")
		k.sendVerifyCode(t, "51230001")
		if got := k.createAccount(t, "51230001", "alice@example.com", k.latest(t, "+85251230001").Code); got != "" {
			t.Fatalf("the same mail after the reset: %q", got)
		}
	})

	t.Run("super admins changed by VerifySmsCode", func(t *testing.T) {
		k := start(t)
		next := "18900000001"
		k.sendSmsCode(t, smh.BindSuperAdmin, next)
		if got := k.verifySmsCode(t, smh.BindSuperAdmin, next, k.latest(t, "+86"+next).Code); got != "" {
			t.Fatal(got)
		}
		if got := k.sendSmsCode(t, smh.ChannelUpdateVerify, "18999999999"); got != "InvalidParameterValue.NotSuperAdmin" {
			t.Fatalf("the configured admin after the change: %q", got)
		}
		k.reset(t, "")
		// The accounts file's super admin is back: configuration stays.
		if got := k.sendSmsCode(t, smh.ChannelUpdateVerify, "18999999999"); got != "" {
			t.Fatalf("the configured admin after the reset: %q", got)
		}
	})

	t.Run("guard counters", func(t *testing.T) {
		k := start(t, apitest.WithConfig(generous))
		for i := range 5 {
			if i > 0 {
				k.advance(t, time.Minute)
			}
			k.sendVerifyCode(t, "51230001")
			if got := k.createAccount(t, "51230001", fmt.Sprintf("user%d@example.com", i), k.latest(t, "+85251230001").Code); got != "" {
				t.Fatalf("account %d: %q", i+1, got)
			}
		}
		k.advance(t, time.Minute)
		if got := k.sendVerifyCode(t, "51230001"); got != "FailedOperation.PhoneBindUpper" {
			t.Fatalf("a number with five accounts: %q", got)
		}
		k.reset(t, "")
		if got := k.sendVerifyCode(t, "51230001"); got != "" {
			t.Fatalf("the number after the reset: %q", got)
		}
	})

	t.Run("messages", func(t *testing.T) {
		k := start(t)
		k.sendVerifyCode(t, "51230001")
		k.reset(t, "")
		if got := k.messages(t, ""); len(got) != 0 {
			t.Fatalf("messages after the reset: %+v", got)
		}
	})
}

// A reset of one account forgets its state and messages only; faults and
// the clock stay (they have their own DELETE).
func TestResetOneAccount(t *testing.T) {
	reg, err := accounts.Parse("two", []byte(`accounts:
  - id: "300000000001"
    credentials: [{id: AKIDfirst00000000000000000000001, secret: first-secret-value, actions: ["*"]}]
    products: [domain]
  - id: "300000000002"
    credentials: [{id: AKIDsecond0000000000000000000001, secret: second-secret-value, actions: ["*"]}]
    products: [domain]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := apitest.Start(t, apitest.WithAccounts(reg))
	first := &kit{Server: s, tc: s.Tencent(tcclient.Options{SecretID: "AKIDfirst00000000000000000000001", SecretKey: "first-secret-value"})}
	second := &kit{Server: s, tc: s.Tencent(tcclient.Options{SecretID: "AKIDsecond0000000000000000000001", SecretKey: "second-secret-value"})}
	for _, k := range []*kit{first, second} {
		k.sendContactCode(t, "bob@example.com")
		m := k.messages(t, "?account="+map[*kit]string{first: "300000000001", second: "300000000002"}[k])
		if got := k.createContact(t, "bob@example.com", m[len(m)-1].Code); got != "" {
			t.Fatal(got)
		}
	}
	first.advance(t, time.Hour)
	first.fault(t, map[string]any{"service": domain.Name, "action": "DescribeIntlPhoneEmailList", "code": "InternalError.DescribePhoneEmailListErr", "account": "nobody"})
	first.reset(t, "300000000001")
	if n := first.contacts(t); n != 0 {
		t.Fatalf("the reset account has %d contacts", n)
	}
	if n := second.contacts(t); n != 1 {
		t.Fatalf("the other account has %d contacts, want 1", n)
	}
	if got := first.messages(t, ""); len(got) != 1 || got[0].Account != "300000000002" {
		t.Fatalf("messages after the account's reset: %+v", got)
	}
	var c struct{ Offset string }
	first.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/clock", nil, &c)
	var f struct{ Faults []any }
	first.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/faults", nil, &f)
	if c.Offset != "1h0m0s" || len(f.Faults) != 1 {
		t.Fatalf("the clock (%s) or the faults (%d) changed with the reset", c.Offset, len(f.Faults))
	}
	for _, body := range []any{map[string]any{"account": 5}, map[string]string{"acount": "x"}, "reset"} {
		first.refused(t, http.StatusBadRequest, http.MethodPost, "/_verifyfn/reset", body)
	}
}
