package acsauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ACS3Authorization is a parsed V3 Authorization header:
//
//	ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2;...>,Signature=<hex>
type ACS3Authorization struct {
	// Algorithm is the signature algorithm, AlgorithmACS3HMACSHA256.
	Algorithm string
	// AccessKeyID is the Credential value.
	AccessKeyID string
	// SignedHeaders are the lowercase header names, in the order given.
	SignedHeaders []string
	// Signature is the hex signature (64 hex digits), as given.
	Signature string
}

// Signs reports whether name (any case) is one of the signed headers.
func (a ACS3Authorization) Signs(name string) bool {
	for _, h := range a.SignedHeaders {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

// String formats a as an Authorization header value.
func (a ACS3Authorization) String() string {
	return FormatACS3Authorization(a.AccessKeyID, a.SignedHeaders, a.Signature)
}

// FormatACS3Authorization formats a V3 Authorization header value for the
// algorithm ACS3-HMAC-SHA256, as darabonba does: no spaces after the commas,
// signedHeaders joined by ';' in the order given.
func FormatACS3Authorization(accessKeyID string, signedHeaders []string, signature string) string {
	n := len(AlgorithmACS3HMACSHA256) + len(" Credential=,SignedHeaders=,Signature=") + len(accessKeyID) + len(signature)
	for _, h := range signedHeaders {
		n += len(h) + 1
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(AlgorithmACS3HMACSHA256)
	b.WriteString(" Credential=")
	b.WriteString(accessKeyID)
	b.WriteString(",SignedHeaders=")
	for i, h := range signedHeaders {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(h)
	}
	b.WriteString(",Signature=")
	b.WriteString(signature)
	return b.String()
}

// ParseACS3Authorization parses a V3 Authorization header value. The form is
// strict, as the SDKs send it: the algorithm, one space, then exactly the
// three parameters Credential, SignedHeaders and Signature (in any order,
// each once) separated by commas, with no other whitespace. Credential must be
// visible ASCII; SignedHeaders a ';'-separated list of 1 to MaxSignedHeaders
// distinct lowercase header names; Signature 64 hex digits. Any other input
// yields ErrMalformed, or ErrUnsupportedAlgorithm (which wraps ErrMalformed)
// for a well-formed header with another ACS3-* algorithm.
func ParseACS3Authorization(h string) (ACS3Authorization, error) {
	var a ACS3Authorization
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg == "" || !strings.HasPrefix(alg, "ACS3-") || !visibleASCII(alg) {
		return ACS3Authorization{}, ErrMalformed
	}
	if !visibleASCII(rest) {
		return ACS3Authorization{}, ErrMalformed
	}
	var credential, signedHeaders, signature string
	var seen [3]bool
	for i := 0; i < 3; i++ {
		var part string
		if i < 2 {
			part, rest, ok = strings.Cut(rest, ",")
			if !ok {
				return ACS3Authorization{}, ErrMalformed
			}
		} else {
			part = rest
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok || value == "" {
			return ACS3Authorization{}, ErrMalformed
		}
		var slot int
		switch key {
		case "Credential":
			slot, credential = 0, value
		case "SignedHeaders":
			slot, signedHeaders = 1, value
		case "Signature":
			slot, signature = 2, value
		default:
			return ACS3Authorization{}, ErrMalformed
		}
		if seen[slot] {
			return ACS3Authorization{}, ErrMalformed
		}
		seen[slot] = true
	}
	if strings.ContainsRune(credential, '=') || !isHex(signature, 64) {
		return ACS3Authorization{}, ErrMalformed
	}
	list, ok := parseSignedHeaders(signedHeaders)
	if !ok {
		return ACS3Authorization{}, ErrMalformed
	}
	if alg != AlgorithmACS3HMACSHA256 {
		return ACS3Authorization{}, ErrUnsupportedAlgorithm
	}
	a.Algorithm = alg
	a.AccessKeyID = credential
	a.SignedHeaders = list
	a.Signature = signature
	return a, nil
}

// visibleASCII reports whether s has only bytes 0x21..0x7E (no whitespace,
// no control or non-ASCII bytes).
func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// isHex reports whether s is exactly n hex digits (either case).
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if _, ok := unhex(s[i]); !ok {
			return false
		}
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeHex32 decodes 64 hex digits into dst.
func decodeHex32(dst *[32]byte, s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range dst {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// parseSignedHeaders splits a SignedHeaders value; every name must be a
// non-empty lowercase HTTP token, and names must be distinct.
func parseSignedHeaders(s string) ([]string, bool) {
	n := strings.Count(s, ";") + 1
	if n > MaxSignedHeaders {
		return nil, false
	}
	list := make([]string, 0, n)
	for range n {
		var name string
		name, s, _ = strings.Cut(s, ";")
		if !lowerToken(name) || slices.Contains(list, name) {
			return nil, false
		}
		list = append(list, name)
	}
	return list, true
}

// lowerToken reports whether s is a non-empty RFC 7230 token without
// uppercase letters.
func lowerToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// ACS3CanonicalRequest builds the V3 canonical request from what arrived:
//
//	METHOD \n "/" \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//
// method is used as given (the SDK sends it uppercase). The canonical URI is
// always "/" (RPC style). query holds the decoded query parameters: they are
// sorted by key (byte order) and written "key=" + PercentEncode(value),
// joined by '&'; a key with several values gives one pair per value, in the
// order given. Keys are written as darabonba does, NOT percent-encoded except
// that '+' becomes %20, '*' becomes %2A and "%7E" becomes '~'; like
// darabonba, leading '&' characters of the whole string are dropped (this
// only matters for a first key starting with '&').
//
// signedHeaders names the headers to use; they are lowercased and sorted
// (byte order) for both the CanonicalHeaders and the SignedHeaders lines,
// which changes nothing for the sorted lowercase list the SDKs send. Each
// becomes "name:value\n" with the value trimmed of surrounding white space; several
// values of one header are trimmed, sorted and joined by ','. The value of
// "host" is the host argument (Go keeps it in http.Request.Host, not in
// http.Header); other names are looked up in header case-insensitively, and a
// missing header counts as empty.
//
// hashedPayload is the lowercase hex SHA-256 of the body (HashPayload). Pass
// the hash of the body that actually arrived, not the x-acs-content-sha256
// header: that header is signed, so a mismatch between the two fails the
// signature check.
func ACS3CanonicalRequest(method string, query url.Values, host string, header http.Header, signedHeaders []string, hashedPayload string) string {
	var keyBuf [32]string
	c := newACS3Canon(keyBuf[:0], method, query, host, header, signedHeaders, hashedPayload)
	return string(c.append(make([]byte, 0, c.size())))
}

// ACS3StringToSign returns "ACS3-HMAC-SHA256\n" + hex(SHA-256(canonicalRequest)).
func ACS3StringToSign(canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	var sts [acs3STSLen]byte
	fillACS3StringToSign(&sts, &sum)
	return string(sts[:])
}

// ACS3Signature returns the lowercase hex HMAC-SHA256 of stringToSign keyed
// with the AccessKey secret.
func ACS3Signature(secret []byte, stringToSign string) string {
	if len(stringToSign) != acs3STSLen {
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(stringToSign))
		return hex.EncodeToString(mac.Sum(nil))
	}
	var sts [acs3STSLen]byte
	copy(sts[:], stringToSign)
	sum := hmacSHA256STS(secret, &sts)
	return hex.EncodeToString(sum[:])
}

// VerifyACS3 recomputes the signature of canonicalRequest with secret and
// compares it with auth.Signature in constant time (hmac.Equal over the
// decoded bytes). It returns nil, ErrUnsupportedAlgorithm when
// auth.Algorithm is not ACS3-HMAC-SHA256, or ErrSignatureMismatch.
func VerifyACS3(secret []byte, auth ACS3Authorization, canonicalRequest string) error {
	if auth.Algorithm != AlgorithmACS3HMACSHA256 {
		return ErrUnsupportedAlgorithm
	}
	return verifyACS3Sum(secret, auth.Signature, sha256.Sum256([]byte(canonicalRequest)))
}

// VerifyACS3Request is ACS3CanonicalRequest followed by VerifyACS3, without
// materialising the canonical request as a string.
func VerifyACS3Request(secret []byte, auth ACS3Authorization, method string, query url.Values, host string, header http.Header, hashedPayload string) error {
	if auth.Algorithm != AlgorithmACS3HMACSHA256 {
		return ErrUnsupportedAlgorithm
	}
	var keyBuf [32]string
	c := newACS3Canon(keyBuf[:0], method, query, host, header, auth.SignedHeaders, hashedPayload)
	buf := c.append(make([]byte, 0, c.size()))
	return verifyACS3Sum(secret, auth.Signature, sha256.Sum256(buf))
}

func verifyACS3Sum(secret []byte, signature string, canonSum [32]byte) error {
	var want [32]byte
	if !decodeHex32(&want, signature) {
		return ErrSignatureMismatch
	}
	var sts [acs3STSLen]byte
	fillACS3StringToSign(&sts, &canonSum)
	got := hmacSHA256STS(secret, &sts)
	if !hmac.Equal(got[:], want[:]) {
		return ErrSignatureMismatch
	}
	return nil
}

// acs3STSLen is the length of a V3 string to sign.
const acs3STSLen = len(AlgorithmACS3HMACSHA256) + 1 + 2*sha256.Size

func fillACS3StringToSign(dst *[acs3STSLen]byte, sum *[32]byte) {
	n := copy(dst[:], AlgorithmACS3HMACSHA256)
	dst[n] = '\n'
	hex.Encode(dst[n+1:], sum[:])
}

// hmacSHA256STS computes HMAC-SHA256(key, sts) with crypto/hmac.
func hmacSHA256STS(key []byte, sts *[acs3STSLen]byte) [sha256.Size]byte {
	m := hmac.New(sha256.New, key)
	m.Write(sts[:])
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}

// acs3Canon holds the inputs of a V3 canonical request and writes it.
type acs3Canon struct {
	method        string
	query         url.Values
	keys          []string
	host          string
	header        http.Header
	signedHeaders []string
	hashedPayload string
}

// newACS3Canon prepares a canonical request; keys is scratch space for the
// sorted query keys.
func newACS3Canon(keys []string, method string, query url.Values, host string, header http.Header, signedHeaders []string, hashedPayload string) acs3Canon {
	return acs3Canon{
		method:        method,
		query:         query,
		host:          host,
		header:        header,
		signedHeaders: normalizeSignedHeaders(signedHeaders),
		hashedPayload: hashedPayload,
		keys:          sortedKeys(keys, query, ""),
	}
}

// sortedKeys appends the keys of q except skip to dst and sorts them.
func sortedKeys(dst []string, q url.Values, skip string) []string {
	for k := range q {
		if k != skip || skip == "" {
			dst = append(dst, k)
		}
	}
	slices.Sort(dst)
	return dst
}

// normalizeSignedHeaders returns the names lowercased and sorted; the input
// is returned as is when it already is.
func normalizeSignedHeaders(list []string) []string {
	ok := true
	for i, h := range list {
		if hasUpper(h) || i > 0 && list[i-1] > h {
			ok = false
			break
		}
	}
	if ok {
		return list
	}
	out := make([]string, len(list))
	for i, h := range list {
		out[i] = strings.ToLower(h)
	}
	slices.Sort(out)
	return out
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// headerValue returns the canonical value of the signed header name.
func (c *acs3Canon) headerValue(name string) string {
	if name == HeaderHost {
		return strings.TrimSpace(c.host)
	}
	vals := lookupHeader(c.header, name)
	switch len(vals) {
	case 0:
		return ""
	case 1:
		return strings.TrimSpace(vals[0])
	}
	trimmed := make([]string, len(vals))
	for i, v := range vals {
		trimmed[i] = strings.TrimSpace(v)
	}
	slices.Sort(trimmed)
	return strings.Join(trimmed, ",")
}

// lookupHeader returns the values of the header name (lowercase). It tries
// the canonical MIME key first, which is how net/http servers store every
// header, and otherwise merges the values of every case-insensitive match
// (hand-built headers).
func lookupHeader(h http.Header, name string) []string {
	var buf [64]byte
	if len(name) <= len(buf) {
		upper := true
		for i := 0; i < len(name); i++ {
			c := name[i]
			if upper && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			buf[i] = c
			upper = c == '-'
		}
		if v, ok := h[string(buf[:len(name)])]; ok {
			return v
		}
	}
	var out []string
	for k, v := range h {
		if strings.EqualFold(k, name) {
			out = append(out, v...)
		}
	}
	return out
}

// acs3KeyLen returns the written length of a query key.
func acs3KeyLen(k string) int {
	return len(k) + 2*(strings.Count(k, "+")+strings.Count(k, "*"))
}

func (c *acs3Canon) size() int {
	n := len(c.method) + 3 + 1 + len(c.hashedPayload)
	for _, k := range c.keys {
		kl := acs3KeyLen(k) + 2
		for _, v := range c.query[k] {
			n += kl + encodedLen(v)
		}
	}
	for _, h := range c.signedHeaders {
		n += 2*len(h) + 3 + len(c.headerValue(h))
	}
	return n + 2
}

// append appends the canonical request to dst.
func (c *acs3Canon) append(dst []byte) []byte {
	dst = append(dst, c.method...)
	dst = append(dst, "\n/\n"...)
	start := len(dst)
	first := true
	for _, k := range c.keys {
		for _, v := range c.query[k] {
			if !first {
				dst = append(dst, '&')
			}
			first = false
			dst = appendACS3Key(dst, k)
			dst = append(dst, '=')
			dst = appendPercentEncoded(dst, v)
		}
	}
	// darabonba trims every leading '&' of the canonical query string,
	// which only matters for a first key that starts with '&'.
	n := 0
	for start+n < len(dst) && dst[start+n] == '&' {
		n++
	}
	if n > 0 {
		dst = append(dst[:start], dst[start+n:]...)
	}
	dst = append(dst, '\n')
	for _, h := range c.signedHeaders {
		dst = append(dst, h...)
		dst = append(dst, ':')
		dst = append(dst, c.headerValue(h)...)
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	for i, h := range c.signedHeaders {
		if i > 0 {
			dst = append(dst, ';')
		}
		dst = append(dst, h...)
	}
	dst = append(dst, '\n')
	return append(dst, c.hashedPayload...)
}

// appendACS3Key appends a query key the way darabonba's canonical query
// string has it: raw, then '+' -> %20, '*' -> %2A, "%7E" -> '~'.
func appendACS3Key(dst []byte, k string) []byte {
	if !strings.ContainsAny(k, "+*%") {
		return append(dst, k...)
	}
	for i := 0; i < len(k); i++ {
		switch c := k[i]; {
		case c == '+':
			dst = append(dst, "%20"...)
		case c == '*':
			dst = append(dst, "%2A"...)
		case c == '%' && i+2 < len(k) && k[i+1] == '7' && k[i+2] == 'E':
			dst = append(dst, '~')
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
