package acsauth_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	aliauth "github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/signers"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"

	"github.com/verifyfn/verifyfn/shared/acsauth"
)

// Fixed inputs of the golden vectors.
const (
	goldenAK     = "LTAI5tGoldenKeyId"
	goldenSecret = "GoldenSecret"
	goldenDate   = "2024-05-01T08:00:00Z"
	goldenNonce  = "3156853299f313e23d1673dc12e1703d"
	goldenHost   = "cams.aliyuncs.com"
	goldenNote   = "a b*c~d+中文"
)

func goldenQuery() url.Values {
	return url.Values{
		"CustSpaceId": {"cams-space-1"},
		"PhoneNumber": {"8613800138000"},
		"Method":      {"sms"},
		"Locale":      {"zh_CN"},
		"Note":        {goldenNote},
	}
}

// goldenV3Headers are the headers darabonba DoRequest sets for a V3 call
// without a body (lowercase names, as in its request map).
func goldenV3Headers() map[string]string {
	return map[string]string{
		"host":                  goldenHost,
		"x-acs-action":          "GetChatappVerifyCode",
		"x-acs-version":         "2020-06-06",
		"x-acs-date":            goldenDate,
		"x-acs-signature-nonce": goldenNonce,
		"x-acs-content-sha256":  acsauth.EmptyPayloadHash,
		"user-agent":            "AlibabaCloud (linux; amd64) Golang/1.26 Core/0.01 TeaDSL/2",
		"accept":                "application/json",
	}
}

// httpHeader converts a header map to what a net/http server sees: canonical
// keys, and no Host (the host goes to the separate argument).
func httpHeader(m map[string]string) http.Header {
	h := http.Header{}
	for k, v := range m {
		if k != "host" {
			h.Set(k, v)
		}
	}
	return h
}

func sdkStringMap(v url.Values) map[string]*string {
	m := make(map[string]*string, len(v))
	for k := range v {
		m[k] = dara.String(v.Get(k))
	}
	return m
}

// sdkAuthorization signs with darabonba's own GetAuthorization.
func sdkAuthorization(method string, query url.Values, headers map[string]string, hashedPayload, secret string) string {
	req := dara.NewRequest()
	req.Method = dara.String(method)
	req.Pathname = dara.String("/")
	req.Query = sdkStringMap(query)
	req.Headers = map[string]*string{}
	for k, v := range headers {
		req.Headers[k] = dara.String(v)
	}
	return dara.StringValue(openapiutil.GetAuthorization(req, dara.String(acsauth.AlgorithmACS3HMACSHA256),
		dara.String(hashedPayload), dara.String(goldenAK), dara.String(secret)))
}

// TestACS3Golden pins a V3 vector. The canonical request was written by
// hand; the string to sign and the signature were computed independently
// (Python hashlib/hmac over that text) and agree with darabonba's
// GetAuthorization, which the test also runs.
func TestACS3Golden(t *testing.T) {
	const (
		wantCanonical = "POST\n/\n" +
			"CustSpaceId=cams-space-1&Locale=zh_CN&Method=sms&Note=a%20b%2Ac~d%2B%E4%B8%AD%E6%96%87&PhoneNumber=8613800138000\n" +
			"host:cams.aliyuncs.com\n" +
			"x-acs-action:GetChatappVerifyCode\n" +
			"x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
			"x-acs-date:2024-05-01T08:00:00Z\n" +
			"x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n" +
			"x-acs-version:2020-06-06\n" +
			"\n" +
			"host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n" +
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		wantSTS  = "ACS3-HMAC-SHA256\n" + "ac4c2f8a39f93a01a2266ad3c0fc5af6cd6dd97d384302670c4cf5593eaa50bc"
		wantSig  = "d9a5407bc9d1194cf75379fa0250fae6e129ba46da68b0180b9d4f940ac73691"
		wantAuth = "ACS3-HMAC-SHA256 Credential=LTAI5tGoldenKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=" + wantSig
	)
	headers := goldenV3Headers()
	sdkAuth := sdkAuthorization("POST", goldenQuery(), headers, acsauth.EmptyPayloadHash, goldenSecret)
	if sdkAuth != wantAuth {
		t.Fatalf("SDK Authorization =\n%s\nwant\n%s", sdkAuth, wantAuth)
	}
	a, err := acsauth.ParseACS3Authorization(sdkAuth)
	if err != nil {
		t.Fatalf("ParseACS3Authorization: %v", err)
	}
	if a.AccessKeyID != goldenAK || a.Algorithm != acsauth.AlgorithmACS3HMACSHA256 || a.Signature != wantSig || len(a.SignedHeaders) != 6 {
		t.Fatalf("parsed = %+v", a)
	}
	if a.String() != sdkAuth {
		t.Fatalf("String() = %s", a.String())
	}
	cr := acsauth.ACS3CanonicalRequest("POST", goldenQuery(), goldenHost, httpHeader(headers), a.SignedHeaders, acsauth.EmptyPayloadHash)
	if cr != wantCanonical {
		t.Fatalf("canonical request =\n%s\nwant\n%s", cr, wantCanonical)
	}
	sts := acsauth.ACS3StringToSign(cr)
	if sts != wantSTS {
		t.Fatalf("string to sign = %q, want %q", sts, wantSTS)
	}
	if sig := acsauth.ACS3Signature([]byte(goldenSecret), sts); sig != wantSig {
		t.Fatalf("signature = %s, want %s", sig, wantSig)
	}
	if err := acsauth.VerifyACS3([]byte(goldenSecret), a, cr); err != nil {
		t.Fatalf("VerifyACS3: %v", err)
	}
	if err := acsauth.VerifyACS3Request([]byte(goldenSecret), a, "POST", goldenQuery(), goldenHost, httpHeader(headers), acsauth.EmptyPayloadHash); err != nil {
		t.Fatalf("VerifyACS3Request: %v", err)
	}
}

// TestACS3FormBody covers a body: darabonba then signs content-type too.
func TestACS3FormBody(t *testing.T) {
	body := url.Values{"Note": {goldenNote}, "PhoneNumber": {"8613800138000"}}.Encode()
	hashed := acsauth.HashPayload([]byte(body))
	headers := goldenV3Headers()
	headers["x-acs-content-sha256"] = hashed
	headers["content-type"] = "application/x-www-form-urlencoded"
	query := url.Values{"CustSpaceId": {"cams-space-1"}, "Empty": {""}}
	sdkAuth := sdkAuthorization("POST", query, headers, hashed, goldenSecret)
	a, err := acsauth.ParseACS3Authorization(sdkAuth)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Signs("content-type") || !a.Signs("Content-Type") {
		t.Fatalf("content-type not signed: %v", a.SignedHeaders)
	}
	if err := acsauth.VerifyACS3Request([]byte(goldenSecret), a, "POST", query, goldenHost, httpHeader(headers), hashed); err != nil {
		t.Fatalf("VerifyACS3Request: %v", err)
	}
	cr := acsauth.ACS3CanonicalRequest("POST", query, goldenHost, httpHeader(headers), a.SignedHeaders, hashed)
	if !strings.Contains(cr, "\nCustSpaceId=cams-space-1&Empty=\n") || !strings.Contains(cr, "\ncontent-type:application/x-www-form-urlencoded\nhost:") {
		t.Fatalf("canonical request:\n%s", cr)
	}
}

func goldenRPCParams() url.Values {
	p := goldenQuery()
	p.Set("AccessKeyId", goldenAK)
	p.Set("Action", "GetChatappVerifyCode")
	p.Set("Version", "2020-06-06")
	p.Set("Format", "json")
	p.Set("Timestamp", goldenDate)
	p.Set("SignatureNonce", goldenNonce)
	p.Set("SignatureMethod", "HMAC-SHA1")
	p.Set("SignatureVersion", "1.0")
	p.Set("Empty", "")
	return p
}

// TestRPCGolden pins an RPC vector: the string to sign was written by hand;
// the signature was computed independently (Python hmac) and agrees with
// darabonba's GetRPCSignature and alibaba-cloud-sdk-go's ShaHmac1.
func TestRPCGolden(t *testing.T) {
	const (
		wantSTS = "POST&%2F&" +
			"AccessKeyId%3DLTAI5tGoldenKeyId%26Action%3DGetChatappVerifyCode%26CustSpaceId%3Dcams-space-1%26Empty%3D" +
			"%26Format%3Djson%26Locale%3Dzh_CN%26Method%3Dsms" +
			"%26Note%3Da%2520b%252Ac~d%252B%25E4%25B8%25AD%25E6%2596%2587" +
			"%26PhoneNumber%3D8613800138000%26SignatureMethod%3DHMAC-SHA1" +
			"%26SignatureNonce%3D3156853299f313e23d1673dc12e1703d%26SignatureVersion%3D1.0" +
			"%26Timestamp%3D2024-05-01T08%253A00%253A00Z%26Version%3D2020-06-06"
		wantSig = "5bk2vQVdm/ewYLl2ZCVkwMZbwb0="
	)
	params := goldenRPCParams()
	// darabonba's own signer.
	sdkSig := dara.StringValue(openapiutil.GetRPCSignature(sdkStringMap(params), dara.String("POST"), dara.String(goldenSecret)))
	if sdkSig != wantSig {
		t.Fatalf("darabonba GetRPCSignature = %s, want %s", sdkSig, wantSig)
	}
	sts := acsauth.RPCStringToSign("POST", params)
	if sts != wantSTS {
		t.Fatalf("string to sign =\n%s\nwant\n%s", sts, wantSTS)
	}
	// alibaba-cloud-sdk-go's HMAC-SHA1 signer over our string to sign.
	if got := signers.ShaHmac1(sts, goldenSecret+"&"); got != wantSig {
		t.Fatalf("signers.ShaHmac1 = %s, want %s", got, wantSig)
	}
	if got := acsauth.RPCSignature([]byte(goldenSecret), sts); got != wantSig {
		t.Fatalf("RPCSignature = %s, want %s", got, wantSig)
	}
	params.Set("Signature", wantSig)
	if got := acsauth.RPCStringToSign("POST", params); got != wantSTS {
		t.Fatal("Signature must be excluded from the string to sign")
	}
	if err := acsauth.VerifyRPC([]byte(goldenSecret), "POST", params); err != nil {
		t.Fatalf("VerifyRPC: %v", err)
	}
}

// TestRPCAgainstAliyunSigner signs CommonRequests with alibaba-cloud-sdk-go's
// own signer (random timestamp and nonce) and compares string to sign and
// signature.
func TestRPCAgainstAliyunSigner(t *testing.T) {
	for _, method := range []string{requests.GET, requests.POST} {
		req := requests.NewCommonRequest()
		req.Method = method
		req.Domain = goldenHost
		req.Version = "2020-06-06"
		req.ApiName = "GetChatappVerifyCode"
		target := req.QueryParams
		if method == requests.POST {
			target = req.FormParams
		}
		for k := range goldenQuery() {
			target[k] = goldenQuery().Get(k)
		}
		req.TransToAcsRequest()
		provider := credentials.NewStaticAKCredentialsProvider(goldenAK, goldenSecret)
		if err := aliauth.Sign(req.Ontology, nil, "cn-hangzhou", provider); err != nil {
			t.Fatal(err)
		}
		all := url.Values{}
		for k, v := range req.QueryParams {
			all.Set(k, v)
		}
		for k, v := range req.FormParams {
			all.Set(k, v)
		}
		if got, want := acsauth.RPCStringToSign(method, all), req.GetStringToSign(); got != want {
			t.Fatalf("%s: string to sign =\n%s\nSDK\n%s", method, got, want)
		}
		if err := acsauth.VerifyRPC([]byte(goldenSecret), method, all); err != nil {
			t.Fatalf("%s: VerifyRPC: %v", method, err)
		}
	}
}

func TestPercentEncode(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "",
		"AZaz09-_.~":         "AZaz09-_.~",
		" ":                  "%20",
		"*":                  "%2A",
		"+":                  "%2B",
		"~":                  "~",
		"中文":                 "%E4%B8%AD%E6%96%87",
		"/?#[]@!$&'()*+,;=%": "%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%25",
		"\x00\x7f\xff":       "%00%7F%FF",
		"2024-05-01T08:00Z":  "2024-05-01T08%3A00Z",
	} {
		if got := acsauth.PercentEncode(in); got != want {
			t.Errorf("PercentEncode(%q) = %q, want %q", in, got, want)
		}
		// The SDKs' recipe: QueryEscape, then fix '+', '*' and "%7E".
		sdk := strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(url.QueryEscape(in))
		if got := acsauth.PercentEncode(in); got != sdk {
			t.Errorf("PercentEncode(%q) = %q, SDK recipe %q", in, got, sdk)
		}
	}
}

// TestHMACAgainstStdlib checks the allocation-free HMACs against crypto/hmac
// across the key-length boundaries (64-byte block; RPC appends '&').
func TestHMACAgainstStdlib(t *testing.T) {
	for _, n := range []int{0, 1, 31, 62, 63, 64, 65, 127, 200} {
		secret := []byte(strings.Repeat("k", n))
		for _, msg := range []string{"", "short", acsauth.ACS3StringToSign("x"), strings.Repeat("m", 300)} {
			m := hmac.New(sha256.New, secret)
			m.Write([]byte(msg))
			if got, want := acsauth.ACS3Signature(secret, msg), hex.EncodeToString(m.Sum(nil)); got != want {
				t.Fatalf("ACS3Signature(len %d, %q) = %s, want %s", n, msg, got, want)
			}
			m = hmac.New(sha1.New, append(append([]byte{}, secret...), '&'))
			m.Write([]byte(msg))
			if got, want := acsauth.RPCSignature(secret, msg), base64.StdEncoding.EncodeToString(m.Sum(nil)); got != want {
				t.Fatalf("RPCSignature(len %d, %q) = %s, want %s", n, msg, got, want)
			}
		}
		// And through the verifiers.
		p := goldenRPCParams()
		acsauth.SignRPC(secret, "GET", p)
		if err := acsauth.VerifyRPC(secret, "GET", p); err != nil {
			t.Fatalf("VerifyRPC(len %d): %v", n, err)
		}
		cr := acsauth.ACS3CanonicalRequest("POST", goldenQuery(), goldenHost, httpHeader(goldenV3Headers()), []string{"host"}, acsauth.EmptyPayloadHash)
		a := acsauth.ACS3Authorization{Algorithm: acsauth.AlgorithmACS3HMACSHA256, Signature: acsauth.ACS3Signature(secret, acsauth.ACS3StringToSign(cr))}
		if err := acsauth.VerifyACS3(secret, a, cr); err != nil {
			t.Fatalf("VerifyACS3(len %d): %v", n, err)
		}
	}
}
