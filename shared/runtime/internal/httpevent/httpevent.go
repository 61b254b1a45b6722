// Package httpevent is what the gateway adapters share: it turns the parts
// every HTTP event carries (method, host, raw path and query, headers, body)
// into an *http.Request, and records a handler's response so an adapter can
// encode it in its gateway's response shape.
package httpevent

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// DomainHeader is set by the adapters, and only by them, to the domain name
// the gateway event reports (API Gateway requestContext.domainName). Any
// value a client sends under this name is dropped first, so a deployment can
// trust it: VERIFYFN_TRUSTED_HOST_HEADER=X-Verifyfn-Domain-Name makes
// signatures verify against the event's domain field instead of its Host.
const DomainHeader = "X-Verifyfn-Domain-Name"

// Request is an HTTP request as a gateway event describes it.
type Request struct {
	Method     string
	Host       string // the Host header the client sent ("" = use Domain)
	Domain     string // the event's domain field, if it has one
	RawPath    string // percent-encoded, as sent; "" means "/"
	RawQuery   string // as sent, without "?"
	Header     http.Header
	Body       []byte
	RemoteAddr string
}

// HTTP returns the request as net/http's server would have built it: URL
// and RequestURI from the raw path and query, Host taken out of the header
// map into Request.Host, ContentLength from the body.
func (e Request) HTTP(ctx context.Context) (*http.Request, error) {
	target := e.RawPath
	if target == "" {
		target = "/"
	}
	if e.RawQuery != "" {
		target += "?" + e.RawQuery
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, fmt.Errorf("httpevent: request target %q: %w", target, err)
	}
	r, err := http.NewRequestWithContext(ctx, e.Method, "/", bytes.NewReader(e.Body))
	if err != nil {
		return nil, fmt.Errorf("httpevent: %w", err)
	}
	h := e.Header
	if h == nil {
		h = http.Header{}
	}
	host := e.Host
	if host == "" {
		host = h.Get("Host")
	}
	if host == "" {
		host = e.Domain
	}
	h.Del("Host")
	h.Del(DomainHeader)
	if e.Domain != "" {
		h.Set(DomainHeader, e.Domain)
	}
	r.URL, r.RequestURI, r.Host, r.Header, r.RemoteAddr = u, target, host, h, e.RemoteAddr
	if len(e.Body) == 0 {
		r.Body, r.GetBody, r.ContentLength = http.NoBody, nil, 0
	}
	return r, nil
}

// DecodeBody returns an event body's bytes.
func DecodeBody(body string, base64Encoded bool) ([]byte, error) {
	if !base64Encoded {
		return []byte(body), nil
	}
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("httpevent: base64 body: %w", err)
	}
	return b, nil
}

// EncodeBody returns the body for a response event: the text itself when it
// is valid UTF-8 (it survives JSON unchanged), base64 otherwise.
func EncodeBody(b []byte) (body string, base64Encoded bool) {
	if utf8.Valid(b) {
		return string(b), false
	}
	return base64.StdEncoding.EncodeToString(b), true
}

// EncodeQuery renders decoded query parameters, as API Gateway REST and SCF
// events carry them, in the canonical form url.Values.Encode produces (keys
// sorted, values in order, QueryEscape). The official Tencent SDKs send GET
// queries in exactly this form, so a TC3 signature over them still verifies.
// A key without values is written bare ("flag").
func EncodeQuery(q map[string][]string) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		ek := url.QueryEscape(k)
		vs := q[k]
		if len(vs) == 0 {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(ek)
			continue
		}
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(ek)
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
		}
	}
	return b.String()
}

// EscapePath percent-encodes a decoded path as net/url does.
func EscapePath(p string) string {
	if p == "" {
		return "/"
	}
	return (&url.URL{Path: p}).EscapedPath()
}

// Recorder is a buffering http.ResponseWriter.
type Recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{header: http.Header{}} }

// Header implements http.ResponseWriter.
func (w *Recorder) Header() http.Header { return w.header }

// WriteHeader implements http.ResponseWriter; only the first call counts.
func (w *Recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

// Write implements http.ResponseWriter.
func (w *Recorder) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// Status returns the status code written (200 if none was).
func (w *Recorder) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Bytes returns the body written.
func (w *Recorder) Bytes() []byte { return w.body.Bytes() }

// Serve runs h on r and returns what it wrote.
func Serve(h http.Handler, r *http.Request) *Recorder {
	w := NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Joined returns the response headers with multiple values joined by ","
// (the single-value header maps of API Gateway v2, function URLs and SCF),
// leaving Set-Cookie out; cookies returns the Set-Cookie values.
func Joined(h http.Header) (headers map[string]string, cookies []string) {
	headers = make(map[string]string, len(h))
	for k, v := range h {
		if k == "Set-Cookie" {
			cookies = append(cookies, v...)
			continue
		}
		headers[k] = strings.Join(v, ",")
	}
	return headers, cookies
}
