package intlpartnersmgt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/password"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
	"github.com/verifyfn/verifyfn/shared/store"
)

func accountParams(mail, code string) map[string]any {
	return map[string]any{
		"AccountType": "personal", "Mail": mail, "Password": "Passw0rd!", "ConfirmPassword": "Passw0rd!",
		"PhoneNum": "51234567", "CountryCode": "852", "Area": "HK", "VerifyCode": code,
		"TradeOne": "kghy_01", "TradeTwo": "kghy_0101", "CustomerName": "Acme Ltd", "Extended": "{}",
	}
}

func createAccount(c *tcclient.Client, p map[string]any) (string, error) {
	out, err := createAccountResponse(c, p)
	return out.Uin, err
}

// createAccountResponse is the SDK's CreateAccountResponseParams.
type accountResponse struct{ Uin, Reason, RequestId string }

func createAccountResponse(c *tcclient.Client, p map[string]any) (accountResponse, error) {
	var out accountResponse
	resp, err := c.Call(service, version, "CreateAccount", p)
	if err != nil {
		return out, err
	}
	err = json.Unmarshal(resp, &out)
	return out, err
}

// fast keeps limits out of the way of flow tests.
var fast = apitest.WithConfig(func(c *config.Config) {
	c.Cooldown = time.Second
	c.Windows = []store.Window{{Period: time.Hour, Max: 100}}
})

// TestCreateAccountFlow runs at production strength (the one in-process test
// that does): the stored record keeps the password only as an argon2id hash
// with OWASP's parameters.
func TestCreateAccountFlow(t *testing.T) {
	s := apitest.Start(t, fast, apitest.WithPasswords(password.New(password.OWASP(), 0)))
	c := s.Tencent(tcclient.Options{Timeout: 10 * time.Minute})
	if err := sendCode(c, map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}); err != nil {
		t.Fatal(err)
	}
	code := s.LastCode(t, "+85251234567")
	out, err := createAccountResponse(c, accountParams("dev@example.com", code))
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	uin := out.Uin
	if len(uin) != 12 || strings.Trim(uin, "0123456789") != "" {
		t.Fatalf("Uin %q is not a 12-digit number", uin)
	}
	// The SDK's default language is zh-CN: Reason, the binding result, is
	// Chinese.
	if !strings.Contains(out.Reason, "绑定") || out.RequestId == "" {
		t.Fatalf("Reason %q, RequestId %q", out.Reason, out.RequestId)
	}
	if got := sdkCode(t, func() error { _, err := createAccount(c, accountParams("other@example.com", code)); return err }()); got != "FailedOperation.VerificationCodeIllegal" {
		t.Fatalf("reusing the code: %q", got)
	}
	v, ok, _ := s.App.Store.Get(context.Background(), intlpartnersmgt.BoundColl(accounts.DevAccountID), "+85251234567")
	if !ok || string(v) != "1" {
		t.Fatalf("bound count = %q, want 1", v)
	}
	raw, ok, err := s.App.Store.Get(context.Background(), store.Coll(accounts.DevAccountID, "uin"), uin)
	if err != nil || !ok {
		t.Fatalf("account record %s: %v, %v", uin, ok, err)
	}
	var rec struct {
		PasswordHash string `json:"password_hash"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rec.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(string(raw), "Passw0rd!") {
		t.Fatalf("stored password %q, want an argon2id hash with OWASP's parameters", rec.PasswordHash)
	}
	if ok, err := s.Passwords.Verify(context.Background(), rec.PasswordHash, "Passw0rd!"); err != nil || !ok {
		t.Fatalf("the stored hash does not verify the password: %v, %v", ok, err)
	}
	if n := s.Passwords.Runs(); n != 1 {
		t.Fatalf("%d passwords hashed, want 1 (the reused code must be refused before hashing)", n)
	}
	if strings.Contains(s.Logs(), "Passw0rd!") {
		t.Fatal("the password reached the log")
	}
}

func TestCreateAccountDocumentedErrors(t *testing.T) {
	s := apitest.Start(t, fast)
	c := s.Tencent(tcclient.Options{})
	with := func(kv ...any) map[string]any {
		p := accountParams("x@example.com", "123456")
		for i := 0; i < len(kv); i += 2 {
			if k := kv[i].(string); kv[i+1] == nil {
				delete(p, k)
			} else {
				p[k] = kv[i+1]
			}
		}
		return p
	}
	cases := []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"no AccountType", with("AccountType", nil), "InvalidParameterValue.AccountTypeEmpty"},
		{"bad AccountType", with("AccountType", "robot"), "InvalidParameter.AccountTypeContentIncorrect"},
		{"no Mail", with("Mail", ""), "InvalidParameterValue.MailEmpty"},
		{"bad Mail", with("Mail", "not-an-address"), "InvalidParameter.MailFormatIncorrect"},
		{"no Password", with("Password", nil), "InvalidParameterValue.PasswordEmpty"},
		{"short Password", with("Password", "Pa0!"), "InvalidParameter.PasswordFormatIncorrect"},
		{"Password with a space", with("Password", "Passw0rd! x"), "InvalidParameter.PasswordFormatIncorrect"},
		{"Password over 20", with("Password", "Passw0rd!Passw0rd!Pas"), "InvalidParameter.PasswordFormatIncorrect"},
		{"Password without symbol", with("Password", "Passw0rdxx"), "InvalidParameter.PasswordContentIncorrect"},
		{"Password without digit", with("Password", "Password!!"), "InvalidParameter.PasswordContentIncorrect"},
		{"ConfirmPassword differs", with("ConfirmPassword", "Passw0rd?"), "InvalidParameter.ConfirmPasswordContentIncorrect"},
		{"no CountryCode", with("CountryCode", nil), "InvalidParameterValue.CountryCodeEmpty"},
		{"CountryCode letters", with("CountryCode", "hk"), "InvalidParameter.CountryCodeFormatIncorrect"},
		{"CountryCode unknown", with("CountryCode", "999"), "InvalidParameter.CountryCodeContentIncorrect"},
		{"CountryCode of no country (800 freephone)", with("CountryCode", "800"), "InvalidParameter.CountryCodeContentIncorrect"},
		{"CountryCode 86", with("CountryCode", "86"), "InvalidParameterValue.UnSupportArea"},
		{"no PhoneNum", with("PhoneNum", nil), "InvalidParameterValue.PhoneNumEmpty"},
		{"bad PhoneNum", with("PhoneNum", "12"), "InvalidParameter.PhoneNumFormatIncorrect"},
		{"no Area", with("Area", nil), "InvalidParameterValue.AreaEmpty"},
		{"Area of 3 letters", with("Area", "HKG"), "InvalidParameter.AreaFormatIncorrect"},
		{"unknown Area", with("Area", "ZZ"), "InvalidParameter.AreaContentIncorrect"},
		{"TradeTwo without TradeOne", with("TradeOne", nil), "InvalidParameterValue.TradeInfoEmpty"},
		{"TradeOne without TradeTwo", with("TradeTwo", nil), "InvalidParameterValue.TradeInfoEmpty"},
		{"empty TradeTwo", with("TradeTwo", ""), "InvalidParameterValue.TradeInfoEmpty"},
		{"TradeTwo of another industry", with("TradeTwo", "kghy_1601"), "FailedOperation.TradeInfoIncorrect"},
		{"TradeTwo as TradeOne", with("TradeOne", "kghy_0101"), "FailedOperation.TradeInfoIncorrect"},
		{"TradeOne as TradeTwo", with("TradeTwo", "kghy_01"), "FailedOperation.TradeInfoIncorrect"},
		{"unknown TradeOne", with("TradeOne", "kghy_21"), "FailedOperation.TradeInfoIncorrect"},
		{"unknown TradeTwo", with("TradeTwo", "kghy_0199"), "FailedOperation.TradeInfoIncorrect"},
		{"industry ids in another case", with("TradeOne", "KGHY_01", "TradeTwo", "KGHY_0101"), "FailedOperation.TradeInfoIncorrect"},
		{"numeric pair", with("TradeOne", "01", "TradeTwo", "0101"), "FailedOperation.TradeInfoIncorrect"},
		{"mismatched numeric pair", with("TradeOne", "01", "TradeTwo", "9999"), "FailedOperation.TradeInfoIncorrect"},
		{"non-numeric trade", with("TradeTwo", "abc"), "FailedOperation.TradeInfoIncorrect"},
		{"no industry ids", with("TradeOne", nil, "TradeTwo", nil), "InvalidParameterValue.TradeInfoEmpty"},
		{"one-letter CustomerName", with("CustomerName", "A"), "InvalidParameterValue"},
		{"VerifyCode of 5 digits", with("VerifyCode", "12345"), "FailedOperation.VerificationCodeIllegal"},
		{"no code was sent", with("VerifyCode", "123456"), "FailedOperation.VerificationCodeIllegal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.Clock.Advance(time.Second) // refused requests count against the 20 a second too
			_, err := createAccount(c, tc.params)
			if got := sdkCode(t, err); got != tc.want {
				t.Fatalf("code = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCreateAccountMailAndBindLimits(t *testing.T) {
	s := apitest.Start(t, fast)
	c := s.Tencent(tcclient.Options{})
	fresh := func() string {
		s.Clock.Advance(2 * time.Second)
		if err := sendCode(c, map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}); err != nil {
			t.Fatal(err)
		}
		return s.LastCode(t, "+85251234567")
	}
	for i := range 5 {
		if _, err := createAccount(c, accountParams("user"+strconv.Itoa(i)+"@example.com", fresh())); err != nil {
			t.Fatalf("account %d: %v", i+1, err)
		}
	}
	// Another number lets the mail check be seen on its own.
	s.Clock.Advance(2 * time.Second)
	sendCode(c, map[string]any{"CountryCode": "852", "PhoneNum": "61234567"})
	p := accountParams("USER0@example.com", s.LastCode(t, "+85261234567"))
	p["PhoneNum"] = "61234567"
	hashed := s.Passwords.Runs()
	if _, err := createAccount(c, p); sdkCode(t, err) != "FailedOperation.MailIsRegistered" {
		t.Fatalf("a registered mail: %v", err)
	}
	if s.Passwords.Runs() != hashed {
		t.Fatal("a registered mail was refused only after hashing the password")
	}
	// The conflict did not consume the code: a fresh mail passes with it.
	p["Mail"] = "new@example.com"
	if _, err := createAccount(c, p); err != nil {
		t.Fatalf("the code must survive a conflict: %v", err)
	}
	s.Clock.Advance(2 * time.Second)
	if got := sdkCode(t, sendCode(c, map[string]any{"CountryCode": "852", "PhoneNum": "51234567"})); got != "FailedOperation.PhoneBindUpper" {
		t.Fatalf("SendVerifyCode to a number with 5 accounts: %q", got)
	}
}

func TestCreateAccountSixthOnOneNumber(t *testing.T) {
	s := apitest.Start(t, fast)
	c := s.Tencent(tcclient.Options{})
	if err := sendCode(c, map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}); err != nil {
		t.Fatal(err)
	}
	code := s.LastCode(t, "+85251234567")
	for range 5 {
		s.App.Store.Apply(context.Background(), []store.Op{{Kind: store.Incr, Coll: intlpartnersmgt.BoundColl(accounts.DevAccountID), Key: "+85251234567"}})
	}
	if _, err := createAccount(c, accountParams("sixth@example.com", code)); sdkCode(t, err) != "FailedOperation.PhoneBindUpper" {
		t.Fatalf("the 6th account: %v", err)
	}
	if n := s.Passwords.Runs(); n != 0 {
		t.Fatalf("%d passwords hashed for a refused account", n)
	}
}

// TestCreateAccountConcurrentSameCode: 20 requests with the right code at
// once create exactly one account; every other one is answered
// VerificationCodeIllegal and writes nothing. Outcomes only: the client waits
// as long as the server needs, and passwords are hashed with the test
// hasher's cheap parameters.
func TestCreateAccountConcurrentSameCode(t *testing.T) {
	s := apitest.Start(t, fast, apitest.WithConfig(func(c *config.Config) { c.RateLimit = 1000 }))
	c := s.Tencent(tcclient.Options{Timeout: 10 * time.Minute})
	if err := sendCode(c, map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}); err != nil {
		t.Fatal(err)
	}
	code := s.LastCode(t, "+85251234567")
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = createAccount(c, accountParams("c"+strconv.Itoa(i)+"@example.com", code))
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if got := sdkCode(t, err); got != "FailedOperation.VerificationCodeIllegal" {
			t.Errorf("code %q, want FailedOperation.VerificationCodeIllegal", got)
		}
	}
	if ok != 1 {
		t.Fatalf("%d accounts created with one code, want 1", ok)
	}
	ctx := context.Background()
	for _, coll := range []string{"uin", "mail"} {
		if _, total, err := s.App.Store.List(ctx, store.Coll(accounts.DevAccountID, coll), 0, n); err != nil || total != 1 {
			t.Fatalf("%d %s records (%v), want 1", total, coll, err)
		}
	}
	if v, _, _ := s.App.Store.Get(ctx, intlpartnersmgt.BoundColl(accounts.DevAccountID), "+85251234567"); string(v) != "1" {
		t.Fatalf("bound count = %q, want 1", v)
	}
	if h := s.Passwords.Runs(); h < 1 || h > n {
		t.Fatalf("%d passwords hashed for %d requests", h, n)
	}
}

// TestCreateAccountWrongCodeBurst: 200 parallel calls with a wrong code from
// one credential (rate limit 20 a second, on the test's frozen clock): 20
// are admitted and answered VerificationCodeIllegal (the code burns after
// its 5 attempts), the other 180 RequestLimitExceeded, and not one password
// is hashed. The burned code is then refused without hashing too.
func TestCreateAccountWrongCodeBurst(t *testing.T) {
	s := apitest.Start(t, fast)
	c := s.Tencent(tcclient.Options{Timeout: 10 * time.Minute})
	if err := sendCode(c, map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}); err != nil {
		t.Fatal(err)
	}
	right := s.LastCode(t, "+85251234567")
	r, _ := strconv.Atoi(right)
	wrong := fmt.Sprintf("%06d", (r+1)%1000000)
	const n = 200
	codes := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := createAccount(c, accountParams("w"+strconv.Itoa(i)+"@example.com", wrong))
			codes[i] = sdkCode(t, err)
		})
	}
	close(start)
	wg.Wait()
	count := map[string]int{}
	for _, code := range codes {
		count[code]++
	}
	if count["FailedOperation.VerificationCodeIllegal"] != 20 || count["RequestLimitExceeded"] != n-20 {
		t.Fatalf("answers %v; want 20 FailedOperation.VerificationCodeIllegal and %d RequestLimitExceeded", count, n-20)
	}
	if h := s.Passwords.Runs(); h != 0 {
		t.Fatalf("%d passwords hashed for wrong codes, want 0", h)
	}
	s.Clock.Advance(2 * time.Second)
	if _, err := createAccount(c, accountParams("late@example.com", right)); sdkCode(t, err) != "FailedOperation.VerificationCodeIllegal" {
		t.Fatalf("the burned code: %v", err)
	}
	if h := s.Passwords.Runs(); h != 0 {
		t.Fatalf("%d passwords hashed for a burned code, want 0", h)
	}
}

func TestCreateAccountReasonInEnglish(t *testing.T) {
	s := apitest.Start(t, fast)
	c := s.Tencent(tcclient.Options{Language: "en-US"})
	if err := sendCode(c, map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}); err != nil {
		t.Fatal(err)
	}
	p := accountParams("dev@example.com", s.LastCode(t, "+85251234567"))
	p["TradeOne"], p["TradeTwo"] = "kghy_16", "kghy_1601" // the pair of the account API's examples
	out, err := createAccountResponse(c, p)
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if !strings.Contains(out.Reason, "bound") || out.Uin == "" {
		t.Fatalf("Reason %q, Uin %q", out.Reason, out.Uin)
	}
}

// TestCreateAccountIndustryPairs plays pairs from GetTradeConfigList's tree:
// a sample of first-level ids with a child (first, last, only) gets past the
// industry check (to the code check: no code was sent; each costs a password
// hash, hence the sample), and every first-level id with the first child of
// the next one is FailedOperation.TradeInfoIncorrect.
func TestCreateAccountIndustryPairs(t *testing.T) {
	s := apitest.Start(t, fast, apitest.WithConfig(func(c *config.Config) { c.RateLimit = 1000 }))
	c := s.Tencent(tcclient.Options{})
	list := tradeList(t, c)
	call := func(one, two string) string {
		p := accountParams("pair@example.com", "123456")
		p["TradeOne"], p["TradeTwo"] = one, two
		_, err := createAccount(c, p)
		return sdkCode(t, err)
	}
	valid := 0
	for i, one := range list {
		var two []tradeTwoNode
		switch str(one.Id) {
		case "kghy_01", "kghy_09":
			two = one.Children[:1]
		case "kghy_03", "kghy_19":
			two = one.Children[len(one.Children)-1:]
		case "kghy_16", "kghy_20":
			two = one.Children
		}
		for _, c := range two {
			valid++
			if got := call(str(one.Id), str(c.Id)); got != "FailedOperation.VerificationCodeIllegal" {
				t.Errorf("%s/%s: %q, want the code check's VerificationCodeIllegal", str(one.Id), str(c.Id), got)
			}
		}
		next := list[(i+1)%len(list)]
		if got := call(str(one.Id), str(next.Children[0].Id)); got != "FailedOperation.TradeInfoIncorrect" {
			t.Errorf("%s/%s: %q, want TradeInfoIncorrect", str(one.Id), str(next.Children[0].Id), got)
		}
	}
	if valid != 6 {
		t.Fatalf("%d valid pairs played, want 6", valid)
	}
}
