package cams_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alibabacloud-go/tea/tea"

	"github.com/verifyfn/verifyfn/internal/acsclient"
	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/services/cams"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/memstore"
)

const (
	get      = cams.GetChatappVerifyCode
	register = cams.ChatappVerifyAndRegister
	ver      = cams.Version
)

// testAccounts has a full account (cams-space-a) with one credential per
// permission shape, and an account without the cams product (cams-space-b).
const testAccounts = `accounts:
  - id: "300000000001"
    credentials:
      - id: LTAIfull0000000000001
        secret: full-secret-value
        actions: ["*"]
      - id: LTAIregonly000000001
        secret: regonly-secret-value
        actions: ["cams:ChatappVerifyAndRegister"]
      - id: LTAIgetonly000000001
        secret: getonly-secret-value
        actions: ["cams:GetChatappVerifyCode", "smh:*"]
    products: [cams, smh]
    cams_spaces: [cams-space-a, cams-space-a2]
  - id: "300000000002"
    credentials:
      - id: LTAInocams0000000001
        secret: nocams-secret-value
        actions: ["*"]
    products: [smh]
    cams_spaces: [cams-space-b]
`

const (
	fullAK, fullSecret       = "LTAIfull0000000000001", "full-secret-value"
	regOnlyAK, regOnlySecret = "LTAIregonly000000001", "regonly-secret-value"
	getOnlyAK, getOnlySecret = "LTAIgetonly000000001", "getonly-secret-value"
	noCamsAK, noCamsSecret   = "LTAInocams0000000001", "nocams-secret-value"
	spaceA                   = "cams-space-a"
)

func withTestAccounts(t *testing.T) apitest.Option {
	reg, err := accounts.Parse("test", []byte(testAccounts), nil)
	if err != nil {
		t.Fatal(err)
	}
	return apitest.WithAccounts(reg)
}

// fastRate lifts the per-user request rate, for tests that make many calls
// in one (frozen) second.
var fastRate = apitest.WithConfig(func(c *config.Config) { c.CAMSRateLimit = 100000 })

func getParams(number string, kv ...string) map[string]string {
	p := map[string]string{"CustSpaceId": spaceA, "PhoneNumber": number, "Method": "sms", "Locale": "en"}
	return with(p, kv...)
}

func regParams(number, code string, kv ...string) map[string]string {
	p := map[string]string{"CustSpaceId": spaceA, "PhoneNumber": number, "VerifyCode": code}
	return with(p, kv...)
}

// with sets pairs of kv; an empty value deletes the key.
func with(p map[string]string, kv ...string) map[string]string {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(p, kv[i])
		} else {
			p[kv[i]] = kv[i+1]
		}
	}
	return p
}

func wrong(code string) string {
	if code == "111111" {
		return "222222"
	}
	return "111111"
}

func want(t *testing.T, who string, got apitest.ACSResult, code string) {
	t.Helper()
	if got.Code != code {
		t.Fatalf("%s: code %q, want %q", who, got.Code, code)
	}
	if code != "" && got.Status != http.StatusBadRequest {
		t.Fatalf("%s: %s with HTTP %d, want 400", who, code, got.Status)
	}
	if got.RequestID == "" {
		t.Fatalf("%s: no RequestId", who)
	}
}

func TestFlowThroughEverySDK(t *testing.T) {
	s := apitest.Start(t, withTestAccounts(t), fastRate)
	for i, c := range s.ACSCallers(t, fullAK, fullSecret) {
		number := fmt.Sprintf("8525123450%d", i)
		e164 := "+" + number
		r := c.Call(t, get, ver, getParams(number))
		want(t, c.Name+" get", r, "")
		for k, v := range map[string]any{"Code": "OK", "Message": "None", "Success": true, "AccessDeniedDetail": "None"} {
			if r.Body[k] != v {
				t.Errorf("%s: %s = %v, want %v (body %v)", c.Name, k, r.Body[k], v, r.Body)
			}
		}
		msgs := s.Messages(t)
		m := msgs[len(msgs)-1]
		if m.To != e164 || m.Channel != "sms" || len(m.Code) != 6 || m.Action != get || m.Account != "300000000001" {
			t.Fatalf("%s: message %+v", c.Name, m)
		}
		code := m.Code
		want(t, c.Name+" wrong code", c.Call(t, register, ver, regParams(number, wrong(code))), "VerifyCode.Mismatch")
		r = c.Call(t, register, ver, regParams(number, code))
		want(t, c.Name+" register", r, "")
		if r.Body["Success"] != true {
			t.Fatalf("%s: register body %v", c.Name, r.Body)
		}
		want(t, c.Name+" register again", c.Call(t, register, ver, regParams(number, code)), "PhoneNumber.AlreadyRegistered")
		want(t, c.Name+" get after register", c.Call(t, get, ver, getParams(number)), "PhoneNumber.AlreadyRegistered")
		if n := len(s.Messages(t)); n != len(msgs) {
			t.Fatalf("%s: a registered number was sent a code", c.Name)
		}
		// The registration is per space: another space of the account may
		// verify the same number (after the number's cooldown).
		s.Clock.Advance(61 * time.Second)
		want(t, c.Name+" other space", c.Call(t, get, ver, getParams(number, "CustSpaceId", "cams-space-a2")), "")
	}
}

func TestDocumentedErrorsThroughEverySDK(t *testing.T) {
	for i, name := range []string{"darabonba-ACS3", "darabonba-v2", "aliyun-GET", "aliyun-POST"} {
		t.Run(name, func(t *testing.T) {
			s := apitest.Start(t, withTestAccounts(t), apitest.WithConfig(func(c *config.Config) {
				c.Windows = []store.Window{{Period: time.Hour, Max: 2}}
			}))
			pick := func(ak, secret string) apitest.ACSCaller { return s.ACSCallers(t, ak, secret)[i] }
			full := pick(fullAK, fullSecret)

			// Product.Unsubscript: the account lacks cams.
			for _, action := range []string{get, register} {
				p := getParams("85251234567", "CustSpaceId", "cams-space-b")
				if action == register {
					p = regParams("85251234567", "123456", "CustSpaceId", "cams-space-b")
				}
				want(t, action, pick(noCamsAK, noCamsSecret).Call(t, action, ver, p), "Product.Unsubscript")
			}

			// Ram.PermissionDeny, with an AccessDeniedDetail naming the action.
			for action, who := range map[string]apitest.ACSCaller{get: pick(regOnlyAK, regOnlySecret), register: pick(getOnlyAK, getOnlySecret)} {
				p := getParams("85251234567")
				if action == register {
					p = regParams("85251234567", "123456")
				}
				r := who.Call(t, action, ver, p)
				want(t, action, r, "Ram.PermissionDeny")
				if r.Detail["AuthAction"] != "cams:"+action {
					t.Errorf("%s: AccessDeniedDetail %v", action, r.Detail)
				}
			}

			// Unknown.ResourceOwnerId: a space of another account, or none.
			for _, sp := range []string{"cams-space-b", "cams-nonexistent"} {
				want(t, "get "+sp, full.Call(t, get, ver, getParams("85251234567", "CustSpaceId", sp)), "Unknown.ResourceOwnerId")
				want(t, "register "+sp, full.Call(t, register, ver, regParams("85251234567", "123456", "CustSpaceId", sp)), "Unknown.ResourceOwnerId")
			}

			// System.LimitControl: the number's cooldown and window cap.
			want(t, "first send", full.Call(t, get, ver, getParams("85251234567")), "")
			want(t, "cooldown", full.Call(t, get, ver, getParams("85251234567")), "System.LimitControl")
			s.Clock.Advance(61 * time.Second)
			want(t, "second send", full.Call(t, get, ver, getParams("85251234567")), "")
			s.Clock.Advance(61 * time.Second)
			want(t, "window cap", full.Call(t, get, ver, getParams("85251234567")), "System.LimitControl")

			// System.LimitControl: more than 10 requests a second per user
			// and action. The clock is frozen, so all calls share a second.
			s.Clock.Advance(time.Second)
			var got []string
			for n := range 11 {
				got = append(got, full.Call(t, get, ver, getParams(fmt.Sprintf("852612345%02d", n))).Code)
			}
			if strings.Join(got[:10], "") != "" || got[10] != "System.LimitControl" {
				t.Fatalf("11 sends in one second: %q", got)
			}
			got = got[:0]
			for range 11 {
				got = append(got, full.Call(t, register, ver, regParams("85291234567", "123456")).Code)
			}
			// Each action has its own budget: the checks were not limited by
			// the sends, and the sends are still limited in this second.
			if got[9] != "VerifyCode.Expired" || got[10] != "System.LimitControl" {
				t.Fatalf("11 checks in one second: %q", got)
			}
			want(t, "get in the same second", full.Call(t, get, ver, getParams("85261234599", "CustSpaceId", "cams-space-a2")), "System.LimitControl")
			s.Clock.Advance(time.Second)
			want(t, "next second", full.Call(t, get, ver, getParams("85261234599")), "")

			// The codes verifyfn defines.
			s.Clock.Advance(time.Second)
			code := s.LastCode(t, "+85261234599")
			want(t, "mismatch", full.Call(t, register, ver, regParams("85261234599", wrong(code))), "VerifyCode.Mismatch")
			for range 3 {
				full.Call(t, register, ver, regParams("85261234599", wrong(code)))
			}
			want(t, "5th wrong guess", full.Call(t, register, ver, regParams("85261234599", wrong(code))), "VerifyCode.Exceeded")
			want(t, "right code after 5 wrong", full.Call(t, register, ver, regParams("85261234599", code)), "VerifyCode.Exceeded")
			want(t, "never sent", full.Call(t, register, ver, regParams("85261234598", "123456")), "VerifyCode.Expired")
		})
	}
}

func TestExpiry(t *testing.T) {
	s := apitest.Start(t, withTestAccounts(t))
	c := s.ACSCallers(t, fullAK, fullSecret)[0]
	want(t, "get", c.Call(t, get, ver, getParams("85251234567")), "")
	code := s.LastCode(t, "+85251234567")
	s.Clock.Advance(10*time.Minute + time.Second)
	want(t, "expired", c.Call(t, register, ver, regParams("85251234567", code)), "VerifyCode.Expired")
}

// TestCodeBoundToSpace checks that a code sent for one space does not
// register the number in another space of the same account.
func TestCodeBoundToSpace(t *testing.T) {
	s := apitest.Start(t, withTestAccounts(t))
	c := s.ACSCallers(t, fullAK, fullSecret)[0]
	want(t, "get", c.Call(t, get, ver, getParams("85251234567")), "")
	code := s.LastCode(t, "+85251234567")
	want(t, "other space", c.Call(t, register, ver, regParams("85251234567", code, "CustSpaceId", "cams-space-a2")), "VerifyCode.Expired")
	want(t, "own space", c.Call(t, register, ver, regParams("85251234567", code)), "")
}

func TestParameters(t *testing.T) {
	s := apitest.Start(t, withTestAccounts(t), fastRate)
	c := s.ACSCallers(t, fullAK, fullSecret)[0]
	for _, p := range []string{"CustSpaceId", "PhoneNumber", "Method", "Locale"} {
		want(t, "missing "+p, c.Call(t, get, ver, getParams("85251234567", p, "")), "MissingParameter")
		want(t, "blank "+p, c.Call(t, get, ver, getParams("85251234567", p, "  ")), "MissingParameter")
	}
	for _, p := range []string{"CustSpaceId", "PhoneNumber", "VerifyCode"} {
		want(t, "missing "+p, c.Call(t, register, ver, regParams("85251234567", "123456", p, "")), "MissingParameter")
	}
	for _, tc := range []struct{ key, value string }{
		{"Method", "fax"}, {"Method", "whatsapp"},
		{"Locale", "zh-CN"}, {"Locale", "ZH_CN"}, {"Locale", "en_us"}, {"Locale", "xx"}, {"Locale", "ar_EG"},
		{"PhoneNumber", "123"}, {"PhoneNumber", "85212345678901234"}, {"PhoneNumber", "abc"},
		{"PhoneNumber", "85221234567"}, // a Hong Kong fixed line cannot receive SMS
	} {
		want(t, tc.key+"="+tc.value, c.Call(t, get, ver, getParams("85251234567", tc.key, tc.value)), "InvalidParameter")
	}
	for _, v := range []string{"12345", "1234567", "12345a", "１２３４５６"} {
		want(t, "VerifyCode="+v, c.Call(t, register, ver, regParams("85251234567", v)), "InvalidParameter")
	}
	if n := len(s.Messages(t)); n != 0 {
		t.Fatalf("%d messages sent for invalid requests", n)
	}

	// Method is case-insensitive; a fixed line takes a voice call; the SDK
	// extras are accepted and ignored.
	want(t, "Method=SMS", c.Call(t, get, ver, getParams("85251234567", "Method", "SMS")), "")
	want(t, "Method=Voice landline", c.Call(t, get, ver, getParams("85221234567", "Method", "Voice", "Locale", "pt_BR",
		"OwnerId", "1", "ResourceOwnerAccount", "x", "ResourceOwnerId", "2")), "")
	m := s.Messages(t)[1]
	if m.Channel != string(delivery.Voice) || m.To != "+85221234567" || m.Locale != "pt_BR" {
		t.Fatalf("voice message %+v", m)
	}
	// The spellings of one number share its cooldown.
	for _, n := range []string{"+85251234567", "0085251234567", "852 5123 4567"} {
		want(t, "PhoneNumber="+n, c.Call(t, get, ver, getParams(n)), "System.LimitControl")
	}
	// Every documented locale is accepted, case-sensitively.
	if len(cams.Locales) != 68 {
		t.Fatalf("%d locales, want 68", len(cams.Locales))
	}
	for i, l := range cams.Locales {
		number := fmt.Sprintf("85261%02d0%03d", i, i) // a prefix each: the fraud guard's velocity counts per prefix
		want(t, "Locale="+l, c.Call(t, get, ver, getParams(number, "Locale", l)), "")
		if got := s.Messages(t); got[len(got)-1].Locale != l {
			t.Fatalf("locale %s delivered as %q", l, got[len(got)-1].Locale)
		}
	}
	zh := s.Messages(t)
	for _, m := range zh {
		if m.Locale == "zh_CN" && !strings.Contains(m.Text, "验证码") {
			t.Fatalf("zh_CN text %q", m.Text)
		}
	}
}

// TestConcurrentSends fires 100 GetChatappVerifyCode calls for one number at
// once: exactly one message goes out, the others hit the cooldown.
func TestConcurrentSends(t *testing.T) {
	s := apitest.Start(t, withTestAccounts(t), fastRate)
	var ok, limited atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			c := s.Alibaba(t, acsclient.Options{AccessKeyID: fullAK, AccessKeySecret: fullSecret})
			_, err := c.Call(get, ver, map[string]any{"CustSpaceId": spaceA, "PhoneNumber": "85251234567", "Method": "sms", "Locale": "en"})
			switch code := sdkCode(err); code {
			case "":
				ok.Add(1)
			case "System.LimitControl":
				limited.Add(1)
			default:
				t.Errorf("unexpected %q (%v)", code, err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || limited.Load() != 99 {
		t.Fatalf("%d sent and %d refused, want 1 and 99", ok.Load(), limited.Load())
	}
	if n := len(s.Messages(t)); n != 1 {
		t.Fatalf("%d messages, want exactly 1", n)
	}

	// And 50 concurrent registrations with the right code: one passes.
	code := s.LastCode(t, "+85251234567")
	var passed atomic.Int32
	for range 50 {
		wg.Go(func() {
			c := s.Alibaba(t, acsclient.Options{AccessKeyID: fullAK, AccessKeySecret: fullSecret})
			_, err := c.Call(register, ver, map[string]any{"CustSpaceId": spaceA, "PhoneNumber": "85251234567", "VerifyCode": code})
			switch got := sdkCode(err); got {
			case "":
				passed.Add(1)
			case "PhoneNumber.AlreadyRegistered", "VerifyCode.Expired":
			default:
				t.Errorf("unexpected %q", got)
			}
		})
	}
	wg.Wait()
	if passed.Load() != 1 {
		t.Fatalf("%d of 50 concurrent registrations passed, want 1", passed.Load())
	}
}

func sdkCode(err error) string {
	if err == nil {
		return ""
	}
	var e *tea.SDKError
	if errors.As(err, &e) {
		return tea.StringValue(e.Code)
	}
	return "not an API error: " + err.Error()
}

func TestDeliveryFailure(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	var mu sync.Mutex
	var tried []delivery.Message
	sender := delivery.SenderFunc(func(_ context.Context, m delivery.Message) error {
		mu.Lock()
		tried = append(tried, m)
		mu.Unlock()
		if fail.Load() {
			return errors.New("carrier rejected: secret-carrier-detail")
		}
		return nil
	})
	s := apitest.Start(t, withTestAccounts(t), func(_ *config.Config, o *app.Options) { o.Sender = sender })
	c := s.ACSCallers(t, fullAK, fullSecret)[0]
	r := c.Call(t, get, ver, getParams("85251234567"))
	if r.Code != "InternalError" || r.Status != http.StatusInternalServerError {
		t.Fatalf("failed delivery: %+v", r)
	}
	want(t, "the undelivered code", c.Call(t, register, ver, regParams("85251234567", tried[0].Code)), "VerifyCode.Expired")
	fail.Store(false)
	want(t, "an immediate retry", c.Call(t, get, ver, getParams("85251234567")), "")
	want(t, "register", c.Call(t, register, ver, regParams("85251234567", tried[1].Code)), "")
	if !strings.Contains(s.Logs(), "secret-carrier-detail") {
		t.Fatal("the delivery failure's cause is not logged")
	}
}

// TestLogsHoldNoCodeSecretOrNumber runs a full exchange through every SDK,
// errors included, and greps the log.
func TestLogsHoldNoCodeSecretOrNumber(t *testing.T) {
	s := apitest.Start(t, withTestAccounts(t), fastRate)
	numbers := []string{"85251234501", "85251234502", "85251234503", "85251234504"}
	for i, c := range s.ACSCallers(t, fullAK, fullSecret) {
		c.Call(t, get, ver, getParams(numbers[i]))
		code := s.LastCode(t, "+"+numbers[i])
		c.Call(t, register, ver, regParams(numbers[i], wrong(code)))
		c.Call(t, register, ver, regParams(numbers[i], code))
	}
	for _, c := range s.ACSCallers(t, fullAK, "wrong-secret-value") {
		c.Call(t, get, ver, getParams("85291234567"))
	}
	logs := s.Logs()
	for _, w := range []string{`"action":"GetChatappVerifyCode"`, `"action":"ChatappVerifyAndRegister"`, `"account":"300000000001"`, `"outcome":"VerifyCode.Mismatch"`, `"to":`} {
		if !strings.Contains(logs, w) {
			t.Fatalf("the log lacks %s:\n%s", w, logs)
		}
	}
	forbidden := append([]string{fullSecret, "wrong-secret-value", "91234567"}, numbers...)
	for _, n := range numbers {
		forbidden = append(forbidden, n[3:]) // the national number
	}
	for _, m := range s.Messages(t) {
		forbidden = append(forbidden, m.Code)
	}
	for _, f := range forbidden {
		if strings.Contains(logs, f) {
			t.Errorf("the log contains %q", f)
		}
	}
}

// countingStore records the limiter keys and nonce claims of the front door,
// over the real embedded store.
type countingStore struct {
	*memstore.Store
	mu     sync.Mutex
	rates  map[string]int
	claims int
}

func (c *countingStore) Allow(ctx context.Context, r store.Rate, now time.Time) (bool, error) {
	c.mu.Lock()
	c.rates[r.Key]++
	c.mu.Unlock()
	return c.Store.Allow(ctx, r, now)
}

func (c *countingStore) Claim(ctx context.Context, key string, ttl time.Duration, now time.Time) (bool, error) {
	c.mu.Lock()
	c.claims++
	c.mu.Unlock()
	return c.Store.Claim(ctx, key, ttl, now)
}

// TestInvalidRequestsAreThrottled: the cloud throttles at its gateway, before
// any validation, so requests refused for their parameters count against the
// 10 a second as well, and so do requests for actions that do not exist
// (in one bucket per account, whatever names they make up). Refused requests
// store no nonce.
func TestInvalidRequestsAreThrottled(t *testing.T) {
	st := &countingStore{Store: memstore.New(), rates: map[string]int{}}
	s := apitest.Start(t, withTestAccounts(t), func(_ *config.Config, o *app.Options) { o.Store = st })
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for range 16 {
		wg.Go(func() {
			c := s.Alibaba(t, acsclient.Options{AccessKeyID: fullAK, AccessKeySecret: fullSecret})
			_, err := c.Call(get, ver, map[string]any{"CustSpaceId": spaceA, "PhoneNumber": "123", "Method": "sms", "Locale": "en"})
			mu.Lock()
			codes[sdkCode(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes["InvalidParameter"] != 10 || codes["System.LimitControl"] != 6 {
		t.Errorf("16 concurrent sends with a bad number in one second: %v, want 10 InvalidParameter and 6 System.LimitControl", codes)
	}

	// Requests that reached the handler claimed their nonce (they passed
	// every check before it); the refusals below never get that far.
	st.mu.Lock()
	claimed := st.claims
	st.mu.Unlock()

	s.Clock.Advance(2 * time.Second)
	c := s.Alibaba(t, acsclient.Options{AccessKeyID: fullAK, AccessKeySecret: fullSecret})
	codes = map[string]int{}
	for i := range 15 {
		_, err := c.Call(fmt.Sprintf("MadeUpAction%d", i), ver, map[string]any{"CustSpaceId": spaceA})
		codes[sdkCode(err)]++
	}
	// An action that does not exist is not CAMS's: the gateway's own code.
	if codes["InvalidAction.NotFound"] != 10 || codes["Throttling.User"] != 5 {
		t.Errorf("15 calls of made-up actions in one second: %v, want 10 InvalidAction.NotFound and 5 Throttling.User", codes)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.claims != claimed {
		t.Errorf("requests for made-up actions stored %d nonces", st.claims-claimed)
	}
	if len(st.rates) != 2 {
		t.Errorf("limiter keys %v, want one for GetChatappVerifyCode and one for everything unrouted", st.rates)
	}
}
