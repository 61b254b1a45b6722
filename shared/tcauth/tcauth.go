// Package tcauth computes and checks Tencent Cloud API 3.0 request signatures:
// TC3-HMAC-SHA256 (signature v3) and the legacy HmacSHA1 / HmacSHA256
// (signature v1). The functions are pure: the HTTP front door extracts what
// arrived and calls them. Signatures are compared with hmac.Equal.
package tcauth

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the v3 signature algorithm name.
const Algorithm = "TC3-HMAC-SHA256"

// Errors.
var (
	ErrMalformed = errors.New("tcauth: malformed Authorization")
	ErrMismatch  = errors.New("tcauth: signature mismatch")
)

// Authorization is a parsed TC3 Authorization header:
//
//	TC3-HMAC-SHA256 Credential=<SecretId>/<Date>/<service>/tc3_request, SignedHeaders=<h1;h2>, Signature=<hex>
type Authorization struct {
	SecretID      string
	Date          string // yyyy-mm-dd, UTC date of X-TC-Timestamp
	Service       string
	SignedHeaders []string // lowercase, in the order given
	Signature     []byte   // decoded hex, 32 bytes
}

// Scope returns the credential scope "Date/service/tc3_request".
func (a Authorization) Scope() string { return a.Date + "/" + a.Service + "/tc3_request" }

// ParseAuthorization parses a TC3 Authorization header. It accepts the fields
// separated by "," with optional spaces, in the SDKs' order.
func ParseAuthorization(h string) (Authorization, error) {
	var a Authorization
	rest, ok := strings.CutPrefix(h, Algorithm+" ")
	if !ok || len(h) > 1024 {
		return a, ErrMalformed
	}
	var cred, signed, sig string
	var seen [3]bool
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, ErrMalformed
		}
		var i int
		switch k {
		case "Credential":
			i, cred = 0, v
		case "SignedHeaders":
			i, signed = 1, v
		case "Signature":
			i, sig = 2, v
		default:
			return a, ErrMalformed
		}
		if seen[i] {
			return a, ErrMalformed
		}
		seen[i] = true
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return a, ErrMalformed
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 4 || parts[3] != "tc3_request" || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return a, ErrMalformed
	}
	a.SecretID, a.Date, a.Service = parts[0], parts[1], parts[2]
	if signed == "" {
		return a, ErrMalformed
	}
	a.SignedHeaders = strings.Split(signed, ";")
	for _, name := range a.SignedHeaders {
		if name == "" || name != strings.ToLower(name) {
			return a, ErrMalformed
		}
	}
	b, err := hex.DecodeString(sig)
	if err != nil || len(b) != sha256.Size {
		return a, ErrMalformed
	}
	a.Signature = b
	return a, nil
}

// HashHex returns the lowercase hex SHA-256 of b.
func HashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// CanonicalRequest builds the TC3 canonical request. header returns the value
// of a signed header as received (for "host", the Host the client used);
// lowerValues lowercases header values as Tencent's documentation specifies
// (the official SDKs send lowercase values, so both forms usually agree).
func CanonicalRequest(method, rawQuery string, signedHeaders []string, header func(string) string, lowerValues bool, payloadHash string) string {
	var b strings.Builder
	b.Grow(256)
	b.WriteString(method)
	b.WriteString("\n/\n")
	b.WriteString(rawQuery)
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		v := strings.TrimSpace(header(name))
		if lowerValues {
			v = strings.ToLower(v)
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// StringToSign builds the TC3 string to sign.
func StringToSign(timestamp int64, scope, canonicalRequest string) string {
	return Algorithm + "\n" + strconv.FormatInt(timestamp, 10) + "\n" + scope + "\n" + HashHex([]byte(canonicalRequest))
}

// SigningKey derives the TC3 signing key for one secret, date and service.
// It changes once a day, so servers may cache it.
func SigningKey(secretKey []byte, date, service string) []byte {
	k := hmacSum(sha256.New, append([]byte("TC3"), secretKey...), date)
	k = hmacSum(sha256.New, k, service)
	return hmacSum(sha256.New, k, "tc3_request")
}

// Signature computes the TC3 signature bytes.
func Signature(secretKey []byte, date, service, stringToSign string) []byte {
	return hmacSum(sha256.New, SigningKey(secretKey, date, service), stringToSign)
}

// Verify checks a TC3 signature in constant time.
func Verify(secretKey []byte, a Authorization, timestamp int64, canonicalRequest string) error {
	return VerifyWithKey(SigningKey(secretKey, a.Date, a.Service), a, timestamp, canonicalRequest)
}

// VerifyWithKey is Verify with a signing key from SigningKey.
func VerifyWithKey(signingKey []byte, a Authorization, timestamp int64, canonicalRequest string) error {
	want := hmacSum(sha256.New, signingKey, StringToSign(timestamp, a.Scope(), canonicalRequest))
	if !hmac.Equal(want, a.Signature) {
		return ErrMismatch
	}
	return nil
}

// FormatAuthorization renders an Authorization header the way the official
// SDKs do (", " separators).
func FormatAuthorization(secretID, scope string, signedHeaders []string, signature []byte) string {
	return Algorithm + " Credential=" + secretID + "/" + scope + ", SignedHeaders=" + strings.Join(signedHeaders, ";") +
		", Signature=" + hex.EncodeToString(signature)
}

// V1StringToSign builds the signature v1 string to sign: method + host + "/?"
// + every parameter except Signature, sorted by name, as raw "k=v" joined by
// "&". params holds decoded values; a parameter given twice is malformed and
// must be refused by the caller before signing.
func V1StringToSign(method, host string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	n := len(method) + len(host) + 2
	for k, v := range params {
		if k == "Signature" {
			continue
		}
		keys = append(keys, k)
		n += len(k) + len(v) + 2
	}
	sort.Strings(keys)
	var b strings.Builder
	b.Grow(n)
	b.WriteString(method)
	b.WriteString(host)
	b.WriteString("/?")
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params[k])
	}
	return b.String()
}

// V1Signature computes the v1 signature: Base64(HMAC(secretKey,
// stringToSign)) with SHA-256 when method is "HmacSHA256", SHA-1 otherwise
// (as Tencent documents: anything but HmacSHA256 means HmacSHA1).
func V1Signature(secretKey []byte, signatureMethod, stringToSign string) string {
	h := sha1.New
	if signatureMethod == "HmacSHA256" {
		h = sha256.New
	}
	return base64.StdEncoding.EncodeToString(hmacSum(h, secretKey, stringToSign))
}

// VerifyV1 checks a v1 signature (base64 as sent) in constant time.
func VerifyV1(secretKey []byte, signatureMethod, stringToSign, signature string) error {
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return ErrMismatch
	}
	h := sha1.New
	if signatureMethod == "HmacSHA256" {
		h = sha256.New
	}
	if !hmac.Equal(hmacSum(h, secretKey, stringToSign), got) {
		return ErrMismatch
	}
	return nil
}

func hmacSum(h func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// Sign returns the Authorization header the official SDKs send for a request
// that signs content-type and host (the SDKs' SignedHeaders). rawQuery is
// signed only for GET, as the protocol says; body is the exact payload.
// Clients, tests and events built for other functions use it.
func Sign(secretID string, secretKey []byte, service, method, host, contentType, rawQuery string, body []byte, timestamp int64) string {
	if method != "GET" {
		rawQuery = ""
	}
	signed := []string{"content-type", "host"}
	header := func(name string) string {
		if name == "host" {
			return host
		}
		return contentType
	}
	date := time.Unix(timestamp, 0).UTC().Format(time.DateOnly)
	scope := date + "/" + service + "/tc3_request"
	canon := CanonicalRequest(method, rawQuery, signed, header, true, HashHex(body))
	return FormatAuthorization(secretID, scope, signed, Signature(secretKey, date, service, StringToSign(timestamp, scope, canon)))
}
