package control_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alibabacloud-go/tea/tea"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/verifyfn/verifyfn/internal/acsclient"
	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/control"
	"github.com/verifyfn/verifyfn/shared/services/cams"
	"github.com/verifyfn/verifyfn/shared/services/domain"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
	"github.com/verifyfn/verifyfn/shared/services/smh"
	"github.com/verifyfn/verifyfn/shared/store"
)

// kit is a verifyfn under test with the official SDK clients and a client of
// its control plane.
type kit struct {
	*apitest.Server
	tc    *tcclient.Client
	acs   *acsclient.Client
	token string
}

func start(t *testing.T, opts ...apitest.Option) *kit {
	t.Helper()
	s := apitest.Start(t, opts...)
	return newKit(t, s)
}

func newKit(t *testing.T, s *apitest.Server) *kit {
	return &kit{Server: s, tc: s.Tencent(tcclient.Options{Language: "en-US"}), acs: s.Alibaba(t, acsclient.Options{})}
}

// generous is a configuration for tests that send many codes: caps no test
// reaches.
func generous(c *config.Config) {
	c.Windows = []store.Window{{Period: time.Hour, Max: 1000}}
	c.RateLimit, c.CAMSRateLimit = 1000, 1000
}

// do calls the control plane and returns the status and the raw body.
func (k *kit) do(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, k.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if k.token != "" {
		req.Header.Set("Authorization", "Bearer "+k.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusNoContent && resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s %s: Content-Type %q", method, path, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, out
}

// must calls the control plane, requires status want and decodes the body
// into out (when not nil).
func (k *kit) must(t *testing.T, want int, method, path string, body, out any) {
	t.Helper()
	status, b := k.do(t, method, path, body)
	if status != want {
		t.Fatalf("%s %s: HTTP %d %s, want %d", method, path, status, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// refused calls the control plane, requires a 4xx status want and returns
// the error message.
func (k *kit) refused(t *testing.T, want int, method, path string, body any) string {
	t.Helper()
	var e struct{ Error string }
	k.must(t, want, method, path, body, &e)
	if e.Error == "" {
		t.Fatalf("%s %s: no error message", method, path)
	}
	return e.Error
}

func (k *kit) messages(t *testing.T, query string) []control.Message {
	t.Helper()
	var out struct{ Messages []control.Message }
	k.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/messages"+query, nil, &out)
	return out.Messages
}

// latest waits up to 10 s for the newest message to a destination.
func (k *kit) latest(t *testing.T, to string) control.Message {
	t.Helper()
	var m control.Message
	k.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/messages/latest?wait=10s&to="+queryEscape(to), nil, &m)
	return m
}

func (k *kit) fault(t *testing.T, f map[string]any) control.Fault {
	t.Helper()
	var out control.Fault
	k.must(t, http.StatusCreated, http.MethodPost, "/_verifyfn/faults", f, &out)
	return out
}

func (k *kit) advance(t *testing.T, d time.Duration) control.Clock {
	t.Helper()
	var c control.Clock
	k.must(t, http.StatusOK, http.MethodPost, "/_verifyfn/clock", map[string]string{"advance": d.String()}, &c)
	return c
}

func (k *kit) reset(t *testing.T, account string) {
	t.Helper()
	var body any
	if account != "" {
		body = map[string]string{"account": account}
	}
	k.must(t, http.StatusNoContent, http.MethodPost, "/_verifyfn/reset", body, nil)
}

func queryEscape(s string) string {
	return strings.NewReplacer("+", "%2B", " ", "%20", "@", "%40").Replace(s)
}

// tcCode is the documented code of a Tencent SDK call, "" on success.
func tcCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *tcerr.TencentCloudSDKError
	if !errors.As(err, &e) {
		t.Fatalf("not an API error: %v", err)
	}
	return e.Code
}

// acsCode is the documented code and HTTP status of an Alibaba SDK call.
func acsCode(t *testing.T, err error) (string, int) {
	t.Helper()
	if err == nil {
		return "", http.StatusOK
	}
	var e *tea.SDKError
	if !errors.As(err, &e) {
		t.Fatalf("not an API error: %v", err)
	}
	return tea.StringValue(e.Code), tea.IntValue(e.StatusCode)
}

// The calls every test uses, with the official SDKs.

func (k *kit) sendVerifyCode(t *testing.T, national string) string {
	t.Helper()
	_, err := k.tc.Call(intlpartnersmgt.Name, intlpartnersmgt.Version, "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": national})
	return tcCode(t, err)
}

func (k *kit) createAccount(t *testing.T, national, mail, code string) string {
	t.Helper()
	_, err := k.tc.Call(intlpartnersmgt.Name, intlpartnersmgt.Version, "CreateAccount", map[string]any{
		"AccountType": "personal", "Mail": mail, "Password": "Passw0rd!", "ConfirmPassword": "Passw0rd!",
		"CountryCode": "852", "PhoneNum": national, "Area": "HK", "TradeOne": "kghy_01", "TradeTwo": "kghy_0101", "VerifyCode": code,
	})
	return tcCode(t, err)
}

func (k *kit) sendSmsCode(t *testing.T, purpose, number string) string {
	t.Helper()
	_, err := k.tc.Call(smh.Name, smh.Version, "SendSmsCode", map[string]any{"Purpose": purpose, "InstanceId": accounts.DevInstanceID, "PhoneNumber": number})
	return tcCode(t, err)
}

func (k *kit) verifySmsCode(t *testing.T, purpose, number, code string) string {
	t.Helper()
	_, err := k.tc.Call(smh.Name, smh.Version, "VerifySmsCode", map[string]any{"Purpose": purpose, "InstanceId": accounts.DevInstanceID, "PhoneNumber": number, "Code": code})
	return tcCode(t, err)
}

func (k *kit) sendContactCode(t *testing.T, address string) string {
	t.Helper()
	_, err := k.tc.Call(domain.Name, domain.Version, "SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": address})
	return tcCode(t, err)
}

func (k *kit) createContact(t *testing.T, address, code string) string {
	t.Helper()
	_, err := k.tc.Call(domain.Name, domain.Version, "CreateIntlPhoneEmail", map[string]any{"Type": 2, "Code": address, "VerifyCode": code})
	return tcCode(t, err)
}

func (k *kit) contacts(t *testing.T) int {
	t.Helper()
	resp, err := k.tc.Call(domain.Name, domain.Version, "DescribeIntlPhoneEmailList", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ TotalCount int }
	json.Unmarshal(resp, &out)
	return out.TotalCount
}

func (k *kit) getChatappCode(t *testing.T, number string) (string, int) {
	t.Helper()
	_, err := k.acs.Call(cams.GetChatappVerifyCode, cams.Version, map[string]any{
		"CustSpaceId": accounts.DevCAMSSpace, "PhoneNumber": number, "Method": "sms", "Locale": "en"})
	return acsCode(t, err)
}

func (k *kit) register(t *testing.T, number, code string) (string, int) {
	t.Helper()
	_, err := k.acs.Call(cams.ChatappVerifyAndRegister, cams.Version, map[string]any{
		"CustSpaceId": accounts.DevCAMSSpace, "PhoneNumber": number, "VerifyCode": code})
	return acsCode(t, err)
}
