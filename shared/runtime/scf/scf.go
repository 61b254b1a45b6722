// Package scf serves an http.Handler as a Tencent Cloud SCF event function
// (Go1 runtime; the protocol and event types of github.com/tencentyun/scf-go-lib)
// behind an API Gateway
// trigger with integrated response: the trigger's event becomes the
// *http.Request net/http would have built, and the handler's response goes
// back as events.APIGatewayResponse.
//
// Fidelity: the event carries the request path and the decoded query
// parameters (no raw query string); the adapter re-encodes them canonically
// (url.Values.Encode order and escaping), the form the official Tencent SDKs
// sign for GET, so their signatures still verify. Headers arrive one value
// per name, lower-cased. A body the gateway base64-encoded (isBase64Encoded)
// is decoded; a response body that is not valid UTF-8 is returned base64
// with isBase64Encoded. Host is the event's headers.host, the host the client
// used.
//
// SCF web functions need none of this: they are plain HTTP servers on port
// 9000, which is what a verifyfn function is when no event runtime is
// detected (see package runtime).
//
// A documented API error is a normal response; the handler returns an error,
// which SCF reports as a function error, only when the event cannot be
// adapted.
//
// See https://www.tencentcloud.com/document/product/583/12513 (API Gateway
// trigger) and https://cloud.tencent.com/document/product/583/18032 (Go).
package scf

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/tencentyun/scf-go-lib/events"

	"github.com/verifyfn/verifyfn/shared/runtime/internal/httpevent"
)

// Request is the API Gateway trigger event: scf-go-lib's
// events.APIGatewayRequest plus the isBase64Encoded flag the gateway sets
// when base64 encoding is enabled for the API.
type Request struct {
	events.APIGatewayRequest
	IsBase64Encoded bool `json:"isBase64Encoded"`
}

// Response is the integrated response.
type Response = events.APIGatewayResponse

// Handler returns an SCF handler serving h.
func Handler(h http.Handler) func(context.Context, Request) (Response, error) {
	return func(ctx context.Context, ev Request) (Response, error) {
		body, err := httpevent.DecodeBody(ev.Body, ev.IsBase64Encoded)
		if err != nil {
			return Response{}, fmt.Errorf("scf: %w", err)
		}
		hdr := make(http.Header, len(ev.Headers))
		for k, v := range ev.Headers {
			hdr.Add(k, v)
		}
		method := ev.Method
		if method == "" {
			method = ev.Context.Method
		}
		req, err := httpevent.Request{
			Method:     method,
			RawPath:    httpevent.EscapePath(ev.Path),
			RawQuery:   httpevent.EncodeQuery(ev.QueryString),
			Header:     hdr,
			Body:       body,
			RemoteAddr: ev.Context.SourceIP,
		}.HTTP(ctx)
		if err != nil {
			return Response{}, fmt.Errorf("scf: %w", err)
		}
		w := httpevent.Serve(h, req)
		headers, cookies := httpevent.Joined(w.Header())
		if len(cookies) > 0 {
			headers["Set-Cookie"] = strings.Join(cookies, ",")
		}
		resp := Response{StatusCode: w.Status(), Headers: headers}
		resp.Body, resp.IsBase64Encoded = httpevent.EncodeBody(w.Bytes())
		return resp, nil
	}
}

// Start serves h as the SCF runtime expects, on
// localhost:$_LAMBDA_SERVER_PORT (see Serve). It never returns; it exits the
// process if it cannot listen.
func Start(h http.Handler) { listenAndServe(invoker(Handler(h))) }
