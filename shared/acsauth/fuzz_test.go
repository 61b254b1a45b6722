package acsauth_test

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/verifyfn/verifyfn/shared/acsauth"
)

func FuzzParseACS3Authorization(f *testing.F) {
	const sig = "d9a5407bc9d1194cf75379fa0250fae6e129ba46da68b0180b9d4f940ac73691"
	for _, s := range []string{
		"",
		"ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;x-acs-date,Signature=" + sig,
		"ACS3-HMAC-SHA256 Signature=" + sig + ",Credential=AK,SignedHeaders=host",
		"ACS3-HMAC-SM3 Credential=AK,SignedHeaders=host,Signature=" + sig,
		"ACS3-HMAC-SHA256 Credential=AK, SignedHeaders=host, Signature=" + sig,
		"ACS3-HMAC-SHA256 Credential=AK,Credential=AK,Signature=" + sig,
		"ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;;,Signature=",
		"ACS3-HMAC-SHA256 ,,",
		"ACS3- =,=,=",
		"TC3-HMAC-SHA256 Credential=AK/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=" + sig,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := acsauth.ParseACS3Authorization(h)
		if err != nil {
			if !errors.Is(err, acsauth.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if !reflect.DeepEqual(a, acsauth.ACS3Authorization{}) {
				t.Fatalf("non-zero result with error: %+v", a)
			}
			return
		}
		if a.Algorithm != acsauth.AlgorithmACS3HMACSHA256 || len(a.Signature) != 64 || a.AccessKeyID == "" ||
			len(a.SignedHeaders) == 0 || len(a.SignedHeaders) > acsauth.MaxSignedHeaders {
			t.Fatalf("accepted %q as %+v", h, a)
		}
		b, err := acsauth.ParseACS3Authorization(a.String())
		if err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip of %q: %+v, %v", a.String(), b, err)
		}
		// Verifying never panics either.
		_ = acsauth.VerifyACS3Request([]byte("s"), a, "POST", url.Values{"k": {h}}, "h", http.Header{"X-Acs-Date": {h}}, h)
	})
}

// FuzzRPCStringToSign checks the RPC string to sign and signature against
// darabonba's own GetRPCSignature, for arbitrary keys, values and methods.
func FuzzRPCStringToSign(f *testing.F) {
	f.Add("GET", "Action", "GetChatappVerifyCode", "Note", "a b*c~d+中文")
	f.Add("POST", "", "", "Timestamp", "2024-05-01T08:00:00Z")
	f.Add("get", "k=v&x", "%7E%2B", "*+~", "\x00\xff")
	f.Add("POST", "Signature", "abc", "a", "")
	f.Fuzz(func(t *testing.T, method, k1, v1, k2, v2 string) {
		params := url.Values{}
		params.Add(k1, v1)
		params.Add(k2, v2)
		sts := acsauth.RPCStringToSign(method, params)
		sig := acsauth.RPCSignature([]byte("secret"), sts)
		if k1 == k2 || k1 == "Signature" || k2 == "Signature" {
			return // the SDK signs a map (one value per key) without Signature
		}
		want := dara.StringValue(openapiutil.GetRPCSignature(sdkStringMap(params), dara.String(method), dara.String("secret")))
		if sig != want {
			t.Fatalf("signature of %q = %s, SDK %s", sts, sig, want)
		}
		params.Set("Signature", sig)
		if err := acsauth.VerifyRPC([]byte("secret"), method, params); err != nil {
			t.Fatalf("VerifyRPC: %v", err)
		}
	})
}

// FuzzACS3Query checks the V3 canonical query string against darabonba's
// GetAuthorization for arbitrary keys and values (keys are not encoded by
// the SDK, apart from '+', '*' and "%7E").
func FuzzACS3Query(f *testing.F) {
	f.Add("Note", "a b*c~d+中文", "Empty", "")
	f.Add("k+*", "%7E", "a%7Eb", "\x00\xff")
	f.Add("=", "&", "", "x")
	f.Add("&", "0", "0", "0") // darabonba trims the leading '&' of the query string
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		if k1 == k2 {
			return
		}
		query := url.Values{k1: {v1}, k2: {v2}}
		headers := goldenV3Headers()
		a, err := acsauth.ParseACS3Authorization(sdkAuthorization("POST", query, headers, acsauth.EmptyPayloadHash, goldenSecret))
		if err != nil {
			t.Fatal(err)
		}
		if err := acsauth.VerifyACS3Request([]byte(goldenSecret), a, "POST", query, goldenHost, httpHeader(headers), acsauth.EmptyPayloadHash); err != nil {
			t.Fatalf("query %q: %v", query, err)
		}
	})
}
