package acsauth_test

import (
	"testing"

	"github.com/verifyfn/verifyfn/shared/acsauth"
)

// BenchmarkACS3Verify measures what the front door does for a V3 request as
// darabonba sends it: parse the Authorization header, rebuild the canonical
// request and check the signature.
func BenchmarkACS3Verify(b *testing.B) {
	headers := goldenV3Headers()
	h := sdkAuthorization("POST", goldenQuery(), headers, acsauth.EmptyPayloadHash, goldenSecret)
	query, header, secret := goldenQuery(), httpHeader(headers), []byte(goldenSecret)
	b.Run("fused", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a, err := acsauth.ParseACS3Authorization(h)
			if err != nil {
				b.Fatal(err)
			}
			if err := acsauth.VerifyACS3Request(secret, a, "POST", query, goldenHost, header, acsauth.EmptyPayloadHash); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("two-step", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a, err := acsauth.ParseACS3Authorization(h)
			if err != nil {
				b.Fatal(err)
			}
			cr := acsauth.ACS3CanonicalRequest("POST", query, goldenHost, header, a.SignedHeaders, acsauth.EmptyPayloadHash)
			if err := acsauth.VerifyACS3(secret, a, cr); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRPCVerify measures VerifyRPC on the parameters
// alibaba-cloud-sdk-go sends for a GET CommonRequest (17 parameters).
func BenchmarkRPCVerify(b *testing.B) {
	p := goldenRPCParams()
	p.Set("RegionId", "cn-hangzhou")
	p.Set("SignatureType", "")
	acsauth.SignRPC([]byte(goldenSecret), "GET", p)
	secret := []byte(goldenSecret)
	b.ReportAllocs()
	for b.Loop() {
		if err := acsauth.VerifyRPC(secret, "GET", p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPercentEncode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = acsauth.PercentEncode("a b*c~d+中文")
	}
}
