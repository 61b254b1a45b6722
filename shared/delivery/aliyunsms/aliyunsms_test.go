package aliyunsms_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/acsauth"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/aliyunsms"
)

const (
	accessKeyID     = "LTAI5tAliyunSmsTestKey01"
	accessKeySecret = "AliyunSmsTestSecret0123456789abc"
)

type seen struct {
	Method, RawQuery string
	Header           http.Header
	Params           url.Values // form body
}

// fakeDysms is dysmsapi as documented for the V3 signature: the
// Authorization header is checked with verifyfn's acsauth, the action and
// version with the x-acs-* headers, the parameters in the form body.
type fakeDysms struct {
	mu     sync.Mutex
	reqs   []seen
	answer func(seen) (int, string)
}

func (f *fakeDysms) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	fail := func(status int, code string) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"RequestId": "req-x", "Code": code, "Message": code})
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil || r.Method != http.MethodPost || r.URL.Path != "/" {
		fail(400, "InvalidRequest")
		return
	}
	auth, err := acsauth.ParseACS3Authorization(r.Header.Get("Authorization"))
	if err != nil || auth.AccessKeyID != accessKeyID {
		fail(400, "InvalidAccessKeyId.NotFound")
		return
	}
	for _, h := range []string{"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"} {
		if !auth.Signs(h) {
			fail(400, "IncompleteSignature")
			return
		}
	}
	hashed := acsauth.HashPayload(body)
	if r.Header.Get("x-acs-content-sha256") != hashed {
		fail(400, "IncompleteSignature")
		return
	}
	if err := acsauth.VerifyACS3Request([]byte(accessKeySecret), auth, r.Method, query, r.Host, r.Header, hashed); err != nil {
		fail(400, "SignatureDoesNotMatch")
		return
	}
	if r.Header.Get("x-acs-action") != "SendSms" || r.Header.Get("x-acs-version") != "2017-05-25" {
		fail(404, "InvalidAction.NotFound")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		fail(400, "InvalidParameter")
		return
	}
	params, err := url.ParseQuery(string(body))
	if err != nil {
		fail(400, "InvalidParameter")
		return
	}
	s := seen{Method: r.Method, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Params: params}
	f.mu.Lock()
	f.reqs = append(f.reqs, s)
	answer := f.answer
	f.mu.Unlock()
	if answer != nil {
		status, resp := answer(s)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, resp)
		return
	}
	_, _ = io.WriteString(w, `{"Message":"OK","RequestId":"req-1","Code":"OK","BizId":"9006197469364984400"}`)
}

func (f *fakeDysms) last(t *testing.T) seen {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("the fake saw no valid request")
	}
	return f.reqs[len(f.reqs)-1]
}

func newSender(t *testing.T, f *fakeDysms, edit func(*aliyunsms.Config)) *aliyunsms.Sender {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg := aliyunsms.Config{
		AccessKeyID: accessKeyID, AccessKeySecret: accounts.NewSecret(accessKeySecret), Endpoint: srv.URL,
		SignName: "阿里云短信测试", TemplateCode: "SMS_154950909", HTTPClient: srv.Client(),
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := aliyunsms.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func message() delivery.Message {
	return delivery.Message{Channel: delivery.SMS, To: "+8613800138000", Code: "271828", Locale: "zh_CN", TTL: 10 * time.Minute}
}

func TestSendSms(t *testing.T) {
	f := &fakeDysms{}
	s := newSender(t, f, nil)
	if err := s.Send(context.Background(), message()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := f.last(t)
	if got := r.Params.Get("PhoneNumbers"); got != "8613800138000" {
		t.Fatalf("PhoneNumbers %q", got)
	}
	if r.Params.Get("SignName") != "阿里云短信测试" || r.Params.Get("TemplateCode") != "SMS_154950909" {
		t.Fatalf("params %v", r.Params)
	}
	var tp map[string]string
	if err := json.Unmarshal([]byte(r.Params.Get("TemplateParam")), &tp); err != nil || len(tp) != 1 || tp["code"] != "271828" {
		t.Fatalf("TemplateParam %q", r.Params.Get("TemplateParam"))
	}
	if strings.Contains(r.RawQuery, "271828") {
		t.Fatal("the code travelled in the URL")
	}
}

func TestMinutesParamAndLocale(t *testing.T) {
	f := &fakeDysms{}
	s := newSender(t, f, func(c *aliyunsms.Config) {
		c.CodeParam, c.MinutesParam = "number", "min"
		c.TemplateCodes = map[string]string{"en": "SMS_EN"}
	})
	m := message()
	m.To, m.Locale = "+85251234567", "en"
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r := f.last(t)
	var tp map[string]string
	_ = json.Unmarshal([]byte(r.Params.Get("TemplateParam")), &tp)
	if tp["number"] != "271828" || tp["min"] != "10" || r.Params.Get("TemplateCode") != "SMS_EN" || r.Params.Get("PhoneNumbers") != "85251234567" {
		t.Fatalf("params %v", r.Params)
	}
}

func TestBusinessError(t *testing.T) {
	f := &fakeDysms{answer: func(seen) (int, string) {
		return 200, `{"Message":"触发号码天级流控 271828","RequestId":"req-2","Code":"isv.BUSINESS_LIMIT_CONTROL"}`
	}}
	err := newSender(t, f, nil).Send(context.Background(), message())
	if err == nil || !strings.Contains(err.Error(), "isv.BUSINESS_LIMIT_CONTROL") {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(err.Error(), "271828") {
		t.Fatalf("the error quotes the code: %v", err)
	}
}

func TestHTTPError(t *testing.T) {
	f := &fakeDysms{answer: func(seen) (int, string) {
		return 400, `{"Message":"Specified signature is invalid.","RequestId":"req-3","Code":"isv.SMS_SIGNATURE_ILLEGAL"}`
	}}
	err := newSender(t, f, nil).Send(context.Background(), message())
	if err == nil || !strings.Contains(err.Error(), "SMS_SIGNATURE_ILLEGAL") {
		t.Fatalf("err %v", err)
	}
}

func TestWrongSecretFailsSignature(t *testing.T) {
	f := &fakeDysms{}
	s := newSender(t, f, func(c *aliyunsms.Config) { c.AccessKeySecret = accounts.NewSecret("WrongSecret0000000000000000000") })
	err := s.Send(context.Background(), message())
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(err.Error(), "WrongSecret") || strings.Contains(err.Error(), "271828") {
		t.Fatalf("the error leaks: %v", err)
	}
}

func TestContextCancelled(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	t.Cleanup(func() { close(block); srv.Close() })
	s, err := aliyunsms.New(aliyunsms.Config{
		AccessKeyID: accessKeyID, AccessKeySecret: accounts.NewSecret(accessKeySecret), Endpoint: srv.URL,
		SignName: "x", TemplateCode: "SMS_1",
		Timeout: time.Hour, // only the caller's context can end the call
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, message())
	if err == nil || time.Since(start) > 30*time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
	if strings.Contains(err.Error(), "271828") {
		t.Fatalf("the error quotes the code: %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	_, err := aliyunsms.New(aliyunsms.Config{Endpoint: "dysmsapi.aliyuncs.com"})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"access_key_id", "access_key_secret", "sign_name", "template_code", "endpoint"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// TestSameRequestAsTheSDK: the sender's request is the one the official
// generic client (darabonba-openapi/v2 CallApi, RPC style, form body) sends
// for the same parameters: the same form, the same headers signed, the same
// action and version; both verify with the fake's ACS3 check.
func TestSameRequestAsTheSDK(t *testing.T) {
	f := &fakeDysms{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	s, err := aliyunsms.New(aliyunsms.Config{
		AccessKeyID: accessKeyID, AccessKeySecret: accounts.NewSecret(accessKeySecret), Endpoint: srv.URL,
		SignName: "阿里云短信测试", TemplateCode: "SMS_154950909", HTTPClient: srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	ours := f.last(t)

	u, _ := url.Parse(srv.URL)
	client, err := openapi.NewClient(&openapi.Config{
		AccessKeyId: dara.String(accessKeyID), AccessKeySecret: dara.String(accessKeySecret),
		Endpoint: dara.String(u.Host), Protocol: dara.String("http"),
	})
	if err != nil {
		t.Fatal(err)
	}
	params := &openapi.Params{
		Action: dara.String("SendSms"), Version: dara.String("2017-05-25"), Protocol: dara.String("HTTPS"),
		Pathname: dara.String("/"), Method: dara.String(http.MethodPost), AuthType: dara.String("AK"),
		Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json"),
	}
	body := map[string]any{}
	for k, v := range ours.Params {
		body[k] = v[0]
	}
	if _, err := client.CallApiWithCtx(context.Background(), params, &openapi.OpenApiRequest{Body: body}, &dara.RuntimeOptions{}); err != nil {
		t.Fatalf("the SDK's request: %v", err)
	}
	sdk := f.last(t)
	if ours.Params.Encode() != sdk.Params.Encode() || ours.RawQuery != sdk.RawQuery {
		t.Errorf("form %q query %q, the SDK's %q %q", ours.Params.Encode(), ours.RawQuery, sdk.Params.Encode(), sdk.RawQuery)
	}
	// x-acs-credentials-provider names where the SDK took its keys from
	// ("static"); the API does not read it.
	signed := func(h http.Header) string {
		a, _ := acsauth.ParseACS3Authorization(h.Get("Authorization"))
		var names []string
		for _, n := range a.SignedHeaders {
			if n != "x-acs-credentials-provider" {
				names = append(names, n)
			}
		}
		return strings.Join(names, ";")
	}
	if signed(ours.Header) != signed(sdk.Header) {
		t.Errorf("signed headers %s, the SDK's %s", signed(ours.Header), signed(sdk.Header))
	}
	for _, h := range []string{"x-acs-action", "x-acs-version", "Content-Type"} {
		if ours.Header.Get(h) != sdk.Header.Get(h) {
			t.Errorf("%s %q, the SDK's %q", h, ours.Header.Get(h), sdk.Header.Get(h))
		}
	}
}
