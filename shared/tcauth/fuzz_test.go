package tcauth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/tcauth"
)

// FuzzTC3RoundTrip signs arbitrary requests as the SDKs do and checks that
// the Authorization header parses back to what was signed, the signature
// verifies, and a changed body, timestamp or signature does not.
func FuzzTC3RoundTrip(f *testing.F) {
	f.Add("POST", "", "application/json", "cvm.tencentcloudapi.com", `{"Limit":1}`, int64(1551113065), "secret", "AKID", "cvm")
	f.Add("GET", "Limit=10&Offset=0", "application/x-www-form-urlencoded", "127.0.0.1:9000", "", int64(0), "", "AKIDLOCAL", "smh")
	f.Add("POST", "a=%20b", "APPLICATION/JSON; charset=utf-8", " Host.Example ", "\x00\xff", int64(-1), "k", "id", "domain")
	f.Fuzz(func(t *testing.T, method, query, contentType, host, body string, ts int64, secret, id, service string) {
		signed := []string{"content-type", "host"}
		header := func(name string) string {
			if name == "host" {
				return host
			}
			return contentType
		}
		date := time.Unix(ts, 0).UTC().Format(time.DateOnly)
		scope := date + "/" + service + "/tc3_request"
		canon := tcauth.CanonicalRequest(method, query, signed, header, true, tcauth.HashHex([]byte(body)))
		sig := tcauth.Signature([]byte(secret), date, service, tcauth.StringToSign(ts, scope, canon))
		a, err := tcauth.ParseAuthorization(tcauth.FormatAuthorization(id, scope, signed, sig))
		if err != nil {
			// Only a SecretId or service that cannot be written in the
			// header (empty, or with a separator) fails to parse.
			if id != "" && service != "" && !strings.ContainsAny(id+service+date, "/, =") && len(id+service) < 800 {
				t.Fatalf("own header does not parse: %v", err)
			}
			return
		}
		if a.SecretID != id || a.Service != service || a.Date != date {
			t.Fatalf("parsed %+v, signed %q %q %q", a, id, service, date)
		}
		if err := tcauth.Verify([]byte(secret), a, ts, canon); err != nil {
			t.Fatalf("own signature does not verify: %v", err)
		}
		tampered := tcauth.CanonicalRequest(method, query, signed, header, true, tcauth.HashHex([]byte(body+"x")))
		if tcauth.Verify([]byte(secret), a, ts, tampered) == nil {
			t.Fatal("a changed body verifies")
		}
		if tcauth.Verify([]byte(secret), a, ts+1, canon) == nil {
			t.Fatal("a changed timestamp verifies")
		}
		a.Signature[0] ^= 1
		if tcauth.Verify([]byte(secret), a, ts, canon) == nil {
			t.Fatal("a changed signature verifies")
		}
	})
}

// FuzzV1RoundTrip signs arbitrary v1 parameter sets and checks that the
// signature verifies with the same method, host and parameters, and not
// with another signature method, another host or a changed signature.
func FuzzV1RoundTrip(f *testing.F) {
	f.Add("GET", "cvm.tencentcloudapi.com", "Action", "DescribeInstances", "Nonce", "11886", "secret", "HmacSHA256")
	f.Add("POST", "127.0.0.1:9000", "PhoneNum", "5123 4567", "Signature", "ignored", "", "HmacSHA1")
	f.Add("GET", "", "a&b", "c=d", "", "", "k", "")
	f.Fuzz(func(t *testing.T, method, host, k1, v1, k2, v2, secret, sigMethod string) {
		params := map[string]string{k1: v1, k2: v2, "Timestamp": "1465185768"}
		sts := tcauth.V1StringToSign(method, host, params)
		sig := tcauth.V1Signature([]byte(secret), sigMethod, sts)
		if err := tcauth.VerifyV1([]byte(secret), sigMethod, sts, sig); err != nil {
			t.Fatalf("own signature does not verify: %v", err)
		}
		if again := tcauth.V1StringToSign(method, host, params); again != sts {
			t.Fatalf("string to sign is not deterministic: %q vs %q", sts, again)
		}
		if _, ok := params["Signature"]; ok && strings.Contains(sts, "Signature=") && k1 != "Signature" && k2 != "Signature" {
			t.Fatalf("Signature is signed: %q", sts)
		}
		if other := tcauth.V1StringToSign(method, host+"x", params); tcauth.VerifyV1([]byte(secret), sigMethod, other, sig) == nil {
			t.Fatal("verifies for another host")
		}
		otherMethod := "HmacSHA1"
		if sigMethod != "HmacSHA256" {
			otherMethod = "HmacSHA256"
		}
		if tcauth.VerifyV1([]byte(secret), otherMethod, sts, sig) == nil {
			t.Fatal("verifies with the other signature method")
		}
		b := []byte(sig)
		b[0] ^= 1
		if tcauth.VerifyV1([]byte(secret), sigMethod, sts, string(b)) == nil {
			t.Fatal("a changed signature verifies")
		}
	})
}
