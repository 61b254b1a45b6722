// Package tcclient calls a Tencent Cloud API 3.0 endpoint through the official
// tencentcloud-sdk-go common client, so requests are signed by Tencent's own
// signer rather than ours. The verifyfn CLI and the tests use it.
package tcclient

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// Options say where and how to call.
type Options struct {
	Endpoint   string // host[:port] of the verifyfn server
	SecretID   string
	SecretKey  string
	Scheme     string        // "HTTP" (default) or "HTTPS"
	Method     string        // "POST" (default) or "GET"
	SignMethod string        // "TC3-HMAC-SHA256" (default), "HmacSHA256" or "HmacSHA1"
	Language   string        // X-TC-Language: "zh-CN" or "en-US"
	Timeout    time.Duration // default 10 s
}

// Client is an official SDK common client bound to one endpoint.
type Client struct {
	c    *common.Client
	flat bool // GET or signature v1: parameters travel as strings
}

// New returns a client. An error from Call is an *errors.TencentCloudSDKError
// for API errors.
func New(o Options) *Client {
	cp := profile.NewClientProfile()
	cp.HttpProfile.Endpoint = o.Endpoint
	cp.HttpProfile.Scheme = or(o.Scheme, "HTTP")
	cp.HttpProfile.ReqMethod = or(o.Method, "POST")
	cp.HttpProfile.ReqTimeout = int(max(o.Timeout, 10*time.Second) / time.Second)
	cp.SignMethod = or(o.SignMethod, "TC3-HMAC-SHA256")
	if o.Language != "" {
		cp.Language = o.Language
	}
	return &Client{
		c:    common.NewCommonClient(common.NewCredential(o.SecretID, o.SecretKey), "", cp),
		flat: cp.HttpProfile.ReqMethod == "GET" || cp.SignMethod != "TC3-HMAC-SHA256",
	}
}

// Call invokes action of service at version with params (a JSON object) and
// returns the Response object.
func (c *Client) Call(service, version, action string, params map[string]any) (json.RawMessage, error) {
	req := tchttp.NewCommonRequest(service, version, action)
	if params == nil {
		params = map[string]any{}
	}
	if c.flat {
		// The common request carries parameters only in a JSON body. For GET
		// and signature v1 the generated SDK clients flatten their request
		// structs into these string parameters; do the same.
		for k, v := range params {
			if err := flatten(req.GetParams(), k, v); err != nil {
				return nil, err
			}
		}
	} else if err := req.SetActionParameters(params); err != nil {
		return nil, err
	}
	resp := tchttp.NewCommonResponse()
	if err := c.c.Send(req, resp); err != nil {
		return nil, err
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(resp.GetBody(), &env); err != nil {
		return nil, fmt.Errorf("tcclient: response is not an API envelope: %w", err)
	}
	return env.Response, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// flatten writes v under name the way the SDK's flatStructure does: scalars
// as strings, lists as Name.0, Name.1, objects as Name.Field.
func flatten(out map[string]string, name string, v any) error {
	switch x := v.(type) {
	case nil:
	case string:
		if x != "" {
			out[name] = x
		}
	case bool:
		out[name] = strconv.FormatBool(x)
	case int:
		out[name] = strconv.Itoa(x)
	case int64:
		out[name] = strconv.FormatInt(x, 10)
	case float64:
		out[name] = strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		out[name] = x.String()
	case []any:
		for i, e := range x {
			if err := flatten(out, name+"."+strconv.Itoa(i), e); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range x {
			if err := flatten(out, name+"."+k, e); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("tcclient: parameter %s has unsupported type %T", name, v)
	}
	return nil
}
