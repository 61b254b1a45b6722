package tcapi_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/tcapi"
	"github.com/verifyfn/verifyfn/shared/tcauth"
)

const (
	svc     = "intlpartnersmgt"
	ver     = "2022-09-28"
	okBody  = `{"CountryCode":"852","PhoneNum":"51234567"}`
	actSend = "SendVerifyCode"
)

func sdkCode(t *testing.T, err error) string {
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

func signed(s *apitest.Server) apitest.SignedRequest {
	return apitest.SignedRequest{
		Host: s.Host, Service: svc, Action: actSend, Version: ver, Body: []byte(okBody), Timestamp: s.Clock.Now().Unix(),
	}
}

func TestSDKSignatureVariants(t *testing.T) {
	s := apitest.Start(t)
	for i, o := range []tcclient.Options{
		{Method: "POST", SignMethod: "TC3-HMAC-SHA256"},
		{Method: "GET", SignMethod: "TC3-HMAC-SHA256"},
		{Method: "POST", SignMethod: "HmacSHA256"},
		{Method: "GET", SignMethod: "HmacSHA256"},
		{Method: "POST", SignMethod: "HmacSHA1"},
		{Method: "GET", SignMethod: "HmacSHA1"},
	} {
		c := s.Tencent(o)
		num := "5123456" + strconv.Itoa(i)
		if _, err := c.Call(svc, ver, actSend, map[string]any{"CountryCode": "852", "PhoneNum": num}); err != nil {
			t.Errorf("%s %s: %v", o.Method, o.SignMethod, err)
			continue
		}
		if code := s.LastCode(t, "+852"+num); len(code) != 6 {
			t.Errorf("%s %s: no code delivered", o.Method, o.SignMethod)
		}
		// A wrong secret with the same method fails with SignatureFailure.
		o.SecretID, o.SecretKey = accounts.DevSecretID, "wrong-secret"
		if got := sdkCode(t, func() error {
			_, err := s.Tencent(o).Call(svc, ver, actSend, map[string]any{"CountryCode": "852", "PhoneNum": "59999999"})
			return err
		}()); got != tcapi.CodeSignatureFailure {
			t.Errorf("%s %s with a wrong secret: %q", o.Method, o.SignMethod, got)
		}
	}
}

func TestCommonErrors(t *testing.T) {
	s := apitest.Start(t)
	now := s.Clock.Now().Unix()
	cases := []struct {
		name string
		req  func() *http.Request
		want string
	}{
		{"valid", func() *http.Request { return signed(s).Build(t) }, ""},
		{"tampered body", func() *http.Request {
			r := signed(s).Build(t)
			r.Body = ioNop(`{"CountryCode":"852","PhoneNum":"51234568"}`)
			return r
		}, tcapi.CodeSignatureFailure},
		{"tampered content-type", func() *http.Request {
			r := signed(s).Build(t)
			r.Header.Set("Content-Type", "application/json; charset=utf-8")
			return r
		}, tcapi.CodeSignatureFailure},
		{"tampered host", func() *http.Request {
			r := signed(s).Build(t)
			r.Host = "evil.example.com"
			return r
		}, tcapi.CodeSignatureFailure},
		{"host of another product", func() *http.Request {
			sr := signed(s)
			sr.Host = "smh.tencentcloudapi.com"
			r := sr.Build(t)
			r.URL.Host = s.Host
			return r
		}, tcapi.CodeSignatureFailure},
		{"wrong secret", func() *http.Request {
			sr := signed(s)
			sr.SecretID, sr.SecretKey = accounts.DevSecretID, "not-the-secret"
			return sr.Build(t)
		}, tcapi.CodeSignatureFailure},
		{"unknown SecretId", func() *http.Request {
			sr := signed(s)
			sr.SecretID = "AKIDUNKNOWN"
			return sr.Build(t)
		}, tcapi.CodeSecretIDNotFound},
		{"SecretId with a space", func() *http.Request {
			sr := signed(s)
			sr.SecretID = accounts.DevSecretID + " "
			return sr.Build(t)
		}, tcapi.CodeSecretIDNotFound},
		{"timestamp 301 s old", func() *http.Request {
			sr := signed(s)
			sr.Timestamp = now - 301
			return sr.Build(t)
		}, tcapi.CodeSignatureExpire},
		{"timestamp 301 s ahead", func() *http.Request {
			sr := signed(s)
			sr.Timestamp = now + 301
			return sr.Build(t)
		}, tcapi.CodeSignatureExpire},
		{"timestamp 299 s old", func() *http.Request {
			sr := signed(s)
			sr.Timestamp = now - 299
			sr.Body = []byte(`{"CountryCode":"852","PhoneNum":"51234569"}`)
			return sr.Build(t)
		}, ""},
		{"wrong date in scope", func() *http.Request {
			sr := signed(s)
			sr.Date = time.Unix(now, 0).UTC().AddDate(0, 0, -1).Format(time.DateOnly)
			return sr.Build(t)
		}, tcapi.CodeSignatureFailure},
		{"missing Authorization", func() *http.Request {
			r := signed(s).Build(t)
			r.Header.Del("Authorization")
			return r
		}, tcapi.CodeInvalidAuthorization},
		{"garbled Authorization", func() *http.Request {
			r := signed(s).Build(t)
			r.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential=x, Signature=y")
			return r
		}, tcapi.CodeInvalidAuthorization},
		{"Authorization of another scheme", func() *http.Request {
			r := signed(s).Build(t)
			r.Header.Set("Authorization", "Bearer abc")
			return r
		}, tcapi.CodeInvalidAuthorization},
		{"missing X-TC-Timestamp", func() *http.Request {
			r := signed(s).Build(t)
			r.Header.Del("X-TC-Timestamp")
			return r
		}, tcapi.CodeMissingParameter},
		{"temporary token", func() *http.Request {
			r := signed(s).Build(t)
			r.Header.Set("X-TC-Token", "sts-token")
			return r
		}, tcapi.CodeTokenFailure},
		{"unknown action", func() *http.Request {
			sr := signed(s)
			sr.Action = "DescribeNothing"
			return sr.Build(t)
		}, tcapi.CodeInvalidAction},
		{"unknown service", func() *http.Request {
			sr := signed(s)
			sr.Service = "cvm"
			return sr.Build(t)
		}, tcapi.CodeInvalidAction},
		{"unknown version", func() *http.Request {
			sr := signed(s)
			sr.Version = "2020-01-01"
			return sr.Build(t)
		}, tcapi.CodeNoSuchVersion},
		{"malformed JSON", func() *http.Request {
			sr := signed(s)
			sr.Body = []byte(`{"CountryCode":`)
			return sr.Build(t)
		}, tcapi.CodeInvalidParameter},
		{"JSON array body", func() *http.Request {
			sr := signed(s)
			sr.Body = []byte(`[1,2]`)
			return sr.Build(t)
		}, tcapi.CodeInvalidParameter},
		{"undefined parameter", func() *http.Request {
			sr := signed(s)
			sr.Body = []byte(`{"CountryCode":"852","PhoneNum":"51234567","Foo":1}`)
			return sr.Build(t)
		}, tcapi.CodeUnknownParameter},
		{"PUT", func() *http.Request {
			sr := signed(s)
			sr.Method = http.MethodPut
			return sr.Build(t)
		}, tcapi.CodeUnsupportedProtocol},
		{"DELETE", func() *http.Request {
			sr := signed(s)
			sr.Method = http.MethodDelete
			return sr.Build(t)
		}, tcapi.CodeUnsupportedProtocol},
		{"multipart body", func() *http.Request {
			sr := signed(s)
			sr.ContentType = "multipart/form-data; boundary=x"
			return sr.Build(t)
		}, tcapi.CodeUnsupportedProtocol},
		{"JSON body one byte over the action's limit", func() *http.Request {
			sr := signed(s)
			sr.Body = bytes.Repeat([]byte(" "), tcapi.DefaultMaxBody+1)
			return sr.Build(t)
		}, tcapi.CodeRequestSizeLimitExceeded},
		{"JSON body of exactly the action's limit", func() *http.Request {
			sr := signed(s)
			sr.Body = append([]byte(okBody[:len(okBody)-1]+`,"Pad":"`), bytes.Repeat([]byte("x"), tcapi.DefaultMaxBody-len(okBody)-10)...)
			sr.Body = append(sr.Body, `"}`...)
			return sr.Build(t)
		}, tcapi.CodeUnknownParameter},
		{"form body one byte over the limit", func() *http.Request {
			sr := signed(s)
			sr.ContentType = "application/x-www-form-urlencoded"
			sr.Body = bytes.Repeat([]byte("a"), tcapi.DefaultMaxBody+1)
			return sr.Build(t)
		}, tcapi.CodeRequestSizeLimitExceeded},
		{"duplicate JSON name", func() *http.Request {
			sr := signed(s)
			sr.Body = []byte(`{"CountryCode":"852","PhoneNum":"51234567","PhoneNum":"51234568"}`)
			return sr.Build(t)
		}, "InvalidParameterValue"}, // intlpartnersmgt's parameter error
		{"invalid UTF-8 in a JSON string", func() *http.Request {
			sr := signed(s)
			sr.Body = []byte("{\"CountryCode\":\"852\",\"PhoneNum\":\"5123\xff4567\"}")
			return sr.Build(t)
		}, "InvalidParameterValue"}, // intlpartnersmgt's parameter error
		{"lone surrogate escape in a JSON string", func() *http.Request {
			sr := signed(s)
			sr.Body = []byte(`{"CountryCode":"852","PhoneNum":"5123\ud8004567"}`)
			return sr.Build(t)
		}, "InvalidParameterValue"}, // intlpartnersmgt's parameter error
		{"nested JSON value", func() *http.Request {
			sr := signed(s)
			sr.Body = []byte(`{"CountryCode":{"a":[1]},"PhoneNum":"51234567"}`)
			return sr.Build(t)
		}, tcapi.CodeInvalidParameter},
		{"trailing data after the JSON object", func() *http.Request {
			sr := signed(s)
			sr.Body = []byte(okBody + ` {}`)
			return sr.Build(t)
		}, tcapi.CodeInvalidParameter},
		{"query over 32 KB", func() *http.Request {
			sr := signed(s)
			sr.Method = http.MethodGet
			sr.ContentType = "application/x-www-form-urlencoded"
			sr.Body = nil
			sr.RawQuery = "Pad=" + strings.Repeat("a", tcapi.MaxQuery)
			return sr.Build(t)
		}, tcapi.CodeRequestSizeLimitExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := apitest.Do(t, tc.req()).Code(); got != tc.want {
				t.Fatalf("code = %q, want %q", got, tc.want)
			}
		})
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

func ioNop(s string) nopCloser { return nopCloser{strings.NewReader(s)} }

// v1 builds a signature v1 form POST.
func v1(t *testing.T, s *apitest.Server, secret string, p map[string]string) *http.Request {
	t.Helper()
	p["Signature"] = tcauth.V1Signature([]byte(secret), p["SignatureMethod"], tcauth.V1StringToSign("POST", s.Host, p))
	form := url.Values{}
	for k, v := range p {
		form.Set(k, v)
	}
	r, err := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func v1Params(s *apitest.Server, num string) map[string]string {
	return map[string]string{
		"Action": actSend, "Version": ver, "Timestamp": strconv.FormatInt(s.Clock.Now().Unix(), 10), "Nonce": "48213",
		"SecretId": accounts.DevSecretID, "SignatureMethod": "HmacSHA256", "CountryCode": "852", "PhoneNum": num,
	}
}

func TestV1Errors(t *testing.T) {
	s := apitest.Start(t)
	replayed := v1Params(s, "51230001")
	first := v1(t, s, accounts.DevSecretKey, replayed)
	if got := apitest.Do(t, first).Code(); got != "" {
		t.Fatalf("first v1 request: %q", got)
	}
	if got := apitest.Do(t, v1(t, s, accounts.DevSecretKey, replayed)).Code(); got != tcapi.CodeSignatureFailure {
		t.Fatalf("replayed Nonce: %q, want %s", got, tcapi.CodeSignatureFailure)
	}
	p := v1Params(s, "51230002")
	delete(p, "Nonce")
	if got := apitest.Do(t, v1(t, s, accounts.DevSecretKey, p)).Code(); got != tcapi.CodeMissingParameter {
		t.Fatalf("missing Nonce: %q", got)
	}
	p = v1Params(s, "51230003")
	p["Timestamp"] = strconv.FormatInt(s.Clock.Now().Unix()-301, 10)
	if got := apitest.Do(t, v1(t, s, accounts.DevSecretKey, p)).Code(); got != tcapi.CodeSignatureExpire {
		t.Fatalf("old Timestamp: %q", got)
	}
	p = v1Params(s, "51230004")
	p["SecretId"] = "AKIDNOPE"
	if got := apitest.Do(t, v1(t, s, accounts.DevSecretKey, p)).Code(); got != tcapi.CodeSecretIDNotFound {
		t.Fatalf("unknown SecretId: %q", got)
	}
	p = v1Params(s, "51230005")
	r := v1(t, s, accounts.DevSecretKey, p)
	body := strings.Replace(readAll(t, r), "51230005", "51230006", 1)
	r.Body, r.ContentLength = ioNop(body), int64(len(body))
	if got := apitest.Do(t, r).Code(); got != tcapi.CodeSignatureFailure {
		t.Fatalf("tampered v1 body: %q", got)
	}
	r, _ = http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader("CountryCode=852&PhoneNum=51234567&Action=SendVerifyCode&Version=2022-09-28"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if got := apitest.Do(t, r).Code(); got != tcapi.CodeInvalidAuthorization {
		t.Fatalf("unsigned form: %q", got)
	}
}

func readAll(t *testing.T, r *http.Request) string {
	var b bytes.Buffer
	if _, err := b.ReadFrom(r.Body); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

const limitedYAML = `
accounts:
  - id: "300000000001"
    credentials:
      - id: AKIDSMHONLY
        secret: smh-only-secret
        actions: ["smh:*"]
      - id: AKIDSENDONLY
        secret: send-only-secret
        actions: ["intlpartnersmgt:SendVerifyCode"]
    products: [smh, intlpartnersmgt]
  - id: "300000000002"
    credentials:
      - id: AKIDNOPRODUCT
        secret: no-product-secret
        actions: ["*"]
    products: [smh]
`

func TestAuthorization(t *testing.T) {
	reg, err := accounts.Parse("limited.yaml", []byte(limitedYAML), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	s := apitest.Start(t, apitest.WithAccounts(reg))
	call := func(id, secret, num string) string {
		_, err := s.Tencent(tcclient.Options{SecretID: id, SecretKey: secret}).Call(svc, ver, actSend, map[string]any{"CountryCode": "852", "PhoneNum": num})
		return sdkCode(t, err)
	}
	if got := call("AKIDSMHONLY", "smh-only-secret", "51234567"); got != tcapi.CodeUnauthorizedOperation {
		t.Errorf("credential without the action: %q", got)
	}
	if got := call("AKIDSENDONLY", "send-only-secret", "51234567"); got != "" {
		t.Errorf("credential with exactly the action: %q", got)
	}
	if got := call("AKIDNOPRODUCT", "no-product-secret", "51234568"); got != tcapi.CodeUnauthorizedOperation {
		t.Errorf("account without the product: %q", got)
	}
}

func TestTemporaryTokenThroughSDK(t *testing.T) {
	s := apitest.Start(t)
	cp := profile.NewClientProfile()
	cp.HttpProfile.Endpoint, cp.HttpProfile.Scheme = s.Host, "HTTP"
	c := common.NewCommonClient(common.NewTokenCredential(accounts.DevSecretID, accounts.DevSecretKey, "sts-token"), "", cp)
	req := tchttp.NewCommonRequest(svc, ver, actSend)
	req.SetActionParameters(map[string]any{"CountryCode": "852", "PhoneNum": "51234567"})
	err := c.Send(req, tchttp.NewCommonResponse())
	if got := sdkCode(t, err); got != tcapi.CodeTokenFailure {
		t.Fatalf("code = %q, want %s", got, tcapi.CodeTokenFailure)
	}
}

func TestInternalErrorKeepsCauseOutOfResponse(t *testing.T) {
	failing := delivery.SenderFunc(func(context.Context, delivery.Message) error {
		return errors.New("smtp: 535 secret-detail")
	})
	s := apitest.Start(t, func(_ *config.Config, o *app.Options) { o.Sender = failing })
	_, err := s.Tencent(tcclient.Options{}).Call(svc, ver, actSend, map[string]any{"CountryCode": "852", "PhoneNum": "51234567"})
	var e *tcerr.TencentCloudSDKError
	if !errors.As(err, &e) || e.Code != tcapi.CodeInternalError {
		t.Fatalf("err = %v, want InternalError", err)
	}
	if strings.Contains(e.Message, "secret-detail") {
		t.Fatalf("the cause leaked into the response: %q", e.Message)
	}
	if !strings.Contains(s.Logs(), "secret-detail") {
		t.Fatalf("the cause is not in the log:\n%s", s.Logs())
	}
}

// TestLogsHoldNoCodeSecretOrNumber runs a full exchange and greps the log.
func TestLogsHoldNoCodeSecretOrNumber(t *testing.T) {
	s := apitest.Start(t)
	c := s.Tencent(tcclient.Options{})
	for _, num := range []string{"51234567", "61234567"} {
		if _, err := c.Call(svc, ver, actSend, map[string]any{"CountryCode": "852", "PhoneNum": num}); err != nil {
			t.Fatal(err)
		}
	}
	c.Call(svc, ver, actSend, map[string]any{"CountryCode": "852", "PhoneNum": "51234567"})
	s.Tencent(tcclient.Options{SecretID: accounts.DevSecretID, SecretKey: "wrong-secret-value"}).Call(svc, ver, actSend, map[string]any{"CountryCode": "852", "PhoneNum": "71234567"})
	logs := s.Logs()
	if !strings.Contains(logs, `"action":"SendVerifyCode"`) || !strings.Contains(logs, `"request_id"`) {
		t.Fatalf("the log lacks request lines:\n%s", logs)
	}
	forbidden := []string{accounts.DevSecretKey, "wrong-secret-value", "51234567", "61234567", "71234567"}
	for _, m := range s.Messages(t) {
		forbidden = append(forbidden, m.Code)
	}
	for _, f := range forbidden {
		if strings.Contains(logs, f) {
			t.Errorf("the log contains %q:\n%s", f, logs)
		}
	}
}
