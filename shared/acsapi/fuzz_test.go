package acsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/acsapi"
	"github.com/verifyfn/verifyfn/shared/acsauth"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
)

// The Alibaba front-door fuzzers feed arbitrary requests through the real
// handler (app.New with only cams: the Alibaba front door, the service, the
// engine and the embedded store) and require, for every input, no panic and
// an answer both official SDKs can read: Content-Type exactly
// application/json, a correct Content-Length, HTTP 200 with
// {"RequestId","Code":"OK",...,"Success":true} or HTTP 4xx (5xx only for
// InternalError and ServiceUnavailable) with string RequestId, HostId, Code,
// Message and Recommend, and AccessDeniedDetail, when present, an object.

const fuzzEndpoint = "http://fuzz.local"

func fuzzHandler(tb testing.TB) http.Handler {
	tb.Helper()
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	cfg.CodeKey = []byte("fuzz-code-key-0123456789abcdef")
	cfg.CAMSRateLimit = 1 << 30
	a, err := app.New(cfg, app.Options{
		Services: map[string]bool{"cams": true},
		Sender:   delivery.SenderFunc(func(context.Context, delivery.Message) error { return nil }),
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	return a.Handler
}

// serveFuzz runs one request through h, checks the answer and returns its
// code ("OK" for success).
func serveFuzz(t *testing.T, h http.Handler, r *http.Request) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if ct := rec.Header()["Content-Type"]; len(ct) != 1 || ct[0] != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(body)) {
		t.Fatalf("Content-Length %q for %d bytes", cl, len(body))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		t.Fatalf("not a JSON object: %s", body)
	}
	str := func(name string) string {
		var s string
		if err := json.Unmarshal(top[name], &s); err != nil {
			t.Fatalf("%s is not a string: %s", name, body)
		}
		return s
	}
	if str("RequestId") == "" {
		t.Fatalf("no RequestId: %s", body)
	}
	code := str("Code")
	if rec.Code == http.StatusOK {
		if code != "OK" || string(top["Success"]) != "true" {
			t.Fatalf("HTTP 200 without success: %s", body)
		}
		return code
	}
	if rec.Code < 400 || rec.Code >= 600 {
		t.Fatalf("status %d: %s", rec.Code, body)
	}
	if rec.Code >= 500 && code != acsapi.CodeInternalError && code != acsapi.CodeServiceUnavailable {
		t.Fatalf("status %d for %s: %s", rec.Code, code, body)
	}
	for _, name := range []string{"HostId", "Message", "Recommend"} {
		str(name)
	}
	if code == "" || str("Message") == "" {
		t.Fatalf("empty Code or Message: %s", body)
	}
	if d, ok := top["AccessDeniedDetail"]; ok {
		var obj map[string]string
		if err := json.Unmarshal(d, &obj); err != nil {
			t.Fatalf("AccessDeniedDetail is not an object of strings: %s", body)
		}
	}
	return code
}

// rawRequest builds a request as a server would receive it, without the
// validation http.NewRequest does.
func rawRequest(method, rawQuery string, header http.Header, body []byte) *http.Request {
	return &http.Request{
		Method: method, URL: &url.URL{Path: "/", RawQuery: rawQuery}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Host: "fuzz.local", Header: header, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
		RemoteAddr: "192.0.2.1:1234",
	}
}

// FuzzAlibabaFrontDoor sends arbitrary methods, Authorization headers,
// x-acs-* headers, queries and bodies, unauthenticated: what the front door
// parses before and while it authenticates (the ACS3 header, the RPC query
// and form bodies).
func FuzzAlibabaFrontDoor(f *testing.F) {
	now := time.Now().UTC().Format(acsauth.TimestampLayout)
	acs3 := "ACS3-HMAC-SHA256 Credential=" + accounts.DevSecretID + ",SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=" + string(bytes.Repeat([]byte("ab"), 32))
	f.Add("POST", acs3, "GetChatappVerifyCode", now, "CustSpaceId=cams-kei123&PhoneNumber=85251234567&Method=sms&Locale=en", "", []byte(nil))
	f.Add("POST", "ACS3-HMAC-SM3 Credential=x,SignedHeaders=host,Signature=00", "X", now, "", "", []byte(nil))
	f.Add("POST", "ACS3-HMAC-SHA256 Credential=,SignedHeaders=;;,Signature=", "", "", "", "", []byte(nil))
	f.Add("GET", "", "", "", "Action=GetChatappVerifyCode&Version=2020-06-06&AccessKeyId=x&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&SignatureNonce=1&Timestamp="+url.QueryEscape(now)+"&Signature=x", "", []byte(nil))
	f.Add("POST", "", "", "", "AccessKeyId=x", "application/x-www-form-urlencoded", []byte("Action=ChatappVerifyAndRegister&VerifyCode=123456&a=1&a=2"))
	f.Add("POST", "", "", "", "SignatureNonce=%zz", "application/x-www-form-urlencoded; charset=utf-8", []byte("%ff=%fe"))
	f.Add("POST", "", "", "", "AccessKeyId=x", "application/json", []byte(`{"Locale":"en"}`))
	f.Add("DELETE", acs3, "GetChatappVerifyCode", now, "", "", []byte("x"))
	f.Add("GET", "", "", "", "Timestamp=2026-01-01T00:00:00&SignatureNonce="+string(bytes.Repeat([]byte("n"), 200)), "", []byte(nil))
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, method, authorization, action, date, query, contentType string, body []byte) {
		hdr := http.Header{}
		if authorization != "" {
			hdr["Authorization"] = []string{authorization}
		}
		if action != "" {
			hdr["X-Acs-Action"] = []string{action}
			hdr["X-Acs-Version"] = []string{"2020-06-06"}
			hdr["X-Acs-Signature-Nonce"] = []string{"0123456789abcdef"}
			hdr["X-Acs-Content-Sha256"] = []string{acsauth.HashPayload(body)}
		}
		if date != "" {
			hdr["X-Acs-Date"] = []string{date}
		}
		if contentType != "" {
			hdr["Content-Type"] = []string{contentType}
		}
		serveFuzz(t, h, rawRequest(method, query, hdr, body))
	})
}

// FuzzAlibabaSignedRequest sends requests correctly signed with the
// development credential, ACS3 (mode 0: parameters in the query; 1: in a
// form body) or RPC (2: GET; 3: POST form), with arbitrary parameters: the
// routing, permission and action code behind authentication.
func FuzzAlibabaSignedRequest(f *testing.F) {
	f.Add(uint8(0), "GetChatappVerifyCode", "CustSpaceId=cams-kei123&PhoneNumber=85251234567&Method=sms&Locale=en")
	f.Add(uint8(1), "GetChatappVerifyCode", "CustSpaceId=cams-kei123&PhoneNumber=%2B85251234568&Method=VOICE&Locale=zh_CN")
	f.Add(uint8(2), "ChatappVerifyAndRegister", "CustSpaceId=cams-kei123&PhoneNumber=85251234567&VerifyCode=123456")
	f.Add(uint8(3), "ChatappVerifyAndRegister", "CustSpaceId=cams-kei123&PhoneNumber=85251234567&VerifyCode=%EF%BC%91")
	f.Add(uint8(0), "GetChatappVerifyCode", "CustSpaceId=other&PhoneNumber=1&Method=fax&Locale=xx&OwnerId=1")
	f.Add(uint8(2), "Nope", "Version=1999-01-01")
	f.Add(uint8(3), "GetChatappVerifyCode", "Action=ChatappVerifyAndRegister")
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, mode uint8, action, params string) {
		serveFuzz(t, h, signedFuzzRequest(t, mode, action, params))
	})
}

// signedFuzzRequest builds FuzzAlibabaSignedRequest's request.
func signedFuzzRequest(t *testing.T, mode uint8, action, params string) *http.Request {
	vals, err := url.ParseQuery(params)
	if err != nil {
		vals = url.Values{}
	}
	secret := []byte(accounts.DevSecretKey)
	var r *http.Request
	switch mode % 4 {
	case 0, 1:
		q := acsauth.ACS3Request{Endpoint: fuzzEndpoint, Action: action, Version: "2020-06-06", Query: vals,
			AccessKeyID: accounts.DevSecretID, Secret: secret}
		if mode%4 == 1 {
			q.Query, q.Body, q.ContentType = nil, []byte(vals.Encode()), "application/x-www-form-urlencoded"
		}
		r, err = q.HTTPRequest(context.Background())
	default:
		method := http.MethodGet
		if mode%4 == 3 {
			method = http.MethodPost
		}
		r, err = acsauth.RPCRequest{Method: method, Endpoint: fuzzEndpoint, Action: action, Version: "2020-06-06", Params: vals,
			AccessKeyID: accounts.DevSecretID, Secret: secret}.HTTPRequest(context.Background())
	}
	if err != nil {
		t.Skip(err) // an action or value http.NewRequest refuses never reaches a server
	}
	return r
}

// TestAlibabaSignedFuzzRequests checks the fuzzer's signing: its requests
// pass authentication in every mode and reach the action.
func TestAlibabaSignedFuzzRequests(t *testing.T) {
	h := fuzzHandler(t)
	for mode := range uint8(4) {
		p := "CustSpaceId=cams-kei123&PhoneNumber=8525123456" + strconv.Itoa(int(mode)) + "&Method=sms&Locale=en"
		if got := serveFuzz(t, h, signedFuzzRequest(t, mode, "GetChatappVerifyCode", p)); got != "OK" {
			t.Errorf("mode %d: %q", mode, got)
		}
	}
}
