package tcauth_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/shared/tcauth"
)

// Tencent's documented TC3 example (qcloud-documents, signature v3).
const (
	vecSecretID  = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
	vecSecretKey = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
	vecBody      = `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`
	vecTimestamp = 1551113065
)

func vecHeader(name string) string {
	return map[string]string{"content-type": "application/json; charset=utf-8", "host": "cvm.tencentcloudapi.com"}[name]
}

func TestTC3GoldenVector(t *testing.T) {
	if got, want := tcauth.HashHex([]byte(vecBody)), "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"; got != want {
		t.Fatalf("payload hash = %s, want %s", got, want)
	}
	canon := tcauth.CanonicalRequest("POST", "", []string{"content-type", "host"}, vecHeader, true, tcauth.HashHex([]byte(vecBody)))
	if got, want := tcauth.HashHex([]byte(canon)), "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"; got != want {
		t.Fatalf("hashed canonical request = %s, want %s\n%s", got, want, canon)
	}
	sts := tcauth.StringToSign(vecTimestamp, "2019-02-25/cvm/tc3_request", canon)
	sig := tcauth.Signature([]byte(vecSecretKey), "2019-02-25", "cvm", sts)
	if got, want := hex.EncodeToString(sig), "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"; got != want {
		t.Fatalf("signature = %s, want %s", got, want)
	}
	h := tcauth.FormatAuthorization(vecSecretID, "2019-02-25/cvm/tc3_request", []string{"content-type", "host"}, sig)
	a, err := tcauth.ParseAuthorization(h)
	if err != nil {
		t.Fatalf("ParseAuthorization(%q): %v", h, err)
	}
	if a.SecretID != vecSecretID || a.Date != "2019-02-25" || a.Service != "cvm" || strings.Join(a.SignedHeaders, ";") != "content-type;host" {
		t.Fatalf("parsed %+v", a)
	}
	if err := tcauth.Verify([]byte(vecSecretKey), a, vecTimestamp, canon); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got := tcauth.Sign(vecSecretID, []byte(vecSecretKey), "cvm", "POST", "cvm.tencentcloudapi.com",
		"application/json; charset=utf-8", "ignored for POST", []byte(vecBody), vecTimestamp); got != h {
		t.Fatalf("Sign = %s\nwant %s", got, h)
	}
	if err := tcauth.Verify([]byte("wrong"), a, vecTimestamp, canon); err == nil {
		t.Fatal("Verify with a wrong key succeeded")
	}
	if err := tcauth.Verify([]byte(vecSecretKey), a, vecTimestamp+1, canon); err == nil {
		t.Fatal("Verify with another timestamp succeeded")
	}
}

// TestV1GoldenVector pins signature v1 over Tencent's documented example
// (DescribeInstances, HmacSHA1), whose signature the documentation gives as
// EliP9YW3pW28FpsEdkXt/+WcGeI=.
func TestV1GoldenVector(t *testing.T) {
	params := map[string]string{
		"Action": "DescribeInstances", "InstanceIds.0": "ins-09dx96dg", "Limit": "20", "Nonce": "11886",
		"Offset": "0", "Region": "ap-guangzhou", "SecretId": "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
		"Timestamp": "1465185768", "Version": "2017-03-12", "Signature": "ignored",
	}
	sts := tcauth.V1StringToSign("GET", "cvm.tencentcloudapi.com", params)
	want := "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768&Version=2017-03-12"
	if sts != want {
		t.Fatalf("string to sign\n got %s\nwant %s", sts, want)
	}
	if got, want := tcauth.V1Signature([]byte(vecSecretKey), "HmacSHA1", sts), "EliP9YW3pW28FpsEdkXt/+WcGeI="; got != want {
		t.Fatalf("HmacSHA1 signature = %s, want %s", got, want)
	}
	if err := tcauth.VerifyV1([]byte(vecSecretKey), "HmacSHA1", sts, "EliP9YW3pW28FpsEdkXt/+WcGeI="); err != nil {
		t.Fatalf("VerifyV1: %v", err)
	}
	for _, bad := range []string{"", "!!!", "EliP9YW3pW28FpsEdkXt/+WcGeA=", tcauth.V1Signature([]byte(vecSecretKey), "HmacSHA256", sts)} {
		if tcauth.VerifyV1([]byte(vecSecretKey), "HmacSHA1", sts, bad) == nil {
			t.Errorf("VerifyV1 accepted %q", bad)
		}
	}
	if tcauth.VerifyV1([]byte(vecSecretKey), "HmacSHA256", sts, tcauth.V1Signature([]byte(vecSecretKey), "HmacSHA256", sts)) != nil {
		t.Error("HmacSHA256 round trip failed")
	}
}

func TestParseAuthorizationRejects(t *testing.T) {
	good := "TC3-HMAC-SHA256 Credential=AKID/2026-11-21/smh/tc3_request, SignedHeaders=content-type;host, Signature=" + strings.Repeat("ab", 32)
	if _, err := tcauth.ParseAuthorization(good); err != nil {
		t.Fatalf("good header rejected: %v", err)
	}
	for _, h := range []string{
		"",
		"TC3-HMAC-SHA256",
		"HMAC-SHA256 Credential=AKID/2026-11-21/smh/tc3_request, SignedHeaders=content-type;host, Signature=" + strings.Repeat("ab", 32),
		"TC3-HMAC-SHA256 Credential=AKID/2026-11-21/smh, SignedHeaders=content-type;host, Signature=" + strings.Repeat("ab", 32),
		"TC3-HMAC-SHA256 Credential=AKID/2026-11-21/smh/tc3_request, SignedHeaders=content-type;host, Signature=zz",
		"TC3-HMAC-SHA256 Credential=AKID/2026-11-21/smh/tc3_request, SignedHeaders=content-type;host, Signature=" + strings.Repeat("ab", 31),
		"TC3-HMAC-SHA256 Credential=AKID/2026-11-21/smh/tc3_request, SignedHeaders=, Signature=" + strings.Repeat("ab", 32),
		"TC3-HMAC-SHA256 Credential=AKID/2026-11-21/smh/tc3_request, SignedHeaders=Content-Type;host, Signature=" + strings.Repeat("ab", 32),
		"TC3-HMAC-SHA256 Credential=AKID/2026-11-21/smh/tc3_request, Credential=AKID/2026-11-21/smh/tc3_request, SignedHeaders=host, Signature=" + strings.Repeat("ab", 32),
		"TC3-HMAC-SHA256 Credential=AKID/2026-11-21/smh/tc3_request, SignedHeaders=content-type;host",
		"TC3-HMAC-SHA256 Credential=/2026-11-21/smh/tc3_request, SignedHeaders=content-type;host, Signature=" + strings.Repeat("ab", 32),
		"TC3-HMAC-SHA256 " + strings.Repeat("x", 2000),
	} {
		if _, err := tcauth.ParseAuthorization(h); err == nil {
			t.Errorf("ParseAuthorization(%.80q) = nil error", h)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("TC3-HMAC-SHA256 Credential=AKID/2026-11-21/smh/tc3_request, SignedHeaders=content-type;host, Signature=" + strings.Repeat("ab", 32))
	f.Add("TC3-HMAC-SHA256 Credential=a/b/c/tc3_request,SignedHeaders=x,Signature=00")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := tcauth.ParseAuthorization(h)
		if err != nil {
			return
		}
		if len(a.Signature) != 32 || a.SecretID == "" || len(a.SignedHeaders) == 0 {
			t.Fatalf("accepted an incomplete header: %+v", a)
		}
	})
}

func BenchmarkTC3Verify(b *testing.B) {
	canon := tcauth.CanonicalRequest("POST", "", []string{"content-type", "host"}, vecHeader, true, tcauth.HashHex([]byte(vecBody)))
	sts := tcauth.StringToSign(vecTimestamp, "2019-02-25/cvm/tc3_request", canon)
	h := tcauth.FormatAuthorization(vecSecretID, "2019-02-25/cvm/tc3_request", []string{"content-type", "host"},
		tcauth.Signature([]byte(vecSecretKey), "2019-02-25", "cvm", sts))
	body := []byte(vecBody)
	b.ReportAllocs()
	for b.Loop() {
		a, err := tcauth.ParseAuthorization(h)
		if err != nil {
			b.Fatal(err)
		}
		c := tcauth.CanonicalRequest("POST", "", a.SignedHeaders, vecHeader, true, tcauth.HashHex(body))
		if err := tcauth.Verify([]byte(vecSecretKey), a, vecTimestamp, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkV1Verify(b *testing.B) {
	params := map[string]string{"Action": "SendVerifyCode", "CountryCode": "852", "PhoneNum": "51234567", "Nonce": "11886",
		"SecretId": vecSecretID, "Timestamp": "1465185768", "Version": "2022-09-28", "SignatureMethod": "HmacSHA256"}
	sig := tcauth.V1Signature([]byte(vecSecretKey), "HmacSHA256", tcauth.V1StringToSign("POST", "localhost", params))
	b.ReportAllocs()
	for b.Loop() {
		if err := tcauth.VerifyV1([]byte(vecSecretKey), "HmacSHA256", tcauth.V1StringToSign("POST", "localhost", params), sig); err != nil {
			b.Fatal(err)
		}
	}
}
