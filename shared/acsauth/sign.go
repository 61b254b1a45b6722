package acsauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SignACS3Request signs an outgoing request with ACS3-HMAC-SHA256 as
// darabonba-openapi does. body must be the bytes r sends (nil for none). It
// sets x-acs-content-sha256 to HashPayload(body), signs "host" (r.Host, else
// r.URL.Host), "content-type" when present and every x-acs-* header present,
// over the query of r.URL, and sets the Authorization header. The caller
// sets x-acs-action, x-acs-version, x-acs-date and x-acs-signature-nonce
// beforehand (or uses ACS3Request).
func SignACS3Request(r *http.Request, body []byte, accessKeyID string, secret []byte) error {
	hashed := HashPayload(body)
	r.Header.Set(HeaderContentSHA256, hashed)
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	names := []string{HeaderHost}
	for k := range r.Header {
		lk := strings.ToLower(k)
		if (lk == HeaderContentType || strings.HasPrefix(lk, "x-acs-")) && !slices.Contains(names, lk) {
			names = append(names, lk)
		}
	}
	slices.Sort(names)
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	cr := ACS3CanonicalRequest(r.Method, query, host, r.Header, names, hashed)
	sig := ACS3Signature(secret, ACS3StringToSign(cr))
	r.Header.Set("Authorization", FormatACS3Authorization(accessKeyID, names, sig))
	return nil
}

// ACS3Request describes a V3-signed RPC-style request, as darabonba-openapi
// sends one for CallApi with Style "RPC": the API parameters in the query of
// a POST with an empty body.
type ACS3Request struct {
	// Method defaults to POST.
	Method string
	// Endpoint is the base URL, such as "http://127.0.0.1:8080".
	Endpoint string
	// Action and Version go to x-acs-action and x-acs-version.
	Action, Version string
	// Query holds the API parameters.
	Query url.Values
	// Body and ContentType are optional.
	Body        []byte
	ContentType string
	// Time defaults to now; Nonce defaults to 32 random hex digits.
	Time  time.Time
	Nonce string
	// AccessKeyID and Secret are the credentials; SecurityToken is set for
	// STS credentials (sent in x-acs-security-token and x-acs-accesskey-id).
	AccessKeyID   string
	Secret        []byte
	SecurityToken string
}

// HTTPRequest builds and signs the request.
func (q ACS3Request) HTTPRequest(ctx context.Context) (*http.Request, error) {
	method := q.Method
	if method == "" {
		method = http.MethodPost
	}
	u := strings.TrimSuffix(q.Endpoint, "/") + "/"
	if len(q.Query) > 0 {
		u += "?" + q.Query.Encode()
	}
	r, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(q.Body))
	if err != nil {
		return nil, err
	}
	r.Header.Set(HeaderAction, q.Action)
	r.Header.Set(HeaderVersion, q.Version)
	r.Header.Set(HeaderDate, timeOrNow(q.Time).Format(TimestampLayout))
	r.Header.Set(HeaderNonce, nonceOrRandom(q.Nonce))
	r.Header.Set("Accept", "application/json")
	if q.ContentType != "" {
		r.Header.Set(HeaderContentType, q.ContentType)
	}
	if q.SecurityToken != "" {
		r.Header.Set(HeaderAccessKeyID, q.AccessKeyID)
		r.Header.Set(HeaderSecurityToken, q.SecurityToken)
	}
	if err := SignACS3Request(r, q.Body, q.AccessKeyID, q.Secret); err != nil {
		return nil, err
	}
	return r, nil
}

// RPCRequest describes an RPC-signed request (HMAC-SHA1, signature 1.0), as
// aliyun/alibaba-cloud-sdk-go sends one.
type RPCRequest struct {
	// Method is GET (everything in the query, the default) or POST (the
	// common parameters in the query, Params in an
	// application/x-www-form-urlencoded body).
	Method string
	// Endpoint is the base URL, such as "http://127.0.0.1:8080".
	Endpoint string
	// Action and Version are the API.
	Action, Version string
	// Params holds the API parameters.
	Params url.Values
	// Time defaults to now; Nonce defaults to 32 random hex digits.
	Time  time.Time
	Nonce string
	// AccessKeyID and Secret are the credentials; SecurityToken is sent for
	// STS credentials.
	AccessKeyID   string
	Secret        []byte
	SecurityToken string
}

// SignedParams returns the common parameters (Action, Version, Format JSON,
// AccessKeyId, SignatureMethod, SignatureVersion, SignatureNonce, Timestamp,
// SecurityToken when set) and Params, with Signature set.
func (q RPCRequest) SignedParams() url.Values {
	method := q.method()
	all := q.common()
	for k, vs := range q.Params {
		all[k] = append(all[k], vs...)
	}
	SignRPC(q.Secret, method, all)
	return all
}

func (q RPCRequest) method() string {
	if q.Method == "" {
		return http.MethodGet
	}
	return q.Method
}

func (q RPCRequest) common() url.Values {
	v := url.Values{
		"Action":           {q.Action},
		"Version":          {q.Version},
		"Format":           {"JSON"},
		"AccessKeyId":      {q.AccessKeyID},
		"SignatureMethod":  {RPCSignatureMethod},
		"SignatureVersion": {RPCSignatureVersion},
		"SignatureNonce":   {nonceOrRandom(q.Nonce)},
		"Timestamp":        {timeOrNow(q.Time).Format(TimestampLayout)},
	}
	if q.SecurityToken != "" {
		v.Set("SecurityToken", q.SecurityToken)
	}
	return v
}

// HTTPRequest builds and signs the request.
func (q RPCRequest) HTTPRequest(ctx context.Context) (*http.Request, error) {
	method := q.method()
	base := strings.TrimSuffix(q.Endpoint, "/") + "/?"
	if method == http.MethodGet {
		return http.NewRequestWithContext(ctx, method, base+q.SignedParams().Encode(), http.NoBody)
	}
	query := q.common()
	all := url.Values{}
	for k, vs := range query {
		all[k] = vs
	}
	for k, vs := range q.Params {
		all[k] = append(all[k], vs...)
	}
	query.Set(RPCSignatureParam, RPCSignature(q.Secret, RPCStringToSign(method, all)))
	r, err := http.NewRequestWithContext(ctx, method, base+query.Encode(), strings.NewReader(q.Params.Encode()))
	if err != nil {
		return nil, err
	}
	r.Header.Set(HeaderContentType, "application/x-www-form-urlencoded")
	return r, nil
}

func timeOrNow(t time.Time) time.Time {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC()
}

func nonceOrRandom(n string) string {
	if n != "" {
		return n
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
