package control_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/acsauth"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/control"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/services/cams"
	"github.com/verifyfn/verifyfn/shared/services/domain"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
	"github.com/verifyfn/verifyfn/shared/services/smh"
)

// answer is an API answer as it went over the wire, the request id taken
// out, so that two answers compare equal exactly when a caller cannot tell
// them apart.
type answer struct {
	Status      int
	ContentType string
	Body        string
}

func normalized(t *testing.T, resp *http.Response) answer {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	id := ""
	if r, ok := v["Response"].(map[string]any); ok { // Tencent
		id, _ = r["RequestId"].(string)
		delete(r, "RequestId")
	} else {
		id, _ = v["RequestId"].(string)
		delete(v, "RequestId")
	}
	if id == "" {
		t.Fatalf("no RequestId in %s", b)
	}
	norm, _ := json.Marshal(v)
	body := strings.ReplaceAll(string(norm), id, "<id>")
	body = strings.ReplaceAll(body, resp.Request.URL.Host, "<host>") // Alibaba's HostId
	return answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: body}
}

// tcRaw calls a Tencent action with a TC3-signed JSON request.
func (k *kit) tcRaw(t *testing.T, service, version, action string, params map[string]any) answer {
	t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	body, _ := json.Marshal(params)
	sr := apitest.SignedRequest{Host: k.Host, Service: service, Action: action, Version: version, Body: body, Timestamp: k.Clock.Now().Unix()}
	resp, err := http.DefaultClient.Do(sr.Build(t))
	if err != nil {
		t.Fatal(err)
	}
	return normalized(t, resp)
}

// acsRaw calls a cams action with an ACS3-signed request, as darabonba sends
// it.
func (k *kit) acsRaw(t *testing.T, ak, secret, action string, params map[string]string) answer {
	t.Helper()
	q := url.Values{}
	for n, v := range params {
		q.Set(n, v)
	}
	r, err := acsauth.ACS3Request{Endpoint: k.URL, Action: action, Version: cams.Version, Query: q, Time: k.Clock.Now(),
		AccessKeyID: ak, Secret: []byte(secret)}.HTTPRequest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	return normalized(t, resp)
}

func sameAnswer(t *testing.T, what string, fault, real answer) {
	t.Helper()
	if fault != real {
		t.Errorf("%s: the fault answered\n  %+v\nthe real refusal\n  %+v", what, fault, real)
	}
}

func intl(national string) map[string]any {
	return map[string]any{"CountryCode": "852", "PhoneNum": national}
}

// A fault answers exactly what the real refusal answers (status, headers,
// envelope, code, message), and changes nothing: no code is sent, no
// cooldown starts, no attempt is spent.
func TestFaultsAnswerAsRealRefusals(t *testing.T) {
	k := start(t, apitest.WithConfig(generous))
	send := func(national string) answer {
		return k.tcRaw(t, intlpartnersmgt.Name, intlpartnersmgt.Version, "SendVerifyCode", intl(national))
	}

	t.Run("SendVerifyCode cooldown", func(t *testing.T) {
		send("51230001")
		real := send("51230001") // within the cooldown
		k.fault(t, map[string]any{"service": "intlpartnersmgt", "action": "SendVerifyCode", "code": "FailedOperation.SendVerifyCodeLimit60", "to": "+852 5123 0002"})
		sameAnswer(t, "SendVerifyCodeLimit60", send("51230002"), real)
		if !strings.Contains(real.Body, "FailedOperation.SendVerifyCodeLimit60") {
			t.Fatalf("the real refusal: %+v", real)
		}
		// Nothing was sent, no cooldown started: a real send goes through.
		if got := k.messages(t, "?to=%2B85251230002"); len(got) != 0 {
			t.Fatalf("the faulted call delivered %+v", got)
		}
		if got := k.sendVerifyCode(t, "51230002"); got != "" {
			t.Fatalf("send after the fault: %q", got)
		}
	})

	t.Run("VerifySmsCode wrong code, no attempt spent", func(t *testing.T) {
		admin := "18999999999"
		if got := k.sendSmsCode(t, smh.ChannelUpdateVerify, admin); got != "" {
			t.Fatal(got)
		}
		code := k.latest(t, "+86"+admin).Code
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		verify := func(c string) answer {
			return k.tcRaw(t, smh.Name, smh.Version, "VerifySmsCode", map[string]any{
				"Purpose": smh.ChannelUpdateVerify, "InstanceId": accounts.DevInstanceID, "PhoneNumber": admin, "Code": c})
		}
		real := verify(wrong) // one attempt spent
		// Five faulted checks with the right code: a real wrong guess each
		// would burn the code (five attempts).
		k.fault(t, map[string]any{"service": "smh", "action": "VerifySmsCode", "code": "UnauthorizedOperation.SmsCode", "count": 5})
		for range 5 {
			sameAnswer(t, "SmsCode", verify(code), real)
		}
		if got := k.verifySmsCode(t, smh.ChannelUpdateVerify, admin, code); got != "" {
			t.Fatalf("the right code after five faulted checks: %q (the faults spent attempts or the code)", got)
		}
	})

	t.Run("CreateIntlPhoneEmail wrong code", func(t *testing.T) {
		k.sendContactCode(t, "carol@example.com")
		code := k.latest(t, "carol@example.com").Code
		create := func(c string) answer {
			return k.tcRaw(t, domain.Name, domain.Version, "CreateIntlPhoneEmail", map[string]any{"Type": 2, "Code": "carol@example.com", "VerifyCode": c})
		}
		real := create(wrongCode(code))
		k.fault(t, map[string]any{"service": "domain", "action": "CreateIntlPhoneEmail", "code": "InternalError.VerifyCodeErr"})
		sameAnswer(t, "VerifyCodeErr", create(code), real)
		if got := k.createContact(t, "carol@example.com", code); got != "" {
			t.Fatalf("the right code after the fault: %q", got)
		}
	})

	t.Run("GetCountryCodes over the rate (a common code)", func(t *testing.T) {
		lookup := func() answer {
			return k.tcRaw(t, intlpartnersmgt.Name, intlpartnersmgt.Version, "GetCountryCodes", nil)
		}
		var real answer
		for range 6 { // documented: 5 a second
			real = lookup()
		}
		if !strings.Contains(real.Body, "RequestLimitExceeded") {
			t.Fatalf("the sixth lookup in a second: %+v", real)
		}
		k.advance(t, 2*time.Second)
		k.fault(t, map[string]any{"service": "intlpartnersmgt", "action": "GetCountryCodes", "code": "RequestLimitExceeded"})
		sameAnswer(t, "RequestLimitExceeded", lookup(), real)
	})

	reg := func(number, code string) answer {
		return k.acsRaw(t, accounts.DevSecretID, accounts.DevSecretKey, cams.ChatappVerifyAndRegister,
			map[string]string{"CustSpaceId": accounts.DevCAMSSpace, "PhoneNumber": number, "VerifyCode": code})
	}
	t.Run("ChatappVerifyAndRegister wrong code (HTTP 400)", func(t *testing.T) {
		k.getChatappCode(t, "85261230001")
		code := k.latest(t, "+85261230001").Code
		real := reg("85261230001", wrongCode(code))
		k.fault(t, map[string]any{"service": "cams", "action": "ChatappVerifyAndRegister", "code": "VerifyCode.Mismatch"})
		fault := reg("85261230001", code)
		sameAnswer(t, "VerifyCode.Mismatch", fault, real)
		if fault.Status != http.StatusBadRequest {
			t.Fatalf("status %d", fault.Status)
		}
		// The official SDK sees the same error.
		k.fault(t, map[string]any{"service": "cams", "action": "ChatappVerifyAndRegister", "code": "VerifyCode.Mismatch"})
		if c, status := k.register(t, "85261230001", code); c != "VerifyCode.Mismatch" || status != http.StatusBadRequest {
			t.Fatalf("darabonba: %q HTTP %d", c, status)
		}
		if c, _ := k.register(t, "85261230001", code); c != "" {
			t.Fatalf("the right code after the faults: %q", c)
		}
	})
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// A permission fault on cams carries the AccessDeniedDetail a real refusal
// carries, for the calling credential.
func TestPermissionFault(t *testing.T) {
	reg, err := accounts.Parse("test", []byte(`accounts:
  - id: "300000000001"
    credentials:
      - id: LTAIall00000000000001
        secret: all-secret-value
        actions: ["*"]
      - id: LTAIreg00000000000001
        secret: reg-secret-value
        actions: ["cams:ChatappVerifyAndRegister"]
    products: [cams]
    cams_spaces: [space-a]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	k := start(t, apitest.WithAccounts(reg))
	params := map[string]string{"CustSpaceId": "space-a", "PhoneNumber": "85261230001", "Method": "sms", "Locale": "en"}
	real := k.acsRaw(t, "LTAIreg00000000000001", "reg-secret-value", cams.GetChatappVerifyCode, params)
	k.fault(t, map[string]any{"service": "cams", "action": "GetChatappVerifyCode", "code": "Ram.PermissionDeny"})
	fault := k.acsRaw(t, "LTAIall00000000000001", "all-secret-value", cams.GetChatappVerifyCode, params)
	// The detail names the calling credential: the only difference.
	fault.Body = strings.ReplaceAll(fault.Body, "LTAIall00000000000001", "LTAIreg00000000000001")
	sameAnswer(t, "Ram.PermissionDeny", fault, real)
	if !strings.Contains(real.Body, `"AccessDeniedDetail":{`) || real.Status != http.StatusBadRequest {
		t.Fatalf("the real refusal: %+v", real)
	}
}

// A delivery fault makes the action answer its own delivery error, as a real
// provider failure does, and revokes the code: nothing is listed, and the
// destination may be sent to again at once.
func TestDeliveryFault(t *testing.T) {
	failing := start(t, func(_ *config.Config, o *app.Options) {
		o.Sender = delivery.SenderFunc(func(context.Context, delivery.Message) error { return errors.New("provider down") })
	})
	k := start(t, apitest.WithConfig(generous))
	cases := []struct {
		service, action string
		call            func(k *kit, n int) answer
	}{
		{"intlpartnersmgt", "SendVerifyCode", func(k *kit, n int) answer {
			return k.tcRaw(t, intlpartnersmgt.Name, intlpartnersmgt.Version, "SendVerifyCode", intl("5123000"+string(rune('0'+n))))
		}},
		{"smh", "SendSmsCode", func(k *kit, n int) answer {
			return k.tcRaw(t, smh.Name, smh.Version, "SendSmsCode", map[string]any{"Purpose": smh.ChannelUpdateVerify, "InstanceId": accounts.DevInstanceID, "PhoneNumber": "18999999999"})
		}},
		{"domain", "SendIntlPhoneEmailCode", func(k *kit, n int) answer {
			return k.tcRaw(t, domain.Name, domain.Version, "SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": "dave@example.com"})
		}},
		{"cams", "GetChatappVerifyCode", func(k *kit, n int) answer {
			return k.acsRaw(t, accounts.DevSecretID, accounts.DevSecretKey, cams.GetChatappVerifyCode,
				map[string]string{"CustSpaceId": accounts.DevCAMSSpace, "PhoneNumber": "8526123000" + string(rune('0'+n)), "Method": "sms", "Locale": "en"})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.action, func(t *testing.T) {
			real := tc.call(failing, 1)
			k.fault(t, map[string]any{"service": tc.service, "action": tc.action, "delivery": "fail"})
			before := len(k.messages(t, ""))
			sameAnswer(t, "delivery failure", tc.call(k, 1), real)
			if got := k.messages(t, ""); len(got) != before {
				t.Fatalf("the failed delivery was listed: %+v", got[before:])
			}
			// The code was revoked and the cooldown released: send again.
			if again := tc.call(k, 1); again.Status != http.StatusOK || strings.Contains(again.Body, `"Error"`) || strings.Contains(again.Body, `"Code":"InternalError`) {
				t.Fatalf("a send right after the failed delivery: %+v", again)
			}
			if got := k.messages(t, ""); len(got) != before+1 {
				t.Fatalf("%d messages after the resend, want %d", len(got), before+1)
			}
		})
	}
}

// Faults are validated against what each action documents: an undocumented
// code is refused naming the documented ones.
func TestFaultValidation(t *testing.T) {
	k := start(t)
	for _, tc := range []struct {
		body map[string]any
		want []string // in the error message
	}{
		{map[string]any{"service": "intlpartnersmgt", "action": "SendVerifyCode", "code": "VerifyCode.Mismatch"},
			[]string{`does not document "VerifyCode.Mismatch"`, "FailedOperation.SendVerifyCodeLimit60", "InvalidParameterValue.UnSupportArea", "RequestLimitExceeded"}},
		{map[string]any{"service": "cams", "action": "GetChatappVerifyCode", "code": "Throttling.User"},
			[]string{"System.LimitControl", "Ram.PermissionDeny"}}, // cams answers its own code for the rate
		{map[string]any{"service": "domain", "action": "DeleteIntlPhoneEmail", "code": "AuthFailure.UnauthorizedOperation"},
			[]string{"InternalError.ForbiddenRequest"}},
		{map[string]any{"service": "sms", "action": "SendSms", "code": "x"}, []string{`unknown service "sms"`, "intlpartnersmgt"}},
		{map[string]any{"service": "smh", "action": "SendSms", "code": "x"}, []string{"SendSmsCode, VerifySmsCode"}},
		{map[string]any{"service": "smh", "action": "VerifySmsCode", "delivery": "fail"}, []string{"delivers no message"}},
		{map[string]any{"service": "smh", "action": "SendSmsCode", "delivery": "later"}, []string{`"fail"`}},
		{map[string]any{"service": "smh", "action": "SendSmsCode", "delivery": "fail", "code": "InternalError.SendSms"}, []string{"not both"}},
		{map[string]any{"service": "smh", "action": "SendSmsCode"}, []string{"give a code"}},
		{map[string]any{"service": "smh", "action": "SendSmsCode", "code": "InternalError.SendSms", "count": 0}, []string{"count"}},
		{map[string]any{"service": "smh", "action": "SendSmsCode", "code": "InternalError.SendSms", "delay": "2m"}, []string{"delay"}},
		{map[string]any{"service": "smh", "action": "SendSmsCode", "code": "InternalError.SendSms", "delay": 5}, []string{"duration"}},
		{map[string]any{"service": "smh", "action": "SendSmsCode", "code": "InternalError.SendSms", "colour": "red"}, []string{"colour"}},
	} {
		msg := k.refused(t, http.StatusBadRequest, http.MethodPost, "/_verifyfn/faults", tc.body)
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: error %q does not contain %q", tc.body, msg, w)
			}
		}
	}
	var list struct{ Faults []control.Fault }
	k.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/faults", nil, &list)
	if len(list.Faults) != 0 {
		t.Fatalf("refused faults were recorded: %+v", list.Faults)
	}
}

// Faults apply to their destination and account only, count their calls,
// are listed while pending, and DELETE clears them. A delay alone lets the
// call run.
func TestFaultMatching(t *testing.T) {
	k := start(t, apitest.WithConfig(generous))
	f := k.fault(t, map[string]any{"service": "intlpartnersmgt", "action": "SendVerifyCode", "code": "FailedOperation.PhoneBindUpper",
		"to": "00852 5123 0001", "count": 2})
	if f.ID == "" || f.To != "+85251230001" || f.Count != 2 || f.Left != 2 {
		t.Fatalf("recorded fault %+v", f)
	}
	k.fault(t, map[string]any{"service": "intlpartnersmgt", "action": "SendVerifyCode", "code": "FailedOperation.SendVerifyCodeLimit", "account": "someone-else"})
	if got := k.sendVerifyCode(t, "51230002"); got != "" {
		t.Fatalf("another number, another account's fault: %q", got)
	}
	if got := k.sendVerifyCode(t, "51230001"); got != "FailedOperation.PhoneBindUpper" {
		t.Fatalf("first faulted call: %q", got)
	}
	var list struct{ Faults []control.Fault }
	k.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/faults", nil, &list)
	if len(list.Faults) != 2 || list.Faults[0].ID != f.ID || list.Faults[0].Left != 1 || list.Faults[1].Account != "someone-else" {
		t.Fatalf("pending faults %+v", list.Faults)
	}
	if got := k.sendVerifyCode(t, "51230001"); got != "FailedOperation.PhoneBindUpper" {
		t.Fatalf("second faulted call: %q", got)
	}
	if got := k.sendVerifyCode(t, "51230001"); got != "" {
		t.Fatalf("third call, the fault used up: %q", got)
	}
	k.must(t, http.StatusNoContent, http.MethodDelete, "/_verifyfn/faults", nil, nil)
	k.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/faults", nil, &list)
	if len(list.Faults) != 0 {
		t.Fatalf("faults after DELETE: %+v", list.Faults)
	}
	k.fault(t, map[string]any{"service": "intlpartnersmgt", "action": "SendVerifyCode", "delay": "1ms"})
	if got := k.sendVerifyCode(t, "51230003"); got != "" {
		t.Fatalf("a delayed call: %q", got)
	}
	k.fault(t, map[string]any{"service": "intlpartnersmgt", "action": "SendVerifyCode", "code": "InvalidParameterValue.UnSupportArea", "delay": "1ms"})
	if got := k.sendVerifyCode(t, "51230004"); got != "InvalidParameterValue.UnSupportArea" {
		t.Fatalf("a delayed fault: %q", got)
	}
	// A mailbox in another spelling is the same destination, as for its limits.
	k.fault(t, map[string]any{"service": "domain", "action": "SendIntlPhoneEmailCode", "code": "InternalError.SendVerifyCodeErr", "to": "Dave@Example.COM"})
	if got := k.sendContactCode(t, "erin@example.com"); got != "" {
		t.Fatalf("another mailbox: %q", got)
	}
	if got := k.sendContactCode(t, "DAVE@example.com"); got != "InternalError.SendVerifyCodeErr" {
		t.Fatalf("the fault's mailbox in another case: %q", got)
	}
	k.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/faults", nil, &list)
	if len(list.Faults) != 0 {
		t.Fatalf("used faults still pending: %+v", list.Faults)
	}
}

// GET /_verifyfn/actions lists every action with the codes a fault may
// answer, each with its message.
func TestActions(t *testing.T) {
	k := start(t)
	var out struct{ Actions []control.ActionInfo }
	k.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/actions", nil, &out)
	if len(out.Actions) != 12 {
		t.Fatalf("%d actions, want 12", len(out.Actions))
	}
	for _, a := range out.Actions {
		if len(a.Codes) == 0 {
			t.Errorf("%s %s lists no codes", a.Service, a.Action)
		}
		for _, c := range a.Codes {
			if c.Message == "" {
				t.Errorf("%s %s: %s has no message", a.Service, a.Action, c.Code)
			}
		}
	}
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(out)
	for _, want := range []string{`"action":"SendVerifyCode","delivers":true`, `"code":"LimitExceeded.UserLimit"`, `"code":"System.LimitControl"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the list lacks %s", want)
		}
	}
}
