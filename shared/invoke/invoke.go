// Package invoke builds the event a cloud function sends when it calls a
// verifyfn function directly (AWS Lambda Invoke, Tencent SCF Invoke) rather
// than over HTTP. The event has the shape the function already receives from
// its API gateway (API Gateway HTTP API payload 2.0, or the SCF API Gateway
// trigger event) and carries a Tencent Cloud API 3.0 request signed with
// TC3-HMAC-SHA256 by verifyfn's own signer (shared/tcauth), exactly as the
// official SDKs sign: the function authenticates it like any other request.
//
// The signature covers the host: set Request.Host to the host the target
// function verifies (the Host its gateway events carry, see the README), or
// leave the default "<service>.tencentcloudapi.com", which every verifyfn
// function accepts for its own service.
package invoke

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	scfevents "github.com/tencentyun/scf-go-lib/events"

	"github.com/verifyfn/verifyfn/shared/tcauth"
)

// Request is one API call.
type Request struct {
	Service string // e.g. "intlpartnersmgt"
	Version string // e.g. "2022-09-28"
	Action  string // e.g. "SendVerifyCode"
	// Params are the action's parameters, marshalled as a JSON object (a
	// map or a struct); nil sends {}.
	Params              any
	SecretID, SecretKey string
	// Host is the host signed and sent; default "<Service>.tencentcloudapi.com".
	Host string
	// Path is the route of the target function, e.g. "/sendverify" (default
	// "/"). The TC3 signature does not cover it.
	Path     string
	Language string // X-TC-Language ("zh-CN", "en-US"), optional
	Region   string // X-TC-Region, optional
	// Now is the signing time (default time.Now); the target refuses
	// signatures more than five minutes off its clock.
	Now func() time.Time
}

// Signed is the signed HTTP request an event carries.
type Signed struct {
	Method string
	Host   string
	Path   string
	// Header holds the request headers with lower-case names, as gateways
	// deliver them ("content-type", "host", "authorization", "x-tc-...").
	Header map[string]string
	Body   []byte
}

// Sign signs r as a TC3-HMAC-SHA256 JSON POST.
func Sign(r Request) (Signed, error) {
	if r.Service == "" || r.Version == "" || r.Action == "" {
		return Signed{}, errors.New("invoke: Service, Version and Action are required")
	}
	if r.SecretID == "" || r.SecretKey == "" {
		return Signed{}, errors.New("invoke: SecretID and SecretKey are required")
	}
	body := []byte("{}")
	if r.Params != nil {
		b, err := json.Marshal(r.Params)
		if err != nil {
			return Signed{}, fmt.Errorf("invoke: parameters: %w", err)
		}
		if len(b) == 0 || b[0] != '{' {
			return Signed{}, errors.New("invoke: parameters must marshal to a JSON object")
		}
		body = b
	}
	host := r.Host
	if host == "" {
		host = r.Service + ".tencentcloudapi.com"
	}
	path := r.Path
	if path == "" {
		path = "/"
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	ts := now().Unix()
	h := map[string]string{
		"content-type":   "application/json",
		"host":           host,
		"x-tc-action":    r.Action,
		"x-tc-version":   r.Version,
		"x-tc-timestamp": strconv.FormatInt(ts, 10),
	}
	if r.Language != "" {
		h["x-tc-language"] = r.Language
	}
	if r.Region != "" {
		h["x-tc-region"] = r.Region
	}
	h["authorization"] = tcauth.Sign(r.SecretID, []byte(r.SecretKey), r.Service, "POST", host, h["content-type"], "", body, ts)
	return Signed{Method: "POST", Host: host, Path: path, Header: h, Body: body}, nil
}

// LambdaV2 returns r as an API Gateway HTTP API (payload format 2.0) event,
// for the Payload of a Lambda Invoke call.
func LambdaV2(r Request) (*events.APIGatewayV2HTTPRequest, error) {
	s, err := Sign(r)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	ev := &events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: s.Method + " " + s.Path,
		RawPath:  s.Path,
		Headers:  copyHeader(s.Header),
		Body:     string(s.Body),
	}
	ev.Headers["content-length"] = strconv.Itoa(len(s.Body))
	rc := &ev.RequestContext
	rc.RouteKey, rc.Stage, rc.RequestID = ev.RouteKey, "$default", requestID()
	rc.DomainName, rc.DomainPrefix = s.Host, strings.Split(s.Host, ".")[0]
	rc.Time, rc.TimeEpoch = now.UTC().Format("02/Jan/2006:15:04:05 -0700"), now.UnixMilli()
	rc.HTTP.Method, rc.HTTP.Path, rc.HTTP.Protocol = s.Method, s.Path, "HTTP/1.1"
	rc.HTTP.SourceIP, rc.HTTP.UserAgent = "127.0.0.1", "verifyfn-invoke"
	return ev, nil
}

// SCF returns r as a Tencent SCF API Gateway trigger event, for the
// ClientContext of an SCF Invoke call.
func SCF(r Request) (*scfevents.APIGatewayRequest, error) {
	s, err := Sign(r)
	if err != nil {
		return nil, err
	}
	ev := &scfevents.APIGatewayRequest{
		Headers:     copyHeader(s.Header),
		Method:      s.Method,
		Path:        s.Path,
		QueryString: scfevents.APIGatewayQueryString{},
		Body:        string(s.Body),
	}
	ev.Headers["content-length"] = strconv.Itoa(len(s.Body))
	ev.Context.Method, ev.Context.Path, ev.Context.RequestID = "ANY", s.Path, requestID()
	ev.Context.SourceIP, ev.Context.Stage = "127.0.0.1", "release"
	return ev, nil
}

func copyHeader(h map[string]string) map[string]string {
	out := make(map[string]string, len(h)+1)
	for k, v := range h {
		out[k] = v
	}
	return out
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
