// Package awslambda serves an http.Handler on AWS Lambda (github.com/aws/aws-lambda-go)
// behind the three HTTP front ends Lambda has: API Gateway REST APIs (the v1
// proxy event, also HTTP APIs with payload format 1.0), API Gateway HTTP APIs
// (payload format 2.0) and Lambda function URLs. Each event becomes the
// *http.Request net/http would have built, and the handler's response goes
// back in the same event family's response shape.
//
// Fidelity:
//   - v2 and function URL events carry rawPath and rawQueryString: the request
//     gets them byte for byte. v1 events carry only the decoded path and
//     decoded query parameters; the adapter re-encodes them canonically
//     (url.Values.Encode order and escaping), which is the form the official
//     Tencent SDKs sign for GET, so their signatures still verify.
//   - v1 multiValueHeaders are used when present (headers otherwise); v2
//     single-value headers arrive comma-joined, and cookies become a Cookie
//     header.
//   - Base64 bodies are decoded; a response body that is not valid UTF-8 is
//     returned base64-encoded with isBase64Encoded.
//   - Host is the Host header the client sent (v1 headers.Host, v2
//     headers.host), else the event's requestContext.domainName; the domain
//     name is also passed in the X-Verifyfn-Domain-Name header (see
//     httpevent.DomainHeader), which clients cannot set.
//
// Whatever the handler answers, including a documented API error, is a
// normal response. Invoke returns an error, which Lambda reports as a
// function error, only when the event cannot be adapted at all.
//
// See https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway.html
// and https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html.
package awslambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/verifyfn/verifyfn/shared/runtime/internal/httpevent"
)

// Handler adapts an http.Handler to lambda.Handler.
type Handler struct {
	h http.Handler
	o Options
}

var _ lambda.Handler = (*Handler)(nil)

// Options configure the adapter.
type Options struct {
	// AfterInvoke, if not nil, runs once at the end of each Invoke, with
	// its context (the app's metrics write what the invocation counted as
	// CloudWatch EMF lines).
	AfterInvoke func(ctx context.Context)
}

// New returns the adapter for h.
func New(h http.Handler) *Handler { return NewWith(h, Options{}) }

// NewWith returns the adapter for h with o.
func NewWith(h http.Handler, o Options) *Handler { return &Handler{h: h, o: o} }

// Start serves h through the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API). It
// never returns; aws-lambda-go exits the process if the Runtime API fails.
// Build with -tags lambda.norpc for the provided.al2023 runtime.
func Start(h http.Handler, o Options) { lambda.Start(NewWith(h, o)) }

// ErrUnsupportedEvent is returned for a payload that is no HTTP event.
var ErrUnsupportedEvent = errors.New("awslambda: the event is not an API Gateway or function URL HTTP event")

// probe tells the event families apart.
type probe struct {
	Version        string `json:"version"`
	RouteKey       string `json:"routeKey"`
	HTTPMethod     string `json:"httpMethod"`
	RequestContext struct {
		HTTP struct {
			Method string `json:"method"`
		} `json:"http"`
	} `json:"requestContext"`
}

// Invoke implements lambda.Handler: payload is an event, the result its
// response.
func (a *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if a.o.AfterInvoke != nil {
		defer a.o.AfterInvoke(ctx)
	}
	var p probe
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("awslambda: event: %w", err)
	}
	var out any
	var err error
	switch {
	case p.Version == "2.0" && p.RequestContext.HTTP.Method != "":
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("awslambda: v2 event: %w", err)
		}
		out, err = a.v2(ctx, &ev, p.RouteKey == "")
	case p.HTTPMethod != "":
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("awslambda: v1 event: %w", err)
		}
		out, err = a.V1(ctx, &ev)
	default:
		return nil, ErrUnsupportedEvent
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// V1 serves an API Gateway REST (v1 proxy, or HTTP API payload 1.0) event.
func (a *Handler) V1(ctx context.Context, ev *events.APIGatewayProxyRequest) (*events.APIGatewayProxyResponse, error) {
	body, err := httpevent.DecodeBody(ev.Body, ev.IsBase64Encoded)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	if ev.MultiValueHeaders != nil {
		for k, vs := range ev.MultiValueHeaders {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
	} else {
		for k, v := range ev.Headers {
			h.Add(k, v)
		}
	}
	q := ev.MultiValueQueryStringParameters
	if q == nil && ev.QueryStringParameters != nil {
		q = make(map[string][]string, len(ev.QueryStringParameters))
		for k, v := range ev.QueryStringParameters {
			q[k] = []string{v}
		}
	}
	req, err := httpevent.Request{
		Method:     ev.HTTPMethod,
		Domain:     ev.RequestContext.DomainName,
		RawPath:    httpevent.EscapePath(ev.Path),
		RawQuery:   httpevent.EncodeQuery(q),
		Header:     h,
		Body:       body,
		RemoteAddr: ev.RequestContext.Identity.SourceIP,
	}.HTTP(ctx)
	if err != nil {
		return nil, fmt.Errorf("awslambda: %w", err)
	}
	w := httpevent.Serve(a.h, req)
	resp := &events.APIGatewayProxyResponse{StatusCode: w.Status(), MultiValueHeaders: map[string][]string(w.Header().Clone())}
	resp.Body, resp.IsBase64Encoded = httpevent.EncodeBody(w.Bytes())
	return resp, nil
}

// V2 serves an API Gateway HTTP API (payload format 2.0) event.
func (a *Handler) V2(ctx context.Context, ev *events.APIGatewayV2HTTPRequest) (*events.APIGatewayV2HTTPResponse, error) {
	out, err := a.v2(ctx, ev, false)
	if err != nil {
		return nil, err
	}
	return out.(*events.APIGatewayV2HTTPResponse), nil
}

// URL serves a Lambda function URL event (buffered invoke mode).
func (a *Handler) URL(ctx context.Context, ev *events.LambdaFunctionURLRequest) (*events.LambdaFunctionURLResponse, error) {
	v2 := events.APIGatewayV2HTTPRequest{
		Version: ev.Version, RawPath: ev.RawPath, RawQueryString: ev.RawQueryString, Cookies: ev.Cookies,
		Headers: ev.Headers, Body: ev.Body, IsBase64Encoded: ev.IsBase64Encoded,
	}
	v2.RequestContext.DomainName = ev.RequestContext.DomainName
	v2.RequestContext.HTTP.Method = ev.RequestContext.HTTP.Method
	v2.RequestContext.HTTP.SourceIP = ev.RequestContext.HTTP.SourceIP
	out, err := a.v2(ctx, &v2, true)
	if err != nil {
		return nil, err
	}
	return out.(*events.LambdaFunctionURLResponse), nil
}

// v2 serves a payload 2.0 event; url selects the function URL response type
// (the same JSON fields, without multiValueHeaders).
func (a *Handler) v2(ctx context.Context, ev *events.APIGatewayV2HTTPRequest, url bool) (any, error) {
	body, err := httpevent.DecodeBody(ev.Body, ev.IsBase64Encoded)
	if err != nil {
		return nil, err
	}
	h := make(http.Header, len(ev.Headers)+2)
	for k, v := range ev.Headers {
		h.Add(k, v)
	}
	if len(ev.Cookies) > 0 {
		h.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	req, err := httpevent.Request{
		Method:     ev.RequestContext.HTTP.Method,
		Domain:     ev.RequestContext.DomainName,
		RawPath:    ev.RawPath,
		RawQuery:   ev.RawQueryString,
		Header:     h,
		Body:       body,
		RemoteAddr: ev.RequestContext.HTTP.SourceIP,
	}.HTTP(ctx)
	if err != nil {
		return nil, fmt.Errorf("awslambda: %w", err)
	}
	w := httpevent.Serve(a.h, req)
	headers, cookies := httpevent.Joined(w.Header())
	text, b64 := httpevent.EncodeBody(w.Bytes())
	if url {
		return &events.LambdaFunctionURLResponse{StatusCode: w.Status(), Headers: headers, Cookies: cookies, Body: text, IsBase64Encoded: b64}, nil
	}
	return &events.APIGatewayV2HTTPResponse{StatusCode: w.Status(), Headers: headers, Cookies: cookies, Body: text, IsBase64Encoded: b64}, nil
}
