package tcapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/app/all"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/tcauth"
)

// The front-door fuzzers feed arbitrary requests through the real handler
// (app.New: front door, services, engine, embedded store) and require, for
// every input, no panic and an answer the official SDKs can read: HTTP 200,
// Content-Type exactly application/json, a correct Content-Length, and a
// body that is exactly {"Response":{...,"RequestId":"<non-empty>"}} whose
// Error, when present, has a non-empty Code and Message and nothing else.

const fuzzHost = "fuzz.local"

// fuzzHandler builds the real stack of the three Tencent services (the
// front door as the sendsms, sendverify and verifycontact functions run it:
// without cams, whose Alibaba front door would take requests carrying
// SignatureNonce or AccessKeyId) with every limit that would make the
// fuzzer's requests uniform (rate limits) out of the way and a sender that
// drops messages.
func fuzzHandler(tb testing.TB) http.Handler {
	tb.Helper()
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	cfg.CodeKey = []byte("fuzz-code-key-0123456789abcdef")
	cfg.RateLimit = 1 << 30
	a, err := all.New(cfg, app.Options{
		Services: map[string]bool{"intlpartnersmgt": true, "smh": true, "domain": true},
		Sender:   delivery.SenderFunc(func(context.Context, delivery.Message) error { return nil }),
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	return a.Handler
}

// serveFuzz runs one request through h, checks the answer and returns its
// error code ("" for success).
func serveFuzz(t *testing.T, h http.Handler, r *http.Request) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, body)
	}
	if ct := rec.Header()["Content-Type"]; len(ct) != 1 || ct[0] != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(body)) {
		t.Fatalf("Content-Length %q for %d bytes", cl, len(body))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || len(top) != 1 || top["Response"] == nil {
		t.Fatalf("not a Tencent envelope: %s", body)
	}
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(top["Response"], &resp); err != nil {
		t.Fatalf("Response is not an object: %s", body)
	}
	var id string
	if err := json.Unmarshal(resp["RequestId"], &id); err != nil || id == "" {
		t.Fatalf("no RequestId: %s", body)
	}
	raw, ok := resp["Error"]
	if !ok {
		return ""
	}
	var e struct{ Code, Message string }
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Code == "" || e.Message == "" || len(resp) != 2 {
		t.Fatalf("malformed Error: %s", body)
	}
	return e.Code
}

// rawRequest builds a request as a server would receive it, without the
// validation http.NewRequest does (a fuzzed method or query may be
// anything the wire carries).
func rawRequest(method, rawQuery string, header http.Header, body []byte) *http.Request {
	return &http.Request{
		Method: method, URL: &url.URL{Path: "/", RawQuery: rawQuery}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Host: fuzzHost, Header: header, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
		RemoteAddr: "192.0.2.1:1234",
	}
}

// FuzzFrontDoor sends arbitrary methods, content types, Authorization
// headers, actions, queries and bodies, mostly unauthenticated: the parsing,
// size and protocol checks that run before and during authentication.
func FuzzFrontDoor(f *testing.F) {
	sig := "Signature=" + string(bytes.Repeat([]byte("ab"), 32))
	tc3 := "TC3-HMAC-SHA256 Credential=" + accounts.DevSecretID + "/2026-11-21/intlpartnersmgt/tc3_request, SignedHeaders=content-type;host, " + sig
	f.Add("POST", "application/json", tc3, "SendVerifyCode", "", []byte(`{"CountryCode":"852","PhoneNum":"51234567"}`))
	f.Add("POST", "application/json; charset=utf-8", tc3, "SendVerifyCode", "", []byte(`{"CountryCode":852}`))
	f.Add("POST", "application/json", "", "CreateIntlPhoneEmail", "", []byte(`{"Type":"1"`))
	f.Add("POST", "application/x-www-form-urlencoded", "", "", "", []byte("Action=SendSmsCode&Version=2021-07-12&SecretId=x&Signature=y&Nonce=1&Timestamp=1"))
	f.Add("POST", "application/x-www-form-urlencoded", "", "", "", []byte("a=1&a=2&%zz"))
	f.Add("GET", "", "", "", "Action=DescribeIntlPhoneEmailList&Version=2018-08-08&Nonce=1&Timestamp=1&SecretId=x&Signature=y", []byte(nil))
	f.Add("GET", "", tc3, "SendSmsCode", "Purpose=BindSuperAdmin&PhoneNumber=13800138000", []byte(nil))
	f.Add("PUT", "text/plain", "", "", "", []byte("x"))
	f.Add("POST", "multipart/form-data; boundary=x", tc3, "SendVerifyCode", "", []byte("--x--"))
	f.Add("POST", "application/json", "TC3-HMAC-SHA256 Credential=a/b/c/tc3_request,SignedHeaders=x,Signature=00", "X", "", []byte(`null`))
	f.Add("POST", "application/json", tc3, "SendVerifyCode", "", []byte(`[]`))
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, method, contentType, authorization, action, query string, body []byte) {
		hdr := http.Header{}
		if contentType != "" {
			hdr["Content-Type"] = []string{contentType}
		}
		if authorization != "" {
			hdr["Authorization"] = []string{authorization}
		}
		if action != "" {
			hdr["X-Tc-Action"] = []string{action}
			hdr["X-Tc-Version"] = []string{"2022-09-28"}
			hdr["X-Tc-Timestamp"] = []string{strconv.FormatInt(time.Now().Unix(), 10)}
		}
		serveFuzz(t, h, rawRequest(method, query, hdr, body))
	})
}

// versions of the services the front door serves.
var fuzzVersions = map[string]string{"intlpartnersmgt": "2022-09-28", "smh": "2021-07-12", "domain": "2018-08-08"}

// fuzzServiceOf returns the service that defines action.
func fuzzServiceOf(action string) string {
	switch action {
	case "SendVerifyCode", "CreateAccount", "GetCountryCodes", "GetTradeConfigList":
		return "intlpartnersmgt"
	case "SendSmsCode", "VerifySmsCode":
		return "smh"
	}
	return "domain"
}

var fuzzNonce atomic.Int64

// FuzzSignedRequest sends correctly signed requests with arbitrary
// parameters, so the fuzzer reaches the routing, the parameter readers and
// the action handlers: mode 0 is TC3 POST with a JSON body, 1 TC3 GET with a
// query, 2 signature v1 GET, 3 signature v1 POST form (2 and 3 with
// HmacSHA1 when mode&4). For TC3 the payload is the body or raw query as
// given; for v1 it is parsed as a query and the common parameters are
// added, then signed.
func FuzzSignedRequest(f *testing.F) {
	f.Add(uint8(0), "SendVerifyCode", []byte(`{"CountryCode":"852","PhoneNum":"51234567"}`))
	f.Add(uint8(0), "SendVerifyCode", []byte(`{"CountryCode":"+852","PhoneNum":"５１２３ ４５６７"}`))
	f.Add(uint8(0), "CreateAccount", []byte(`{"AccountType":"personal","Mail":"a@example.com","Password":"Abcdef1!","ConfirmPassword":"Abcdef1!","PhoneNum":"51234567","CountryCode":"852","Area":"HK","VerifyCode":"123456","TradeOne":"kghy_01","TradeTwo":"kghy_0101"}`))
	f.Add(uint8(0), "GetTradeConfigList", []byte(`{}`))
	f.Add(uint8(2), "GetCountryCodes", []byte(`Language=zh-CN`))
	f.Add(uint8(0), "SendSmsCode", []byte(`{"Purpose":"BindSuperAdmin","PhoneNumber":"13800138000","InstanceId":"n0v9tdme"}`))
	f.Add(uint8(0), "VerifySmsCode", []byte(`{"Purpose":"ChannelUpdateVerify","PhoneNumber":"18999999999","InstanceId":"n0v9tdme","Code":"123456"}`))
	f.Add(uint8(0), "SendIntlPhoneEmailCode", []byte(`{"Type":2,"Code":"a@example.com"}`))
	f.Add(uint8(0), "CreateIntlPhoneEmail", []byte(`{"Type":"1","Code":"+8613800138000","VerifyCode":"000000"}`))
	f.Add(uint8(0), "DescribeIntlPhoneEmailList", []byte(`{"Type":0,"Limit":200,"Offset":1}`))
	f.Add(uint8(0), "DeleteIntlPhoneEmail", []byte(`{"Type":2,"Code":null}`))
	f.Add(uint8(0), "SendVerifyCode", []byte(`{"CountryCode":"852","PhoneNum":"51234567","CountryCode":"7"}`))
	f.Add(uint8(1), "SendSmsCode", []byte("Purpose=BindSuperAdmin&PhoneNumber=13800138000&CountryCode=%2B86"))
	f.Add(uint8(1), "DescribeIntlPhoneEmailList", []byte("Limit=1&Offset=-1"))
	f.Add(uint8(2), "SendVerifyCode", []byte("CountryCode=852&PhoneNum=51234567"))
	f.Add(uint8(3), "CreateIntlPhoneEmail", []byte("Type=2&Code=a%40example.com&VerifyCode=123456"))
	f.Add(uint8(7), "VerifySmsCode", []byte("Purpose=BindSuperAdmin&PhoneNumber=138&Code=1&Language=zh-CN"))
	f.Add(uint8(2), "Nope", []byte("Version=1999-01-01"))
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, mode uint8, action string, payload []byte) {
		serveFuzz(t, h, signedFuzzRequest(mode, action, payload))
	})
}

// signedFuzzRequest builds the request FuzzSignedRequest sends, signed with
// the development credential at the current time.
func signedFuzzRequest(mode uint8, action string, payload []byte) *http.Request {
	secret := []byte(accounts.DevSecretKey)
	service := fuzzServiceOf(action)
	version := fuzzVersions[service]
	now := time.Now()
	ts := now.Unix()
	if mode&3 < 2 {
		method, query, body := http.MethodPost, "", payload
		if mode&3 == 1 {
			method, query, body = http.MethodGet, string(payload), nil
		}
		hdr := http.Header{
			"Content-Type":   {"application/json"},
			"X-Tc-Action":    {action},
			"X-Tc-Version":   {version},
			"X-Tc-Timestamp": {strconv.FormatInt(ts, 10)},
		}
		signed := []string{"content-type", "host"}
		canon := tcauth.CanonicalRequest(method, query, signed, func(name string) string {
			if name == "host" {
				return fuzzHost
			}
			return hdr.Get(name)
		}, true, tcauth.HashHex(body))
		date := now.UTC().Format(time.DateOnly)
		scope := date + "/" + service + "/tc3_request"
		hdr["Authorization"] = []string{tcauth.FormatAuthorization(accounts.DevSecretID, scope, signed,
			tcauth.Signature(secret, date, service, tcauth.StringToSign(ts, scope, canon)))}
		return rawRequest(method, query, hdr, body)
	}
	vals, err := url.ParseQuery(string(payload))
	if err != nil {
		vals = url.Values{}
	}
	params := map[string]string{}
	for k, v := range vals {
		params[k] = v[0]
	}
	sigMethod := "HmacSHA256"
	if mode&4 != 0 {
		sigMethod = "HmacSHA1"
	}
	// The payload may set Action, Version and SignatureMethod; the
	// timestamp, nonce and credential are always valid.
	for k, v := range map[string]string{
		"Action": action, "Version": version, "Timestamp": strconv.FormatInt(ts, 10), "SecretId": accounts.DevSecretID,
		"Nonce": strconv.FormatInt(fuzzNonce.Add(1), 10), "SignatureMethod": sigMethod,
	} {
		if _, set := params[k]; !set || k == "Nonce" || k == "Timestamp" || k == "SecretId" {
			params[k] = v
		}
	}
	method := http.MethodGet
	if mode&3 == 3 {
		method = http.MethodPost
	}
	params["Signature"] = tcauth.V1Signature(secret, params["SignatureMethod"], tcauth.V1StringToSign(method, fuzzHost, params))
	enc := url.Values{}
	for k, v := range params {
		enc.Set(k, v)
	}
	if method == http.MethodGet {
		return rawRequest(method, enc.Encode(), http.Header{}, nil)
	}
	return rawRequest(method, "", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(enc.Encode()))
}

// TestSignedRequestSigning checks the fuzzer's signing: requests built as
// FuzzSignedRequest builds them pass authentication in every mode and reach
// the action, so the fuzzer starts from requests that get past the front
// door.
func TestSignedRequestSigning(t *testing.T) {
	h := fuzzHandler(t)
	for _, tc := range []struct {
		mode    uint8
		action  string
		payload string
	}{
		{0, "SendVerifyCode", `{"CountryCode":"852","PhoneNum":"51234567"}`},
		{1, "DescribeIntlPhoneEmailList", "Limit=1"},
		{2, "SendSmsCode", "Purpose=BindSuperAdmin&PhoneNumber=13800138000"},
		{3, "SendIntlPhoneEmailCode", "Type=2&Code=a%40example.com"},
		{7, "VerifySmsCode", "Purpose=BindSuperAdmin&PhoneNumber=13800138000&Code=000000"},
	} {
		got := serveFuzz(t, h, signedFuzzRequest(tc.mode, tc.action, []byte(tc.payload)))
		if got != "" && got != "UnauthorizedOperation.SmsCode" {
			t.Errorf("mode %d %s: %q", tc.mode, tc.action, got)
		}
	}
}
