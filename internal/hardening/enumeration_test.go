package hardening_test

import (
	"context"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
	"github.com/verifyfn/verifyfn/shared/store"
)

// sameAnswers fails unless every answer equals the first in status,
// Content-Type, Content-Length and body, the RequestId aside (security.md
// 6.1: responses for known and unknown numbers are byte-identical in shape).
func sameAnswers(t *testing.T, what string, answers map[string]answer) {
	t.Helper()
	var firstName string
	var first answer
	for name, a := range answers {
		a = a.Normalized()
		if firstName == "" {
			firstName, first = name, a
			continue
		}
		if a != first {
			t.Errorf("%s: %s and %s answer differently:\n  %s: %+v\n  %s: %+v", what, firstName, name, firstName, first, name, a)
		}
	}
}

// bind records n accounts as bound to number (E.164) for the development
// account, as n CreateAccount calls would.
func bind(t *testing.T, s *apitest.Server, number string, n int) {
	t.Helper()
	_, err := s.App.Store.Apply(context.Background(), []store.Op{{
		Kind: store.Put, Coll: intlpartnersmgt.BoundColl(accounts.DevAccountID), Key: number, Value: []byte{byte('0' + n)},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSendVerifyCodeDoesNotRevealBoundNumbers: a number with no account
// bound, one with 4 bound, and one that has had codes before get the same
// answer to SendVerifyCode, and the same answer again inside the cooldown.
//
// Forced by the documents: at 5 bound accounts SendVerifyCode answers
// FailedOperation.PhoneBindUpper (Tencent documents it for this action), so
// a number with the maximum of accounts is distinguishable. Bound counts are
// per calling account: another account learns nothing.
func TestSendVerifyCodeDoesNotRevealBoundNumbers(t *testing.T) {
	s := startForGuessing(t)
	bind(t, s, "+85251230002", 4)
	bind(t, s, "+85251230005", 5)
	// A number with history: sent, burned, and its cooldown passed.
	mustOK(t, s, sendVerifyCode, map[string]any{"CountryCode": "852", "PhoneNum": "51230003"})
	s.Clock.Advance(61 * time.Second)

	numbers := map[string]string{"unbound": "51230001", "4 accounts bound": "51230002", "sent before": "51230003"}
	first, again := map[string]answer{}, map[string]answer{}
	for name, num := range numbers {
		first[name] = call(t, s, sendVerifyCode, map[string]any{"CountryCode": "852", "PhoneNum": num})
	}
	for name, num := range numbers {
		again[name] = call(t, s, sendVerifyCode, map[string]any{"CountryCode": "852", "PhoneNum": num})
	}
	sameAnswers(t, "SendVerifyCode", first)
	sameAnswers(t, "SendVerifyCode within the cooldown", again)
	if got := first["unbound"].Code; got != "" {
		t.Fatalf("SendVerifyCode: %q", got)
	}
	if got := again["unbound"].Code; got != "FailedOperation.SendVerifyCodeLimit60" {
		t.Fatalf("second SendVerifyCode: %q", got)
	}
	if got := call(t, s, sendVerifyCode, map[string]any{"CountryCode": "852", "PhoneNum": "51230005"}).Code; got != "FailedOperation.PhoneBindUpper" {
		t.Fatalf("5 bound: %q, want the documented FailedOperation.PhoneBindUpper", got)
	}
}

// TestVerifySmsCodeDoesNotRevealCodeState: a wrong code is answered the same
// whether the number has a live code, never had one, had one that expired or
// one that was used.
//
// Forced by the documents: UnauthorizedOperation.SmsCodeExceeded says that
// the number's code burned (SMH documents it); SendSmsCode answers
// InvalidParameterValue.NotModified for the current super admin and
// NotSuperAdmin for ChannelUpdateVerify to anyone else. All of these concern
// the caller's own instance and codes.
func TestVerifySmsCodeDoesNotRevealCodeState(t *testing.T) {
	s := startForGuessing(t)
	p := func(num, code string) map[string]any {
		m := map[string]any{"Purpose": "BindSuperAdmin", "PhoneNumber": num}
		if code != "" {
			m["Code"] = code
		}
		return m
	}
	mustOK(t, s, sendSmsCode, p("13900000011", "")) // will expire
	s.Clock.Advance(11 * time.Minute)
	mustOK(t, s, sendSmsCode, p("13900000012", "")) // live
	mustOK(t, s, sendSmsCode, p("13900000013", "")) // will be used
	mustOK(t, s, verifySmsCode, p("13900000013", s.LastCode(t, "+8613900000013")))

	wrong := func(to string) string { return wrongCodes(s.LastCode(t, to), 1)[0] }
	answers := map[string]answer{
		"never sent": call(t, s, verifySmsCode, p("13900000014", "123456")),
		"expired":    call(t, s, verifySmsCode, p("13900000011", wrong("+8613900000011"))),
		"live":       call(t, s, verifySmsCode, p("13900000012", wrong("+8613900000012"))),
		"used":       call(t, s, verifySmsCode, p("13900000013", wrong("+8613900000013"))),
	}
	sameAnswers(t, "VerifySmsCode with a wrong code", answers)
	if got := answers["live"].Code; got != "UnauthorizedOperation.SmsCode" {
		t.Fatalf("wrong code: %q", got)
	}

	sends := map[string]answer{
		"fresh":       call(t, s, sendSmsCode, p("13900000015", "")),
		"had expired": call(t, s, sendSmsCode, p("13900000011", "")),
	}
	sameAnswers(t, "SendSmsCode", sends)
}

// TestContactsDoNotRevealOtherState: SendIntlPhoneEmailCode answers the same
// for a contact the account has verified and for one it has not.
//
// Forced by the documents (README "Actions", from Tencent's error list):
// CreateIntlPhoneEmail answers InternalError.VerifyCodeErr for a wrong code
// while a code is pending and InternalError.CheckVerifyCodeErr when none is,
// InternalError.VerifiedPhoneEmailErr for a contact already verified, and
// DeleteIntlPhoneEmail fails for a contact that is not verified. Each
// concerns the calling account's own contacts and codes.
func TestContactsDoNotRevealOtherState(t *testing.T) {
	s := startForGuessing(t)
	c := func(addr string) map[string]any { return map[string]any{"Type": 2, "Code": addr} }
	mustOK(t, s, sendContactCode, c("verified@example.com"))
	mustOK(t, s, createContact, map[string]any{"Type": 2, "Code": "verified@example.com", "VerifyCode": s.LastCode(t, "verified@example.com")})
	s.Clock.Advance(61 * time.Second)

	sameAnswers(t, "SendIntlPhoneEmailCode", map[string]answer{
		"verified":   call(t, s, sendContactCode, c("verified@example.com")),
		"unverified": call(t, s, sendContactCode, c("stranger@example.com")),
	})
	sameAnswers(t, "SendIntlPhoneEmailCode within the cooldown", map[string]answer{
		"verified":   call(t, s, sendContactCode, c("verified@example.com")),
		"unverified": call(t, s, sendContactCode, c("stranger@example.com")),
	})
	sameAnswers(t, "CreateIntlPhoneEmail with a malformed code", map[string]answer{
		"verified":   call(t, s, createContact, map[string]any{"Type": 2, "Code": "verified@example.com", "VerifyCode": "12"}),
		"unverified": call(t, s, createContact, map[string]any{"Type": 2, "Code": "nobody@example.com", "VerifyCode": "12"}),
	})

	if got := call(t, s, deleteContact, c("verified@example.com")).Code; got != "" {
		t.Fatalf("deleting a verified contact: %q", got)
	}
	if got := call(t, s, deleteContact, c("nobody@example.com")).Code; got != "InternalError.DeletePhoneEmailVerifyErr" {
		t.Fatalf("deleting an unverified contact: %q, want the documented InternalError.DeletePhoneEmailVerifyErr", got)
	}
}

// twoAccounts is the development account and a second one, "other".
const twoAccounts = `
accounts:
  - id: "200000000001"
    credentials:
      - id: AKIDLOCAL0000000000000000000000001
        secret: local-secret-key
        actions: ["*"]
    products: [smh, intlpartnersmgt, domain, cams]
    cams_spaces: [cams-kei123]
  - id: "200000000002"
    credentials:
      - id: AKIDOTHER0000000000000000000000002
        secret: other-secret-key
        actions: ["*"]
    products: [smh, intlpartnersmgt, domain, cams]
    cams_spaces: [cams-other01]
`

const otherID, otherSecret = "AKIDOTHER0000000000000000000000002", "other-secret-key"

// TestAccountsDoNotSeeEachOther: what one account did to a number or
// address (5 accounts bound, a verified contact, a live code, a spent
// cooldown) changes nothing another account sees: its answers equal those
// for a number or address nobody has used.
func TestAccountsDoNotSeeEachOther(t *testing.T) {
	s := startTwoAccounts(t)
	bind(t, s, "+85251230005", 5)
	mustOK(t, s, sendVerifyCode, map[string]any{"CountryCode": "852", "PhoneNum": "51230006"})
	mustOK(t, s, sendContactCode, map[string]any{"Type": 2, "Code": "verified@example.com"})
	mustOK(t, s, createContact, map[string]any{"Type": 2, "Code": "verified@example.com", "VerifyCode": s.LastCode(t, "verified@example.com")})
	mustOK(t, s, sendContactCode, map[string]any{"Type": 2, "Code": "pending@example.com"})

	other := func(a api, params map[string]any) answer { return callAs(t, s, otherID, otherSecret, a, params) }
	sends := map[string]answer{
		"5 bound elsewhere":      other(sendVerifyCode, map[string]any{"CountryCode": "852", "PhoneNum": "51230005"}),
		"cooling down elsewhere": other(sendVerifyCode, map[string]any{"CountryCode": "852", "PhoneNum": "51230006"}),
		"never used":             other(sendVerifyCode, map[string]any{"CountryCode": "852", "PhoneNum": "51230007"}),
	}
	sameAnswers(t, "SendVerifyCode from another account", sends)
	if got := sends["never used"].Code; got != "" {
		t.Fatalf("SendVerifyCode from another account: %q", got)
	}
	checks := map[string]answer{
		"verified elsewhere": other(createContact, map[string]any{"Type": 2, "Code": "verified@example.com", "VerifyCode": "123456"}),
		"pending elsewhere":  other(createContact, map[string]any{"Type": 2, "Code": "pending@example.com", "VerifyCode": "123456"}),
		"never used":         other(createContact, map[string]any{"Type": 2, "Code": "nobody@example.com", "VerifyCode": "123456"}),
	}
	sameAnswers(t, "CreateIntlPhoneEmail from another account", checks)
	if got := checks["never used"].Code; got != "InternalError.CheckVerifyCodeErr" {
		t.Fatalf("CreateIntlPhoneEmail from another account: %q", got)
	}
	if got := other(describeContacts, map[string]any{}).Normalized().Body; got != `{"Response":{"PhoneEmailList":[],"TotalCount":0,"RequestId":"<id>"}}` {
		t.Fatalf("another account lists %s", got)
	}
}

// startTwoAccounts boots the real stack serving the accounts of twoAccounts.
func startTwoAccounts(t *testing.T) *apitest.Server {
	t.Helper()
	reg, err := accounts.Parse("two.yaml", []byte(twoAccounts), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return apitest.Start(t, apitest.WithAccounts(reg), apitest.WithConfig(func(c *config.Config) { c.RateLimit = 1_000_000 }))
}
