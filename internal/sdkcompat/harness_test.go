package sdkcompat_test

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
)

// wire is one HTTP/1.1 request as an SDK's HTTP stack writes it.
type wire struct {
	Method string
	Target string      // the request target: "/" or "/?query"
	Header [][2]string // header lines in order, names spelled as the SDK spells them
	Body   []byte
	// Chunked sends the body with Transfer-Encoding: chunked (OkHttp does
	// for a request body of unknown length); otherwise a POST, or any
	// request with a body, carries Content-Length.
	Chunked bool
}

func (w wire) bytes() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", w.Method, w.Target)
	for _, h := range w.Header {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	switch {
	case w.Chunked:
		b.WriteString("Transfer-Encoding: chunked\r\n")
	case w.Method == http.MethodPost || len(w.Body) > 0:
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(w.Body))
	}
	if !w.has("Connection") {
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("\r\n")
	if w.Chunked {
		if len(w.Body) > 0 {
			fmt.Fprintf(&b, "%x\r\n%s\r\n", len(w.Body), w.Body)
		}
		b.WriteString("0\r\n\r\n")
	} else {
		b.Write(w.Body)
	}
	return b.Bytes()
}

func (w wire) has(name string) bool {
	for _, h := range w.Header {
		if strings.EqualFold(h[0], name) {
			return true
		}
	}
	return false
}

// reply is what the server answered.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// send writes w on a fresh connection to addr (TLS when tlsConf is set) and
// reads the response. The deadline only guards against a hang.
func send(t *testing.T, addr string, tlsConf *tls.Config, w wire) reply {
	t.Helper()
	var conn net.Conn
	var err error
	if tlsConf != nil {
		conn, err = tls.Dial("tcp", addr, tlsConf)
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	if _, err := conn.Write(w.bytes()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// tencentCode checks the Tencent envelope (HTTP 200, Content-Type exactly
// application/json, a RequestId) and returns its error code, "" on success.
func tencentCode(t *testing.T, r reply) string {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want exactly application/json", ct)
	}
	var env apitest.Envelope
	if err := json.Unmarshal(r.Body, &env); err != nil {
		t.Fatalf("not a Tencent envelope: %s", r.Body)
	}
	if env.Response.RequestID == "" {
		t.Fatalf("no RequestId: %s", r.Body)
	}
	return env.Code()
}

// alibabaCode checks an Alibaba answer (JSON with RequestId and Code) and
// returns the Code ("OK" on success, which must come with HTTP 200 and
// Success true) and the status.
func alibabaCode(t *testing.T, r reply) (string, int) {
	t.Helper()
	var body struct {
		RequestID string `json:"RequestId"`
		Code      string
		Success   bool
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.RequestID == "" || body.Code == "" {
		t.Fatalf("status %d, not an Alibaba answer: %s", r.Status, r.Body)
	}
	if body.Code == "OK" && (r.Status != http.StatusOK || !body.Success) {
		t.Fatalf("Code OK with status %d, Success %v", r.Status, body.Success)
	}
	return body.Code, r.Status
}

// delivered fails unless the outbox holds a code for to.
func delivered(t *testing.T, s *apitest.Server, to string) {
	t.Helper()
	if code := s.LastCode(t, to); len(code) < 4 {
		t.Fatalf("code %q delivered to %s", code, to)
	}
}

var serial atomic.Int64

// next returns a number unique in the test binary, for fresh destinations
// (no request trips another's resend cooldown).
func next() int64 { return serial.Add(1) }

// Crypto primitives. The protocol steps around them are written per SDK.

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func hmacSHA1(key []byte, msg string) []byte {
	m := hmac.New(sha1.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// tc3Signature is Tencent's documented key derivation and signature
// (lowercase hex), the same in every SDK.
func tc3Signature(secretKey, date, service, stringToSign string) string {
	k := hmacSHA256([]byte("TC3"+secretKey), date)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "tc3_request")
	return hex.EncodeToString(hmacSHA256(k, stringToSign))
}

// v1Signature is base64(HMAC(secretKey, s)), SHA-256 for HmacSHA256.
func v1Signature(secretKey, method, s string) string {
	if method == "HmacSHA256" {
		return base64.StdEncoding.EncodeToString(hmacSHA256([]byte(secretKey), s))
	}
	return base64.StdEncoding.EncodeToString(hmacSHA1([]byte(secretKey), s))
}

// acs3Signature is hex(HMAC-SHA256(secret, "ACS3-HMAC-SHA256\n" +
// hex(SHA-256(canonicalRequest)))).
func acs3Signature(secret, canonicalRequest string) string {
	return hex.EncodeToString(hmacSHA256([]byte(secret), "ACS3-HMAC-SHA256\n"+sha256Hex([]byte(canonicalRequest))))
}

// utcDate is the UTC date of a Unix timestamp, yyyy-mm-dd.
func utcDate(ts int64) string { return time.Unix(ts, 0).UTC().Format(time.DateOnly) }

// Encoders, each emulating one language's function on the UTF-8 bytes.

// escape percent-encodes every byte for which keep is false, uppercase hex;
// a space becomes plus when spacePlus.
func escape(s string, keep func(byte) bool, spacePlus bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case keep(c):
			b.WriteByte(c)
		case c == ' ' && spacePlus:
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func alnum(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }

// javaURLEncode is java.net.URLEncoder.encode(s, "UTF-8"): keeps
// alphanumerics and . - * _, a space becomes +.
func javaURLEncode(s string) string {
	return escape(s, func(c byte) bool { return alnum(c) || strings.IndexByte(".-*_", c) >= 0 }, true)
}

// pyQuotePlus is Python 3's urllib.parse.quote_plus(s, safe=safe): keeps
// alphanumerics, _ . - ~ and safe, a space becomes +.
func pyQuotePlus(s, safe string) string {
	return escape(s, func(c byte) bool { return alnum(c) || strings.IndexByte("_.-~"+safe, c) >= 0 }, true)
}

// pyQuote is urllib.parse.quote(s, safe=safe) (a space becomes %20).
func pyQuote(s, safe string) string {
	return escape(s, func(c byte) bool { return alnum(c) || strings.IndexByte("_.-~"+safe, c) >= 0 }, false)
}

// pyURLEncode is urllib.parse.urlencode over ordered pairs (quote_plus with
// an empty safe set).
func pyURLEncode(pairs [][2]string) string {
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = pyQuotePlus(p[0], "") + "=" + pyQuotePlus(p[1], "")
	}
	return strings.Join(parts, "&")
}

// phpURLEncode is PHP's urlencode: keeps alphanumerics and - _ ., a space
// becomes + (so ~ becomes %7E).
func phpURLEncode(s string) string {
	return escape(s, func(c byte) bool { return alnum(c) || strings.IndexByte("-_.", c) >= 0 }, true)
}

// phpRawURLEncode is PHP's rawurlencode (RFC 3986): keeps alphanumerics and
// - _ . ~.
func phpRawURLEncode(s string) string {
	return escape(s, func(c byte) bool { return alnum(c) || strings.IndexByte("-_.~", c) >= 0 }, false)
}

// phpHTTPBuildQuery is http_build_query over ordered pairs with the default
// PHP_QUERY_RFC1738 (urlencode) and '&'.
func phpHTTPBuildQuery(pairs [][2]string) string {
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = phpURLEncode(p[0]) + "=" + phpURLEncode(p[1])
	}
	return strings.Join(parts, "&")
}

// dotnetURLEncode is System.Net.WebUtility.UrlEncode: keeps alphanumerics
// and - _ . ! * ( ), a space becomes +.
func dotnetURLEncode(s string) string {
	return escape(s, func(c byte) bool { return alnum(c) || strings.IndexByte("-_.!*()", c) >= 0 }, true)
}

// rfc3986 is the Alibaba percentEncode (URLEncoder, then + -> %20, * ->
// %2A, %7E -> ~), which equals RFC 3986 encoding: keeps alphanumerics and
// - _ . ~.
func rfc3986(s string) string {
	return escape(s, func(c byte) bool { return alnum(c) || strings.IndexByte("-_.~", c) >= 0 }, false)
}

// javaHashMapOrder returns keys in the order a java.util.HashMap with the
// default capacity (16) iterates them, given their insertion order: by
// bucket (hash ^ hash>>>16) & 15, insertion order within a bucket. It holds
// for at most 12 keys (the map does not resize).
func javaHashMapOrder(keys []string) []string {
	if len(keys) > 12 {
		panic("a default HashMap resizes past 12 keys")
	}
	var buckets [16][]string
	for _, k := range keys {
		var h int32
		for _, r := range k { // String.hashCode over UTF-16 units; keys are ASCII
			h = 31*h + int32(r)
		}
		u := uint32(h)
		buckets[(u^u>>16)&15] = append(buckets[(u^u>>16)&15], k)
	}
	var out []string
	for _, b := range buckets {
		out = append(out, b...)
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
