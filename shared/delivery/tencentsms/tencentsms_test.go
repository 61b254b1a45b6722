package tencentsms_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/tencentsms"
	"github.com/verifyfn/verifyfn/shared/tcauth"
)

const (
	secretID  = "AKIDtencentsmstest000000000000000001"
	secretKey = "tencent-sms-test-secret-key-000001"
)

// request is what the fake saw of one SendSms call.
type request struct {
	Header http.Header
	Body   struct {
		SmsSdkAppId      string
		SignName         string
		TemplateId       string
		TemplateParamSet []string
		PhoneNumberSet   []string
	}
	raw map[string]json.RawMessage
}

// fakeSMS is Tencent's SMS API as documented: POST / with a TC3 signature
// over the JSON body, verified here with verifyfn's own tcauth functions
// (the way tcapi's front door does).
type fakeSMS struct {
	mu     sync.Mutex
	reqs   []request
	answer func(r request) string // the Response object, without RequestId
}

func (f *fakeSMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	fail := func(code, msg string) {
		_, _ = io.WriteString(w, `{"Response":{"Error":{"Code":"`+code+`","Message":"`+msg+`"},"RequestId":"req-fail"}}`)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("Content-Type") != "application/json" {
		fail("UnsupportedProtocol", "want POST / application/json")
		return
	}
	a, err := tcauth.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil || a.SecretID != secretID || a.Service != "sms" {
		fail("AuthFailure.InvalidAuthorization", "bad Authorization")
		return
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute || time.Unix(ts, 0).UTC().Format(time.DateOnly) != a.Date {
		fail("AuthFailure.SignatureExpire", "bad timestamp")
		return
	}
	header := func(name string) string {
		if name == "host" {
			return r.Host
		}
		return strings.Join(r.Header.Values(name), ",")
	}
	canon := tcauth.CanonicalRequest(r.Method, "", a.SignedHeaders, header, true, tcauth.HashHex(body))
	if err := tcauth.Verify([]byte(secretKey), a, ts, canon); err != nil {
		fail("AuthFailure.SignatureFailure", "signature mismatch")
		return
	}
	if r.Header.Get("X-TC-Action") != "SendSms" || r.Header.Get("X-TC-Version") != "2021-01-11" {
		fail("InvalidAction", "want SendSms 2021-01-11")
		return
	}
	req := request{Header: r.Header.Clone()}
	if err := json.Unmarshal(body, &req.Body); err != nil {
		fail("InvalidParameter", "body")
		return
	}
	_ = json.Unmarshal(body, &req.raw)
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	answer := f.answer
	f.mu.Unlock()
	resp := `{"SendStatusSet":[{"SerialNo":"2028:1","PhoneNumber":"` + req.Body.PhoneNumberSet[0] + `","Fee":1,"SessionContext":"","Code":"Ok","Message":"send success","IsoCode":"HK"}]}`
	if answer != nil {
		resp = answer(req)
	}
	var obj map[string]json.RawMessage
	_ = json.Unmarshal([]byte(resp), &obj)
	obj["RequestId"] = json.RawMessage(`"req-1"`)
	_ = json.NewEncoder(w).Encode(map[string]any{"Response": obj})
}

func (f *fakeSMS) last(t *testing.T) request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("the fake saw no valid request")
	}
	return f.reqs[len(f.reqs)-1]
}

func newSender(t *testing.T, f *fakeSMS, edit func(*tencentsms.Config)) *tencentsms.Sender {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg := tencentsms.Config{
		SecretID: secretID, SecretKey: accounts.NewSecret(secretKey), Region: "ap-singapore",
		Endpoint: srv.URL, SDKAppID: "1400000001", SignName: "ACME", TemplateID: "100001",
		HTTPClient: srv.Client(),
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := tencentsms.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func message() delivery.Message {
	return delivery.Message{Channel: delivery.SMS, To: "+85251234567", Code: "481516", Locale: "en", TTL: 5 * time.Minute, Text: "Your code is 481516"}
}

func TestSendSms(t *testing.T) {
	f := &fakeSMS{}
	s := newSender(t, f, nil)
	if err := s.Send(context.Background(), message()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := f.last(t)
	if r.Body.SmsSdkAppId != "1400000001" || r.Body.SignName != "ACME" || r.Body.TemplateId != "100001" {
		t.Fatalf("request %+v", r.Body)
	}
	if len(r.Body.PhoneNumberSet) != 1 || r.Body.PhoneNumberSet[0] != "+85251234567" {
		t.Fatalf("PhoneNumberSet %v", r.Body.PhoneNumberSet)
	}
	if len(r.Body.TemplateParamSet) != 1 || r.Body.TemplateParamSet[0] != "481516" {
		t.Fatalf("TemplateParamSet %v", r.Body.TemplateParamSet)
	}
	if r.Header.Get("X-TC-Region") != "ap-singapore" {
		t.Fatalf("X-TC-Region %q", r.Header.Get("X-TC-Region"))
	}
	for k := range r.raw {
		switch k {
		case "SmsSdkAppId", "SignName", "TemplateId", "TemplateParamSet", "PhoneNumberSet":
		default:
			t.Fatalf("undocumented parameter %s", k)
		}
	}
}

func TestTemplateParamsAndLocale(t *testing.T) {
	f := &fakeSMS{}
	s := newSender(t, f, func(c *tencentsms.Config) {
		c.TemplateParams = []string{"code", "minutes"}
		c.TemplateIDs = map[string]string{"zh_CN": "200002"}
		c.SignName = ""
	})
	m := message()
	m.Locale = "zh_CN"
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r := f.last(t)
	if got := r.Body.TemplateParamSet; len(got) != 2 || got[0] != "481516" || got[1] != "5" {
		t.Fatalf("TemplateParamSet %v", got)
	}
	if r.Body.TemplateId != "200002" {
		t.Fatalf("TemplateId %q", r.Body.TemplateId)
	}
	if _, ok := r.raw["SignName"]; ok {
		t.Fatal("an empty SignName was sent")
	}
}

func TestPerNumberFailure(t *testing.T) {
	f := &fakeSMS{answer: func(r request) string {
		return `{"SendStatusSet":[{"SerialNo":"","PhoneNumber":"+85251234567","Fee":0,"Code":"LimitExceeded.PhoneNumberDailyLimit","Message":"the number 481516 hit its daily limit","IsoCode":"HK"}]}`
	}}
	s := newSender(t, f, nil)
	err := s.Send(context.Background(), message())
	if err == nil || !strings.Contains(err.Error(), "LimitExceeded.PhoneNumberDailyLimit") {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(err.Error(), "481516") {
		t.Fatalf("the error quotes the code: %v", err)
	}
}

func TestEmptyStatusSet(t *testing.T) {
	f := &fakeSMS{answer: func(request) string { return `{"SendStatusSet":[]}` }}
	if err := newSender(t, f, nil).Send(context.Background(), message()); err == nil {
		t.Fatal("an answer without a status was taken for success")
	}
}

func TestWrongSecretFailsSignature(t *testing.T) {
	f := &fakeSMS{}
	s := newSender(t, f, func(c *tencentsms.Config) { c.SecretKey = accounts.NewSecret("another-secret-key-0000000000000") })
	err := s.Send(context.Background(), message())
	if err == nil || !strings.Contains(err.Error(), "AuthFailure.SignatureFailure") {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(err.Error(), "another-secret-key") {
		t.Fatal("the error quotes the secret")
	}
	var sdk *tcerr.TencentCloudSDKError
	if errors.As(err, &sdk) {
		t.Fatal("the provider error exposes the SDK error (and its chain)")
	}
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	s, err := tencentsms.New(tencentsms.Config{
		SecretID: secretID, SecretKey: accounts.NewSecret(secretKey), Endpoint: url, SDKAppID: "1", TemplateID: "1", Timeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), message())
	if err == nil || strings.Contains(err.Error(), "481516") || strings.Contains(err.Error(), secretKey) {
		t.Fatalf("err %v", err)
	}
}

func TestContextCancelled(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	t.Cleanup(func() { close(block); srv.Close() })
	s, err := tencentsms.New(tencentsms.Config{
		SecretID: secretID, SecretKey: accounts.NewSecret(secretKey), Endpoint: srv.URL, SDKAppID: "1", TemplateID: "1",
		Timeout: time.Hour, // only the caller's context can end the call
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Send(ctx, message()); err == nil {
		t.Fatal("no error")
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("Send ignored the context for %s", d)
	}
}

func TestConfigValidation(t *testing.T) {
	_, err := tencentsms.New(tencentsms.Config{SecretKey: accounts.NewSecret("top-secret"), Endpoint: "ftp://x/y", TemplateParams: []string{"name"}})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"secret_id", "sdk_app_id", "template_id", "template_params", "endpoint"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "top-secret") {
		t.Fatal("the error quotes the secret")
	}
	if _, err := tencentsms.New(tencentsms.Config{SecretID: "a", SDKAppID: "1", TemplateID: "1"}); err == nil || !strings.Contains(err.Error(), "secret_key") {
		t.Fatalf("missing secret: %v", err)
	}
}

func TestNotAPhoneNumber(t *testing.T) {
	s := newSender(t, &fakeSMS{}, nil)
	m := message()
	m.To = "a@example.com"
	if err := s.Send(context.Background(), m); err == nil {
		t.Fatal("sent an SMS to an email address")
	}
}
