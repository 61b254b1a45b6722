package acsauth_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"

	"github.com/verifyfn/verifyfn/shared/acsauth"
)

const (
	testAK     = "LTAI5tTestAccessKeyId"
	testSecret = "TestAccessKeySecret0123456789ab"
	// tricky exercises the encodings: space, '*', '~', '+', non-ASCII and a
	// few reserved characters.
	tricky = "a b*c~d+中文&x=y/z%"
)

// seen is what the verifying server recorded of one request.
type seen struct {
	Method, RawQuery, Body string
	Header                 http.Header
	Params                 url.Values // decoded query + form body
	Auth                   acsauth.ACS3Authorization
	V3                     bool
	Err                    error
}

// verifier is an httptest handler that checks signatures with acsauth only.
type verifier struct {
	secret []byte
	mu     sync.Mutex
	log    []seen
}

func (v *verifier) last(t *testing.T) seen {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.log) == 0 {
		t.Fatal("server saw no request")
	}
	return v.log[len(v.log)-1]
}

func (v *verifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s := seen{Method: r.Method, RawQuery: r.URL.RawQuery, Body: string(body), Header: r.Header.Clone()}
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err == nil {
		if h := r.Header.Get("Authorization"); h != "" {
			s.V3 = true
			s.Params = params
			s.Auth, err = acsauth.ParseACS3Authorization(h)
			if err == nil {
				hashed := acsauth.HashPayload(body)
				err = acsauth.VerifyACS3Request(v.secret, s.Auth, r.Method, params, r.Host, r.Header, hashed)
				// The two-step API must agree with the fused one.
				cr := acsauth.ACS3CanonicalRequest(r.Method, params, r.Host, r.Header, s.Auth.SignedHeaders, hashed)
				if err2 := acsauth.VerifyACS3(v.secret, s.Auth, cr); !errors.Is(err2, err) {
					err = errors.New("VerifyACS3 and VerifyACS3Request disagree")
				}
			}
		} else {
			if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
				form, ferr := url.ParseQuery(string(body))
				if ferr != nil {
					err = ferr
				}
				for k, vs := range form {
					params[k] = append(params[k], vs...)
				}
			}
			s.Params = params
			if err == nil {
				err = acsauth.VerifyRPC(v.secret, r.Method, params)
			}
		}
	}
	s.Err = err
	v.mu.Lock()
	v.log = append(v.log, s)
	v.mu.Unlock()
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"RequestId": "x",
			"Code":      "SignatureDoesNotMatch",
			"Message":   "Specified signature is not matched with our calculation: " + err.Error(),
		})
		return
	}
	_, _ = io.WriteString(w, `{"RequestId":"x","Code":"OK","Message":"OK","Success":true}`)
}

func newVerifier(t *testing.T, secret string) (*verifier, string) {
	t.Helper()
	v := &verifier{secret: []byte(secret)}
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	return v, strings.TrimPrefix(srv.URL, "http://")
}

func camsQuery() map[string]*string {
	return map[string]*string{
		"CustSpaceId": dara.String("cams-space-1"),
		"PhoneNumber": dara.String("8613800138000"),
		"Method":      dara.String("sms"),
		"Locale":      dara.String("zh_CN"),
		"Note":        dara.String(tricky),
		"Empty":       dara.String(""),
	}
}

func callDarabonba(t *testing.T, host, secret string, v2 bool) (map[string]interface{}, error) {
	t.Helper()
	cfg := &openapi.Config{
		AccessKeyId:     dara.String(testAK),
		AccessKeySecret: dara.String(secret),
		Endpoint:        dara.String(host),
		Protocol:        dara.String("http"),
	}
	if v2 {
		cfg.SignatureAlgorithm = dara.String("v2")
	}
	client, err := openapi.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	params := &openapi.Params{
		Action:      dara.String("GetChatappVerifyCode"),
		Version:     dara.String("2020-06-06"),
		Protocol:    dara.String("HTTP"),
		Pathname:    dara.String("/"),
		Method:      dara.String("POST"),
		AuthType:    dara.String("AK"),
		Style:       dara.String("RPC"),
		ReqBodyType: dara.String("formData"),
		BodyType:    dara.String("json"),
	}
	return client.CallApi(params, &openapi.OpenApiRequest{Query: camsQuery()}, &dara.RuntimeOptions{})
}

func TestDarabonbaV3(t *testing.T) {
	v, host := newVerifier(t, testSecret)
	resp, err := callDarabonba(t, host, testSecret, false)
	if err != nil {
		t.Fatalf("CallApi: %v", err)
	}
	body, _ := resp["body"].(map[string]interface{})
	if body["Code"] != "OK" || body["Success"] != true {
		t.Fatalf("response = %v", resp)
	}
	s := v.last(t)
	t.Logf("V3 wire: %s /?%s\nheaders: %v\nbody: %q\nauth: %+v", s.Method, s.RawQuery, s.Header, s.Body, s.Auth)
	if !s.V3 || s.Method != http.MethodPost || s.Body != "" {
		t.Fatalf("want a V3 POST with an empty body, got V3=%v %s body %q", s.V3, s.Method, s.Body)
	}
	if got := s.Params.Get("Note"); got != tricky {
		t.Fatalf("Note = %q, want %q", got, tricky)
	}
	if got := s.Header.Get(acsauth.HeaderContentSHA256); got != acsauth.EmptyPayloadHash {
		t.Fatalf("x-acs-content-sha256 = %q", got)
	}
	for _, h := range []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"} {
		if !s.Auth.Signs(h) {
			t.Errorf("header %s not signed: %v", h, s.Auth.SignedHeaders)
		}
	}
	if s.Auth.AccessKeyID != testAK {
		t.Errorf("AccessKeyID = %q", s.Auth.AccessKeyID)
	}
}

func TestDarabonbaV2(t *testing.T) {
	v, host := newVerifier(t, testSecret)
	resp, err := callDarabonba(t, host, testSecret, true)
	if err != nil {
		t.Fatalf("CallApi: %v", err)
	}
	body, _ := resp["body"].(map[string]interface{})
	if body["Code"] != "OK" {
		t.Fatalf("response = %v", resp)
	}
	s := v.last(t)
	t.Logf("V2 wire: %s /?%s\nheaders: %v\nbody: %q", s.Method, s.RawQuery, s.Header, s.Body)
	if s.V3 || s.Method != http.MethodPost || s.Body != "" {
		t.Fatalf("want an RPC-signed POST with an empty body, got V3=%v %s body %q", s.V3, s.Method, s.Body)
	}
	if got := s.Params.Get("Note"); got != tricky {
		t.Fatalf("Note = %q, want %q", got, tricky)
	}
	for k, want := range map[string]string{"AccessKeyId": testAK, "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "Action": "GetChatappVerifyCode", "Version": "2020-06-06"} {
		if got := s.Params.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestDarabonbaWrongSecret(t *testing.T) {
	for _, v2 := range []bool{false, true} {
		_, host := newVerifier(t, "another-secret")
		_, err := callDarabonba(t, host, testSecret, v2)
		var sdkErr *tea.SDKError
		if !errors.As(err, &sdkErr) || dara.StringValue(sdkErr.Code) != "SignatureDoesNotMatch" || dara.IntValue(sdkErr.StatusCode) != 400 {
			t.Fatalf("v2=%v: err = %#v, want SDKError SignatureDoesNotMatch", v2, err)
		}
	}
}

func callAliyun(t *testing.T, host, secret, method string) (string, error) {
	t.Helper()
	client, err := sdk.NewClientWithAccessKey("cn-hangzhou", testAK, secret)
	if err != nil {
		t.Fatalf("NewClientWithAccessKey: %v", err)
	}
	req := requests.NewCommonRequest()
	req.Method = method
	req.Scheme = "http"
	req.Domain = host
	req.Version = "2020-06-06"
	req.ApiName = "GetChatappVerifyCode"
	params := req.QueryParams
	if method == requests.POST {
		params = req.FormParams
	}
	params["CustSpaceId"] = "cams-space-1"
	params["PhoneNumber"] = "8613800138000"
	params["Method"] = "sms"
	params["Locale"] = "zh_CN"
	params["Note"] = tricky
	resp, err := client.ProcessCommonRequest(req)
	if err != nil {
		return "", err
	}
	return resp.GetHttpContentString(), nil
}

func TestAliyunCommonRequest(t *testing.T) {
	for _, method := range []string{requests.GET, requests.POST} {
		t.Run(method, func(t *testing.T) {
			v, host := newVerifier(t, testSecret)
			body, err := callAliyun(t, host, testSecret, method)
			if err != nil {
				t.Fatalf("ProcessCommonRequest: %v", err)
			}
			if !strings.Contains(body, `"Code":"OK"`) {
				t.Fatalf("body = %s", body)
			}
			s := v.last(t)
			t.Logf("aliyun %s wire: /?%s\nheaders: %v\nbody: %q", s.Method, s.RawQuery, s.Header, s.Body)
			if s.V3 || s.Method != method {
				t.Fatalf("want an RPC-signed %s, got V3=%v %s", method, s.V3, s.Method)
			}
			if got := s.Params.Get("Note"); got != tricky {
				t.Fatalf("Note = %q, want %q", got, tricky)
			}
			q, _ := url.ParseQuery(s.RawQuery)
			if inQuery := q.Has("Note"); inQuery != (method == requests.GET) {
				t.Errorf("Note in query = %v for %s", inQuery, method)
			}
		})
	}
}

func TestAliyunWrongSecret(t *testing.T) {
	for _, method := range []string{requests.GET, requests.POST} {
		_, host := newVerifier(t, "another-secret")
		_, err := callAliyun(t, host, testSecret, method)
		var srvErr *sdkerrors.ServerError
		if !errors.As(err, &srvErr) || srvErr.ErrorCode() != "SignatureDoesNotMatch" || srvErr.HttpStatus() != 400 {
			t.Fatalf("%s: err = %#v, want ServerError SignatureDoesNotMatch", method, err)
		}
	}
}

// TestSigningHelpers checks that the package's own client-side helpers
// produce requests its verifiers accept, over real HTTP.
func TestSigningHelpers(t *testing.T) {
	v, host := newVerifier(t, testSecret)
	base := "http://" + host
	params := url.Values{"PhoneNumber": {"8613800138000"}, "Note": {tricky}, "Empty": {""}}
	reqs := map[string]func() (*http.Request, error){
		"ACS3": func() (*http.Request, error) {
			return acsauth.ACS3Request{Endpoint: base, Action: "GetChatappVerifyCode", Version: "2020-06-06", Query: params, AccessKeyID: testAK, Secret: []byte(testSecret)}.HTTPRequest(t.Context())
		},
		"ACS3-STS-JSON": func() (*http.Request, error) {
			return acsauth.ACS3Request{Endpoint: base, Action: "A", Version: "V", Query: params, Body: []byte(`{"a":1}`), ContentType: "application/json; charset=utf-8", AccessKeyID: testAK, Secret: []byte(testSecret), SecurityToken: "tok"}.HTTPRequest(t.Context())
		},
		"RPC-GET": func() (*http.Request, error) {
			return acsauth.RPCRequest{Endpoint: base, Action: "A", Version: "V", Params: params, AccessKeyID: testAK, Secret: []byte(testSecret)}.HTTPRequest(t.Context())
		},
		"RPC-POST": func() (*http.Request, error) {
			return acsauth.RPCRequest{Method: http.MethodPost, Endpoint: base, Action: "A", Version: "V", Params: params, AccessKeyID: testAK, Secret: []byte(testSecret), SecurityToken: "tok"}.HTTPRequest(t.Context())
		},
	}
	for name, mk := range reqs {
		t.Run(name, func(t *testing.T) {
			r, err := mk()
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if s := v.last(t); s.Params.Get("Note") != tricky {
				t.Fatalf("Note = %q", s.Params.Get("Note"))
			}
		})
	}
}
