package acsapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/acsapi"
	"github.com/verifyfn/verifyfn/shared/acsauth"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/services/cams"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/memstore"
)

const (
	get = cams.GetChatappVerifyCode
	ver = cams.Version
	ak  = accounts.DevSecretID
	sk  = accounts.DevSecretKey
)

var secret = []byte(sk)

// fixture is a server with a fresh phone number for every request, so that
// no request trips another's cooldown.
type fixture struct {
	*apitest.Server
	n atomic.Int32
}

func start(t *testing.T, opts ...apitest.Option) *fixture {
	opts = append([]apitest.Option{apitest.WithConfig(func(c *config.Config) { c.CAMSRateLimit = 100000 })}, opts...)
	return &fixture{Server: apitest.Start(t, opts...)}
}

func (f *fixture) params() url.Values {
	return url.Values{
		"CustSpaceId": {accounts.DevCAMSSpace},
		"PhoneNumber": {fmt.Sprintf("8525123%04d", f.n.Add(1))},
		"Method":      {"sms"},
		"Locale":      {"en"},
	}
}

// acs3 builds a V3-signed request like darabonba's: POST, the parameters in
// the query, an empty body. mut runs before signing.
func (f *fixture) acs3(t *testing.T, mut func(*acsauth.ACS3Request)) *http.Request {
	t.Helper()
	q := acsauth.ACS3Request{
		Endpoint: f.URL, Action: get, Version: ver, Query: f.params(), Time: f.Clock.Now(),
		AccessKeyID: ak, Secret: secret,
	}
	if mut != nil {
		mut(&q)
	}
	r, err := q.HTTPRequest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rpc builds an RPC-signed request like alibaba-cloud-sdk-go's: GET with
// everything in the query, or POST with the API parameters in a form body.
func (f *fixture) rpc(t *testing.T, method string, mut func(*acsauth.RPCRequest)) *http.Request {
	t.Helper()
	q := acsauth.RPCRequest{
		Method: method, Endpoint: f.URL, Action: get, Version: ver, Params: f.params(), Time: f.Clock.Now(),
		AccessKeyID: ak, Secret: secret,
	}
	if mut != nil {
		mut(&q)
	}
	r, err := q.HTTPRequest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rpcGET signs the parameters of an RPC GET after edit changes them, for
// requests the helper cannot express (odd or missing common parameters).
func (f *fixture) rpcGET(t *testing.T, edit func(url.Values)) *http.Request {
	t.Helper()
	p := acsauth.RPCRequest{Endpoint: f.URL, Action: get, Version: ver, Params: f.params(), Time: f.Clock.Now(), AccessKeyID: ak, Secret: secret}.SignedParams()
	p.Del("Signature")
	edit(p)
	if !p.Has("Signature") {
		acsauth.SignRPC(secret, http.MethodGet, p)
	}
	r, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.URL+"/?"+p.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// resign signs r again (ACS3) after its headers were changed.
func resign(t *testing.T, r *http.Request, body []byte) *http.Request {
	t.Helper()
	r.Header.Del("Authorization")
	if err := acsauth.SignACS3Request(r, body, ak, secret); err != nil {
		t.Fatal(err)
	}
	return r
}

type answer struct {
	Status int
	Type   string
	Body   map[string]any
}

func (a answer) code() string { c, _ := a.Body["Code"].(string); return c }

func do(t *testing.T, r *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{Status: resp.StatusCode, Type: resp.Header.Get("Content-Type")}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &a.Body); err != nil {
		t.Fatalf("status %d, body %q is not a JSON object", resp.StatusCode, raw)
	}
	return a
}

// check asserts the answer's code, HTTP status and body shape.
func check(t *testing.T, name string, a answer, code string, status int) {
	t.Helper()
	if a.code() != code || a.Status != status {
		t.Errorf("%s: %d %s (%v), want %d %s", name, a.Status, a.code(), a.Body["Message"], status, code)
		return
	}
	if a.Type != "application/json" {
		t.Errorf("%s: Content-Type %q", name, a.Type)
	}
	fields := []string{"RequestId", "Code", "Message"}
	if code == "OK" {
		if a.Body["Success"] != true || a.Body["AccessDeniedDetail"] != "None" {
			t.Errorf("%s: success body %v", name, a.Body)
		}
	} else {
		fields = append(fields, "HostId", "Recommend")
		if a.Status >= 500 && code != acsapi.CodeInternalError && code != acsapi.CodeServiceUnavailable {
			t.Errorf("%s: gateway error %s answered with %d", name, code, a.Status)
		}
		if rec, _ := a.Body["Recommend"].(string); !strings.Contains(rec, "q="+code) {
			t.Errorf("%s: Recommend %q", name, rec)
		}
	}
	for _, k := range fields {
		if v, ok := a.Body[k].(string); !ok || v == "" {
			t.Errorf("%s: %s = %#v, want a non-empty string", name, k, a.Body[k])
		}
	}
}

func TestGateway(t *testing.T) {
	f := start(t)
	now := f.Clock.Now()
	const (
		ok       = "OK"
		mismatch = acsapi.CodeSignatureDoesNotMatch
		expired  = acsapi.CodeInvalidTimeStampExpired
	)
	form := func(p url.Values) func(*acsauth.ACS3Request) {
		return func(q *acsauth.ACS3Request) {
			q.Query, q.Body, q.ContentType = nil, []byte(p.Encode()), "application/x-www-form-urlencoded"
		}
	}
	at := func(d time.Duration) func(*acsauth.ACS3Request) {
		return func(q *acsauth.ACS3Request) { q.Time = now.Add(d) }
	}
	rpcAt := func(d time.Duration) func(*acsauth.RPCRequest) {
		return func(q *acsauth.RPCRequest) { q.Time = now.Add(d) }
	}
	const skew = acsapi.MaxSkew
	cases := []struct {
		name   string
		req    func() *http.Request
		code   string
		status int
	}{
		{"ACS3", func() *http.Request { return f.acs3(t, nil) }, ok, 200},
		{"ACS3 GET", func() *http.Request { return f.acs3(t, func(q *acsauth.ACS3Request) { q.Method = http.MethodGet }) }, ok, 200},
		{"ACS3 with a signed form body", func() *http.Request { return f.acs3(t, form(f.params())) }, ok, 200},
		{"RPC GET", func() *http.Request { return f.rpc(t, http.MethodGet, nil) }, ok, 200},
		{"RPC POST form", func() *http.Request { return f.rpc(t, http.MethodPost, nil) }, ok, 200},
		{"RPC POST with everything in the form", func() *http.Request {
			p := acsauth.RPCRequest{
				Method: http.MethodPost, Action: get, Version: ver, Params: f.params(), Time: now, AccessKeyID: ak, Secret: secret,
			}.SignedParams()
			r, _ := http.NewRequest(http.MethodPost, f.URL+"/", strings.NewReader(p.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, ok, 200},
		{"ACS3 with SDK extras", func() *http.Request {
			return f.acs3(t, func(q *acsauth.ACS3Request) {
				q.Query.Set("OwnerId", "1")
				q.Query.Set("ResourceOwnerAccount", "x")
				q.Query.Set("RegionId", "ap-southeast-1")
			})
		}, ok, 200},

		// Tampering after signing.
		{"ACS3 tampered query value", func() *http.Request {
			r := f.acs3(t, nil)
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "Locale=en", "Locale=zh_CN", 1)
			return r
		}, mismatch, 400},
		{"ACS3 tampered signed header", func() *http.Request {
			r := f.acs3(t, nil)
			r.Header.Set(acsauth.HeaderNonce, "another-nonce")
			return r
		}, mismatch, 400},
		{"ACS3 tampered body", func() *http.Request {
			p := f.params()
			r := f.acs3(t, form(p))
			p.Set("Locale", "zh_CN")
			body := p.Encode()
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
			return r
		}, mismatch, 400},
		{"ACS3 body added to a signed empty body", func() *http.Request {
			r := f.acs3(t, nil)
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader("Extra=1")), 7
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, acsapi.CodeIncompleteSignature, 400},
		{"ACS3 tampered host", func() *http.Request {
			r := f.acs3(t, nil)
			r.Host = "cams.ap-southeast-1.aliyuncs.com"
			return r
		}, mismatch, 400},
		{"ACS3 unsigned x-acs header", func() *http.Request {
			r := f.acs3(t, nil)
			r.Header.Set("x-acs-security-token", "tok")
			return r
		}, acsapi.CodeIncompleteSignature, 400},
		{"ACS3 wrong secret", func() *http.Request {
			return f.acs3(t, func(q *acsauth.ACS3Request) { q.Secret = []byte("not-the-secret") })
		}, mismatch, 400},
		{"RPC GET tampered query value", func() *http.Request {
			r := f.rpc(t, http.MethodGet, nil)
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "Locale=en", "Locale=zh_CN", 1)
			return r
		}, mismatch, 400},
		{"RPC POST tampered form", func() *http.Request {
			r := f.rpc(t, http.MethodPost, nil)
			b, _ := io.ReadAll(r.Body)
			body := strings.Replace(string(b), "Locale=en", "Locale=zh_CN", 1)
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
			return r
		}, mismatch, 400},
		{"RPC wrong secret", func() *http.Request {
			return f.rpc(t, http.MethodPost, func(q *acsauth.RPCRequest) { q.Secret = []byte("not-the-secret") })
		}, mismatch, 400},

		// The 15-minute window, both ways.
		{"ACS3 15 min + 1 s old", func() *http.Request { return f.acs3(t, at(-skew-time.Second)) }, expired, 400},
		{"ACS3 15 min + 1 s ahead", func() *http.Request { return f.acs3(t, at(skew+time.Second)) }, expired, 400},
		{"ACS3 15 min - 1 s old", func() *http.Request { return f.acs3(t, at(-skew+time.Second)) }, ok, 200},
		{"ACS3 15 min - 1 s ahead", func() *http.Request { return f.acs3(t, at(skew-time.Second)) }, ok, 200},
		{"RPC 15 min + 1 s old", func() *http.Request { return f.rpc(t, http.MethodGet, rpcAt(-skew-time.Second)) }, expired, 400},
		{"RPC 15 min + 1 s ahead", func() *http.Request { return f.rpc(t, http.MethodPost, rpcAt(skew+time.Second)) }, expired, 400},
		{"RPC 15 min - 1 s old", func() *http.Request { return f.rpc(t, http.MethodGet, rpcAt(-skew+time.Second)) }, ok, 200},
		{"RPC 15 min - 1 s ahead", func() *http.Request { return f.rpc(t, http.MethodPost, rpcAt(skew-time.Second)) }, ok, 200},
		{"RPC Timestamp malformed", func() *http.Request {
			return f.rpcGET(t, func(p url.Values) { p.Set("Timestamp", now.Format(time.RFC1123)) })
		}, acsapi.CodeInvalidTimeStampFormat, 400},
		{"RPC Timestamp missing", func() *http.Request { return f.rpcGET(t, func(p url.Values) { p.Del("Timestamp") }) }, acsapi.CodeMissingParameter, 400},
		{"ACS3 x-acs-date malformed", func() *http.Request {
			r := f.acs3(t, nil)
			r.Header.Set(acsauth.HeaderDate, now.UTC().Format(time.DateTime))
			return resign(t, r, nil)
		}, acsapi.CodeInvalidTimeStampFormat, 400},
		{"ACS3 x-acs-date with fractional seconds", func() *http.Request {
			r := f.acs3(t, nil)
			r.Header.Set(acsauth.HeaderDate, now.UTC().Format("2006-01-02T15:04:05")+".5Z")
			return resign(t, r, nil)
		}, acsapi.CodeInvalidTimeStampFormat, 400},
		{"RPC Timestamp with an offset", func() *http.Request {
			return f.rpcGET(t, func(p url.Values) { p.Set("Timestamp", now.Format("2006-01-02T15:04:05+08:00")) })
		}, acsapi.CodeInvalidTimeStampFormat, 400},
		{"ACS3 x-acs-date signed but absent", func() *http.Request {
			r := f.acs3(t, nil)
			r.Header.Del(acsauth.HeaderDate)
			return r
		}, acsapi.CodeMissingParameter, 400},

		// Credentials and signature form.
		{"RPC AccessKeyId missing", func() *http.Request { return f.rpcGET(t, func(p url.Values) { p.Del("AccessKeyId") }) }, acsapi.CodeMissingParameter, 400},
		{"RPC AccessKeyId unknown", func() *http.Request {
			return f.rpc(t, http.MethodGet, func(q *acsauth.RPCRequest) { q.AccessKeyID = "LTAIunknown" })
		}, acsapi.CodeInvalidAccessKeyIDNotFound, 404},
		{"ACS3 AccessKeyId unknown", func() *http.Request {
			return f.acs3(t, func(q *acsauth.ACS3Request) { q.AccessKeyID = "LTAIunknown" })
		}, acsapi.CodeInvalidAccessKeyIDNotFound, 404},
		{"AccessKeyId with a space", func() *http.Request {
			return f.rpc(t, http.MethodGet, func(q *acsauth.RPCRequest) { q.AccessKeyID = ak + " " })
		}, acsapi.CodeInvalidAccessKeyIDNotFound, 404},
		{"RPC Signature missing", func() *http.Request {
			return f.rpcGET(t, func(p url.Values) { p.Set("Signature", "") })
		}, acsapi.CodeIncompleteSignature, 400},
		{"RPC Signature not base64", func() *http.Request {
			return f.rpcGET(t, func(p url.Values) { p.Set("Signature", "!!!") })
		}, mismatch, 400},
		{"RPC SignatureMethod HMAC-SHA256", func() *http.Request {
			return f.rpcGET(t, func(p url.Values) { p.Set("SignatureMethod", "HMAC-SHA256") })
		}, acsapi.CodeInvalidSignatureMethod, 400},
		{"RPC SignatureVersion 2.0", func() *http.Request {
			return f.rpcGET(t, func(p url.Values) { p.Set("SignatureVersion", "2.0") })
		}, acsapi.CodeIncompleteSignature, 400},
		{"RPC SignatureType BEARERTOKEN", func() *http.Request {
			return f.rpcGET(t, func(p url.Values) { p.Set("SignatureType", "BEARERTOKEN") })
		}, acsapi.CodeIncompleteSignature, 400},
		{"RPC SignatureType empty (aliyun sends it)", func() *http.Request {
			return f.rpcGET(t, func(p url.Values) { p.Set("SignatureType", "") })
		}, ok, 200},
		{"nonce over 128 bytes", func() *http.Request {
			return f.acs3(t, func(q *acsauth.ACS3Request) { q.Nonce = strings.Repeat("n", acsapi.MaxNonce+1) })
		}, acsapi.CodeInvalidParameter, 400},
		{"RPC SignatureNonce missing", func() *http.Request { return f.rpcGET(t, func(p url.Values) { p.Del("SignatureNonce") }) }, acsapi.CodeMissingParameter, 400},
		{"no credential at all", func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, f.URL+"/?Action="+get+"&Version="+ver+"&SignatureNonce=1", nil)
			return r
		}, acsapi.CodeMissingParameter, 400},
		{"ACS3 malformed Authorization", func() *http.Request {
			r := f.acs3(t, nil)
			r.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential="+ak)
			return r
		}, acsapi.CodeIncompleteSignature, 400},
		{"Authorization of another scheme", func() *http.Request {
			r := f.acs3(t, nil)
			r.Header.Set("Authorization", "Bearer abc")
			return r
		}, acsapi.CodeIncompleteSignature, 400},
		{"ACS3-HMAC-SM3", func() *http.Request {
			r := f.acs3(t, nil)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "ACS3-HMAC-SHA256", "ACS3-HMAC-SM3", 1))
			return r
		}, acsapi.CodeInvalidSignatureMethod, 400},
		{"ACS3 SignedHeaders without the nonce", func() *http.Request {
			r := f.acs3(t, nil)
			signed := []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-version"}
			q, _ := url.ParseQuery(r.URL.RawQuery)
			cr := acsauth.ACS3CanonicalRequest(r.Method, q, r.Host, r.Header, signed, acsauth.EmptyPayloadHash)
			r.Header.Set("Authorization", acsauth.FormatACS3Authorization(ak, signed, acsauth.ACS3Signature(secret, acsauth.ACS3StringToSign(cr))))
			return r
		}, acsapi.CodeIncompleteSignature, 400},
		{"ACS3 SecurityToken", func() *http.Request {
			return f.acs3(t, func(q *acsauth.ACS3Request) { q.SecurityToken = "sts-token" })
		}, acsapi.CodeInvalidSecurityTokenMalform, 400},
		{"RPC SecurityToken", func() *http.Request {
			return f.rpc(t, http.MethodPost, func(q *acsauth.RPCRequest) { q.SecurityToken = "sts-token" })
		}, acsapi.CodeInvalidSecurityTokenMalform, 400},

		// Routing.
		{"RPC Action missing", func() *http.Request { return f.rpcGET(t, func(p url.Values) { p.Del("Action") }) }, acsapi.CodeMissingParameter, 400},
		{"RPC Version missing", func() *http.Request { return f.rpcGET(t, func(p url.Values) { p.Del("Version") }) }, acsapi.CodeMissingParameter, 400},
		{"ACS3 unknown action", func() *http.Request {
			return f.acs3(t, func(q *acsauth.ACS3Request) { q.Action = "SendSms" })
		}, acsapi.CodeInvalidActionNotFound, 404},
		{"RPC unknown action", func() *http.Request {
			return f.rpc(t, http.MethodGet, func(q *acsauth.RPCRequest) { q.Action = "SendVerifyCode" })
		}, acsapi.CodeInvalidActionNotFound, 404},
		{"ACS3 unknown version", func() *http.Request {
			return f.acs3(t, func(q *acsauth.ACS3Request) { q.Version = "2017-05-25" })
		}, acsapi.CodeInvalidVersion, 400},
		{"RPC unknown version", func() *http.Request {
			return f.rpc(t, http.MethodPost, func(q *acsauth.RPCRequest) { q.Version = "2020-06-07" })
		}, acsapi.CodeInvalidVersion, 400},
		{"ACS3 Action in the query differs from the header", func() *http.Request {
			return f.acs3(t, func(q *acsauth.ACS3Request) { q.Query.Set("Action", "SendSms") })
		}, acsapi.CodeInvalidParameter, 400},

		// Transport.
		{"PUT", func() *http.Request {
			r := f.acs3(t, nil)
			r.Method = http.MethodPut
			return r
		}, acsapi.CodeUnsupportedHTTPMethod, 400},
		{"DELETE", func() *http.Request {
			r := f.rpc(t, http.MethodGet, nil)
			r.Method = http.MethodDelete
			return r
		}, acsapi.CodeUnsupportedHTTPMethod, 400},
		{"body over the limit", func() *http.Request {
			return f.acs3(t, func(q *acsauth.ACS3Request) {
				q.Body, q.ContentType = []byte("Pad="+strings.Repeat("a", acsapi.MaxBody)), "application/x-www-form-urlencoded"
			})
		}, acsapi.CodeRequestTooLarge, 413},
		{"query over 32 KB", func() *http.Request {
			return f.acs3(t, func(q *acsauth.ACS3Request) { q.Query.Set("Pad", strings.Repeat("a", acsapi.MaxQuery)) })
		}, acsapi.CodeRequestTooLarge, 413},
		{"JSON body", func() *http.Request {
			return f.acs3(t, func(q *acsauth.ACS3Request) {
				q.Body, q.ContentType = []byte(`{"Locale":"en"}`), "application/json"
			})
		}, acsapi.CodeInvalidParameter, 400},
		{"a parameter in both the query and the form", func() *http.Request {
			r := f.rpc(t, http.MethodPost, nil)
			r.URL.RawQuery += "&Locale=en"
			return r
		}, acsapi.CodeInvalidParameter, 400},
		{"invalid UTF-8 in a value", func() *http.Request {
			return f.acs3(t, func(q *acsauth.ACS3Request) { q.Query.Set("Locale", "e\xffn") })
		}, acsapi.CodeInvalidParameter, 400},
		{"too many parameters", func() *http.Request {
			return f.acs3(t, func(q *acsauth.ACS3Request) {
				for i := range acsapi.MaxParams {
					q.Query.Set("P"+strconv.Itoa(i), "1")
				}
			})
		}, acsapi.CodeInvalidParameter, 400},
		{"a parameter twice in the query", func() *http.Request {
			r := f.rpc(t, http.MethodGet, nil)
			r.URL.RawQuery += "&Locale=en"
			return r
		}, acsapi.CodeInvalidParameter, 400},
		{"a malformed query", func() *http.Request {
			r := f.rpc(t, http.MethodGet, nil)
			r.URL.RawQuery += "&Locale=%zz"
			return r
		}, acsapi.CodeInvalidParameter, 400},

		// An action-level error keeps the same body shape.
		{"invalid Locale", func() *http.Request {
			return f.acs3(t, func(q *acsauth.ACS3Request) { q.Query.Set("Locale", "en-US") })
		}, acsapi.CodeInvalidParameter, 400},
		{"missing PhoneNumber", func() *http.Request {
			return f.rpc(t, http.MethodGet, func(q *acsauth.RPCRequest) { q.Params.Del("PhoneNumber") })
		}, acsapi.CodeMissingParameter, 400},
	}
	for _, c := range cases {
		a := do(t, c.req())
		check(t, c.name, a, c.code, c.status)
		if host, _ := a.Body["HostId"].(string); c.code != ok && host == "" {
			t.Errorf("%s: no HostId", c.name)
		}
	}

	// A missing parameter is named in the message.
	for name, r := range map[string]*http.Request{
		"Timestamp":   f.rpcGET(t, func(p url.Values) { p.Del("Timestamp") }),
		"AccessKeyId": f.rpcGET(t, func(p url.Values) { p.Del("AccessKeyId") }),
		"PhoneNumber": f.acs3(t, func(q *acsauth.ACS3Request) { q.Query.Del("PhoneNumber") }),
	} {
		if msg, _ := do(t, r).Body["Message"].(string); !strings.Contains(msg, name) {
			t.Errorf("missing %s: message %q", name, msg)
		}
	}
}

func TestNonceReplay(t *testing.T) {
	f := start(t)
	for _, mk := range map[string]func(nonce string) *http.Request{
		"ACS3": func(nonce string) *http.Request {
			return f.acs3(t, func(q *acsauth.ACS3Request) { q.Nonce = nonce })
		},
		"RPC GET": func(nonce string) *http.Request {
			return f.rpc(t, http.MethodGet, func(q *acsauth.RPCRequest) { q.Nonce = nonce })
		},
		"RPC POST": func(nonce string) *http.Request {
			return f.rpc(t, http.MethodPost, func(q *acsauth.RPCRequest) { q.Nonce = nonce })
		},
	} {
		nonce := fmt.Sprintf("nonce-%d", f.n.Load())
		first := mk(nonce)
		replay := first.Clone(t.Context())
		if first.GetBody != nil {
			replay.Body, _ = first.GetBody()
		}
		check(t, "first", do(t, first), "OK", 200)
		check(t, "the same request again", do(t, replay), acsapi.CodeSignatureNonceUsed, 400)
		check(t, "another request with the nonce", do(t, mk(nonce)), acsapi.CodeSignatureNonceUsed, 400)
		// 31 minutes later the nonce is forgotten, but such a request is
		// outside the 15-minute window anyway.
	}

	// A request whose signature fails does not burn its nonce.
	bad := f.acs3(t, func(q *acsauth.ACS3Request) { q.Nonce, q.Secret = "fresh-nonce", []byte("wrong") })
	check(t, "bad signature", do(t, bad), acsapi.CodeSignatureDoesNotMatch, 400)
	check(t, "the nonce afterwards", do(t, f.acs3(t, func(q *acsauth.ACS3Request) { q.Nonce = "fresh-nonce" })), "OK", 200)

	// Nonces are per AccessKeyId: another key may use the same one.
	reg, err := accounts.Parse("two", []byte(strings.ReplaceAll(accounts.DevYAML, "        actions: [\"*\"]", "        actions: [\"*\"]\n      - id: LTAIsecond00000000001\n        secret: second-secret\n        actions: [\"*\"]")), nil)
	if err != nil {
		t.Fatal(err)
	}
	g := start(t, apitest.WithAccounts(reg))
	check(t, "key 1", do(t, g.acs3(t, func(q *acsauth.ACS3Request) { q.Nonce = "shared" })), "OK", 200)
	check(t, "key 2", do(t, g.acs3(t, func(q *acsauth.ACS3Request) {
		q.Nonce, q.AccessKeyID, q.Secret = "shared", "LTAIsecond00000000001", []byte("second-secret")
	})), "OK", 200)
}

func TestInternalError(t *testing.T) {
	failing := delivery.SenderFunc(func(context.Context, delivery.Message) error {
		return fmt.Errorf("smtp: 535 secret-detail")
	})
	f := start(t, func(_ *config.Config, o *app.Options) { o.Sender = failing })
	a := do(t, f.acs3(t, nil))
	check(t, "delivery failure", a, acsapi.CodeInternalError, 500)
	if msg, _ := a.Body["Message"].(string); strings.Contains(msg, "secret-detail") {
		t.Fatalf("the cause leaked: %q", msg)
	}
	if !strings.Contains(f.Logs(), "secret-detail") {
		t.Fatal("the cause is not logged")
	}
}

// brokenStore fails the operations named in its flags with a store error.
type brokenStore struct {
	*memstore.Store
	claim, issue bool
}

var errDown = fmt.Errorf("%w: connection refused", store.ErrUnavailable)

func (b brokenStore) Claim(ctx context.Context, key string, ttl time.Duration, now time.Time) (bool, error) {
	if b.claim {
		return false, errDown
	}
	return b.Store.Claim(ctx, key, ttl, now)
}

func (b brokenStore) Issue(ctx context.Context, op store.IssueOp) (store.IssueResult, error) {
	if b.issue {
		return store.IssueResult{}, errDown
	}
	return b.Store.Issue(ctx, op)
}

func TestServiceUnavailable(t *testing.T) {
	for name, st := range map[string]brokenStore{
		"nonce store down": {Store: memstore.New(), claim: true},
		"code store down":  {Store: memstore.New(), issue: true},
	} {
		f := start(t, func(_ *config.Config, o *app.Options) { o.Store = st })
		check(t, name+" ACS3", do(t, f.acs3(t, nil)), acsapi.CodeServiceUnavailable, 503)
		check(t, name+" RPC", do(t, f.rpc(t, http.MethodGet, nil)), acsapi.CodeServiceUnavailable, 503)
		if !strings.Contains(f.Logs(), "connection refused") {
			t.Errorf("%s: the cause is not logged", name)
		}
		if n := len(f.Messages(t)); n != 0 {
			t.Errorf("%s: %d messages sent", name, n)
		}
	}
}

// TestTencentBeside checks that the same port still serves Tencent callers.
func TestTencentBeside(t *testing.T) {
	f := start(t)
	if _, err := f.Tencent(tcclient.Options{}).Call("intlpartnersmgt", "2022-09-28", "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"POST", "GET"} {
		if _, err := f.Tencent(tcclient.Options{Method: m, SignMethod: "HmacSHA1"}).Call("smh", "2021-07-12", "SendSmsCode",
			map[string]any{"Purpose": "BindSuperAdmin", "PhoneNumber": "1899999999" + map[string]string{"POST": "7", "GET": "6"}[m], "InstanceId": accounts.DevInstanceID}); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
	}
	check(t, "Alibaba on the same port", do(t, f.acs3(t, nil)), "OK", 200)
}

func TestStatus(t *testing.T) {
	for code, want := range map[string]int{
		acsapi.CodeInvalidAccessKeyIDNotFound: 404, acsapi.CodeInvalidActionNotFound: 404,
		acsapi.CodeIncompleteSignature: 400, acsapi.CodeSignatureDoesNotMatch: 400, acsapi.CodeInvalidTimeStampExpired: 400,
		acsapi.CodeInvalidTimeStampFormat: 400, acsapi.CodeSignatureNonceUsed: 400, acsapi.CodeMissingParameter: 400,
		acsapi.CodeInvalidParameter: 400, acsapi.CodeInvalidVersion: 400, acsapi.CodeUnsupportedHTTPMethod: 400,
		acsapi.CodeInternalError: 500, acsapi.CodeServiceUnavailable: 503, "System.LimitControl": 400, "VerifyCode.Mismatch": 400,
	} {
		if got := acsapi.Status(code); got != want {
			t.Errorf("Status(%s) = %d, want %d", code, got, want)
		}
	}
}

func TestUnavailable(t *testing.T) {
	h := acsapi.Unavailable(fmt.Errorf("VERIFYFN_CODE_KEY must be at least 16 bytes"), nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "http://cams.example/?Action=x", nil))
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 500 || body["Code"] != acsapi.CodeInternalError || body["HostId"] != "cams.example" {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
}
