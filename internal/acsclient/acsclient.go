// Package acsclient calls an Alibaba Cloud OpenAPI RPC endpoint through the
// official darabonba-openapi v2 client (CallApi), so requests are signed by
// Alibaba's own signer rather than ours: ACS3-HMAC-SHA256 by default, the
// legacy RPC signature (HMAC-SHA1) with SignatureAlgorithm "v2". The verifyfn
// CLI and the tests use it, as generated product SDKs (cams-20200606) would:
// POST, parameters in the query, form body type, JSON response.
package acsclient

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
)

// Options say where and how to call.
type Options struct {
	Endpoint        string // host[:port] of the verifyfn server
	AccessKeyID     string
	AccessKeySecret string
	Scheme          string // "http" (default) or "https"
	// SignatureAlgorithm is "" for the default ACS3-HMAC-SHA256, or "v2"
	// for the legacy RPC signature (HMAC-SHA1, SignatureVersion 1.0).
	SignatureAlgorithm string
	Timeout            time.Duration // default 10 s
}

// Client is an official darabonba client bound to one endpoint.
type Client struct {
	c       *openapi.Client
	timeout int
}

// New returns a client. An error from Call is a *tea.SDKError for API errors
// (github.com/alibabacloud-go/tea/tea), with the documented Code.
func New(o Options) (*Client, error) {
	scheme := o.Scheme
	if scheme == "" {
		scheme = "http"
	}
	cfg := &openapi.Config{
		AccessKeyId:     dara.String(o.AccessKeyID),
		AccessKeySecret: dara.String(o.AccessKeySecret),
		Endpoint:        dara.String(o.Endpoint),
		Protocol:        dara.String(scheme),
	}
	if o.SignatureAlgorithm != "" {
		cfg.SignatureAlgorithm = dara.String(o.SignatureAlgorithm)
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	// The SDK's default HTTP client is shared per endpoint by every client
	// in the process, and it sets that client's Timeout on each call while
	// other calls may be running (a data race). Each Client brings its own.
	cfg.HttpClient = httpClient{&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: timeout}}
	c, err := openapi.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Client{c: c, timeout: int(timeout / time.Millisecond)}, nil
}

// Call invokes action at version with params and returns the response body
// (the JSON object). Parameters travel as strings: numbers and booleans are
// written in decimal and true/false.
func (c *Client) Call(action, version string, params map[string]any) (json.RawMessage, error) {
	query := make(map[string]*string, len(params))
	for k, v := range params {
		s, err := str(k, v)
		if err != nil {
			return nil, err
		}
		query[k] = dara.String(s)
	}
	p := &openapi.Params{
		Action:      dara.String(action),
		Version:     dara.String(version),
		Protocol:    dara.String("HTTP"),
		Pathname:    dara.String("/"),
		Method:      dara.String("POST"),
		AuthType:    dara.String("AK"),
		Style:       dara.String("RPC"),
		ReqBodyType: dara.String("formData"),
		BodyType:    dara.String("json"),
	}
	rt := &dara.RuntimeOptions{ReadTimeout: dara.Int(c.timeout), ConnectTimeout: dara.Int(c.timeout)}
	resp, err := c.c.CallApi(p, &openapi.OpenApiRequest{Query: query}, rt)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(resp["body"])
	if err != nil {
		return nil, fmt.Errorf("acsclient: response body: %w", err)
	}
	return body, nil
}

// httpClient is the SDK's HTTP client hook (dara.HttpClient) over a
// net/http client; the SDK's per-call transport is not used.
type httpClient struct{ c *http.Client }

func (h httpClient) Call(req *http.Request, _ *http.Transport) (*http.Response, error) {
	return h.c.Do(req)
}

func str(name string, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case json.Number:
		return x.String(), nil
	default:
		return "", fmt.Errorf("acsclient: parameter %s has unsupported type %T", name, v)
	}
}
