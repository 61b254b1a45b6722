// Package gwtest is test support for the gateway adapters: it captures a
// request exactly as the official Tencent Cloud SDK sends it (the SDK signs
// it with TC3-HMAC-SHA256 and hands it to a recording transport, so nothing
// goes on the network) and builds gateway events around such a request from
// the vendors' documented example events.
package gwtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/verifyfn/verifyfn/shared/accounts"
)

// Call is one API call to capture.
type Call struct {
	Host                     string // the endpoint the client uses (signed)
	Method                   string // "POST" (default) or "GET"
	Service, Version, Action string
	Params                   map[string]string
	SecretID, SecretKey      string // default: the development credential
}

// Captured is a request as the SDK put it on the wire.
type Captured struct {
	Method   string      `json:"method"`
	Host     string      `json:"host"`
	Path     string      `json:"path"`
	RawQuery string      `json:"rawQuery"`
	Header   http.Header `json:"header"`
	Body     string      `json:"body"`
}

// Timestamp returns the X-TC-Timestamp the SDK signed.
func (c Captured) Timestamp() time.Time {
	ts, _ := strconv.ParseInt(c.Header.Get("X-TC-Timestamp"), 10, 64)
	return time.Unix(ts, 0)
}

// recorder is an http.RoundTripper that keeps the request and answers with
// an empty success envelope.
type recorder struct {
	mu  sync.Mutex
	got *Captured
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		body = b
	}
	h := req.Header.Clone()
	h.Del("User-Agent") // Go's transport would add its own; keep the SDK's set
	r.mu.Lock()
	r.got = &Captured{Method: req.Method, Host: req.Host, Path: req.URL.EscapedPath(), RawQuery: req.URL.RawQuery, Header: h, Body: string(body)}
	r.mu.Unlock()
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(`{"Response":{"RequestId":"captured"}}`)),
		Request:    req,
	}, nil
}

// Capture signs c with the official SDK common client and returns the
// request it sent.
func Capture(tb testing.TB, c Call) Captured {
	tb.Helper()
	cp := profile.NewClientProfile()
	cp.HttpProfile.Endpoint = c.Host
	cp.HttpProfile.Scheme = "HTTPS"
	cp.HttpProfile.ReqMethod = c.Method
	if cp.HttpProfile.ReqMethod == "" {
		cp.HttpProfile.ReqMethod = http.MethodPost
	}
	cp.Language = "en-US"
	id, key := c.SecretID, c.SecretKey
	if id == "" {
		id, key = accounts.DevSecretID, accounts.DevSecretKey
	}
	rec := &recorder{}
	client := common.NewCommonClient(common.NewCredential(id, key), "", cp)
	client.WithHttpTransport(rec)
	req := tchttp.NewCommonRequest(c.Service, c.Version, c.Action)
	if cp.HttpProfile.ReqMethod == http.MethodGet {
		maps.Copy(req.GetParams(), c.Params)
	} else {
		params := map[string]any{}
		for k, v := range c.Params {
			params[k] = v
		}
		if err := req.SetActionParameters(params); err != nil {
			tb.Fatal(err)
		}
	}
	if err := client.Send(req, tchttp.NewCommonResponse()); err != nil {
		tb.Fatalf("SDK send: %v", err)
	}
	if rec.got == nil {
		tb.Fatal("the SDK sent nothing")
	}
	return *rec.got
}

// Shape is a gateway event family.
type Shape string

// Shapes.
const (
	V1  Shape = "apigw-v1"  // API Gateway REST API proxy event
	V2  Shape = "apigw-v2"  // API Gateway HTTP API payload 2.0
	URL Shape = "url"       // Lambda function URL
	SCF Shape = "scf-apigw" // Tencent SCF API Gateway trigger
)

// EventOptions adjust Event.
type EventOptions struct {
	Path   string // the route, e.g. "/sendverify"
	Base64 bool   // deliver the body base64-encoded
	// Domain is the event's domain field (requestContext.domainName; default
	// the captured Host). HostHeader, if set, replaces the Host header.
	Domain     string
	HostHeader string
	// Extra headers to add to the event (names as given).
	Extra map[string]string
}

// Event returns template (a vendor example event of that shape, JSON) with
// the request c put in: method, path, query, headers, body and the fields
// that name them.
func Event(tb testing.TB, shape Shape, template []byte, c Captured, o EventOptions) []byte {
	tb.Helper()
	var ev map[string]any
	if err := json.Unmarshal(template, &ev); err != nil {
		tb.Fatalf("template: %v", err)
	}
	if o.Path == "" {
		o.Path = "/"
	}
	host := c.Host
	if o.HostHeader != "" {
		host = o.HostHeader
	}
	domain := o.Domain
	if domain == "" {
		domain = c.Host
	}
	body, b64 := c.Body, false
	if o.Base64 {
		body, b64 = base64.StdEncoding.EncodeToString([]byte(c.Body)), true
	}
	hdr := c.Header.Clone()
	hdr.Set("Host", host)
	hdr.Set("Content-Length", strconv.Itoa(len(c.Body)))
	if len(c.Body) == 0 {
		hdr.Del("Content-Length")
	}
	for k, v := range o.Extra {
		hdr[k] = []string{v}
	}
	query, err := url.ParseQuery(c.RawQuery)
	if err != nil {
		tb.Fatal(err)
	}
	rc, _ := ev["requestContext"].(map[string]any)
	if rc == nil {
		rc = map[string]any{}
		ev["requestContext"] = rc
	}
	switch shape {
	case V1:
		// Keep the example's CloudFront headers; put the request's on top.
		single, _ := ev["headers"].(map[string]any)
		multi, _ := ev["multiValueHeaders"].(map[string]any)
		for _, name := range []string{"Content-Type", "Host", "headerName", "Postman-Token"} {
			delete(single, name)
			delete(multi, name)
		}
		for k, vs := range hdr {
			single[k] = vs[len(vs)-1]
			multi[k] = vs
		}
		ev["resource"], ev["path"], ev["httpMethod"] = o.Path, o.Path, c.Method
		ev["queryStringParameters"], ev["multiValueQueryStringParameters"] = nil, nil
		if len(query) > 0 {
			qs, mq := map[string]any{}, map[string]any{}
			for k, vs := range query {
				qs[k], mq[k] = vs[len(vs)-1], vs
			}
			ev["queryStringParameters"], ev["multiValueQueryStringParameters"] = qs, mq
		}
		ev["pathParameters"] = nil
		ev["body"], ev["isBase64Encoded"] = body, b64
		rc["path"], rc["resourcePath"], rc["httpMethod"] = "/testStage"+o.Path, o.Path, c.Method
		rc["domainName"], rc["domainPrefix"] = domain, strings.Split(domain, ".")[0]
	case V2, URL:
		headers, _ := ev["headers"].(map[string]any)
		if headers == nil {
			headers = map[string]any{}
		}
		delete(headers, "content-length")
		for k, vs := range hdr {
			headers[strings.ToLower(k)] = strings.Join(vs, ",")
		}
		ev["headers"] = headers
		ev["rawPath"], ev["rawQueryString"] = o.Path, c.RawQuery
		ev["queryStringParameters"] = nil
		if len(query) > 0 {
			qs := map[string]any{}
			for k, vs := range query {
				qs[k] = strings.Join(vs, ",")
			}
			ev["queryStringParameters"] = qs
		}
		ev["body"], ev["isBase64Encoded"] = body, b64
		httpCtx, _ := rc["http"].(map[string]any)
		httpCtx["method"], httpCtx["path"] = c.Method, o.Path
		rc["domainName"], rc["domainPrefix"] = domain, strings.Split(domain, ".")[0]
		if shape == V2 {
			ev["routeKey"] = c.Method + " " + o.Path
			rc["routeKey"] = ev["routeKey"]
			rc["stage"] = "$default"
		}
	case SCF:
		headers := map[string]any{}
		for k, vs := range hdr {
			headers[strings.ToLower(k)] = strings.Join(vs, ",")
		}
		// Keep the example's gateway headers.
		if old, ok := ev["headers"].(map[string]any); ok {
			for _, k := range []string{"endpoint-timeout", "x-anonymous-consumer", "x-qualifier", "connection"} {
				if v, ok := old[k]; ok {
					headers[k] = v
				}
			}
		}
		ev["headers"] = headers
		ev["httpMethod"], ev["path"] = c.Method, o.Path
		qs := map[string]any{}
		for k, vs := range query {
			if len(vs) == 1 {
				qs[k] = vs[0]
			} else {
				qs[k] = vs
			}
		}
		ev["queryString"] = qs
		ev["queryStringParameters"] = map[string]any{}
		ev["body"], ev["isBase64Encoded"] = body, b64
		rc["path"], rc["httpMethod"] = o.Path, "ANY"
	default:
		tb.Fatalf("unknown shape %q", shape)
	}
	out, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// Response is an HTTP response as any of the gateway shapes return it.
type Response struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
	Cookies           []string            `json:"cookies"`
}

// Decode parses a response payload.
func Decode(tb testing.TB, payload []byte) Response {
	tb.Helper()
	var r Response
	if err := json.Unmarshal(payload, &r); err != nil {
		tb.Fatalf("response %s: %v", payload, err)
	}
	return r
}

// ContentType returns the response's Content-Type, whichever header map
// carries it.
func (r Response) ContentType() string {
	if v, ok := r.Headers["Content-Type"]; ok {
		return v
	}
	if vs := r.MultiValueHeaders["Content-Type"]; len(vs) > 0 {
		return strings.Join(vs, ",")
	}
	return ""
}

// BodyBytes returns the decoded body.
func (r Response) BodyBytes(tb testing.TB) []byte {
	tb.Helper()
	if !r.IsBase64Encoded {
		return []byte(r.Body)
	}
	b, err := base64.StdEncoding.DecodeString(r.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Code returns the Tencent error code in the body ("" for success); it fails
// unless the response is HTTP 200 application/json with a RequestId.
func (r Response) Code(tb testing.TB) string {
	tb.Helper()
	if r.StatusCode != http.StatusOK {
		tb.Fatalf("statusCode %d, want 200", r.StatusCode)
	}
	if got := r.ContentType(); got != "application/json" {
		tb.Fatalf("Content-Type %q, want application/json", got)
	}
	var env struct {
		Response struct {
			Error     *struct{ Code, Message string }
			RequestID string `json:"RequestId"`
		}
	}
	if err := json.NewDecoder(bytes.NewReader(r.BodyBytes(tb))).Decode(&env); err != nil {
		tb.Fatalf("body %q: %v", r.Body, err)
	}
	if env.Response.RequestID == "" {
		tb.Fatalf("no RequestId in %s", r.Body)
	}
	if env.Response.Error == nil {
		return ""
	}
	return env.Response.Error.Code
}

// EventTimestamp returns the X-TC-Timestamp signed in an event.
func EventTimestamp(tb testing.TB, event []byte) time.Time {
	tb.Helper()
	var ev struct {
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		tb.Fatal(err)
	}
	for k, v := range ev.Headers {
		if strings.EqualFold(k, "X-TC-Timestamp") {
			ts, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return time.Unix(ts, 0)
		}
	}
	tb.Fatal("no X-TC-Timestamp in the event")
	return time.Time{}
}
