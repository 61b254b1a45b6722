package apitest

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"

	"github.com/verifyfn/verifyfn/internal/acsclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
)

// Alibaba returns an official darabonba client signed with the development
// credential; o may override anything.
func (s *Server) Alibaba(tb testing.TB, o acsclient.Options) *acsclient.Client {
	tb.Helper()
	o.Endpoint = s.Host
	if o.AccessKeyID == "" {
		o.AccessKeyID, o.AccessKeySecret = accounts.DevSecretID, accounts.DevSecretKey
	}
	c, err := acsclient.New(o)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// ACSResult is what an Alibaba SDK call came back with.
type ACSResult struct {
	Code      string         // "" on success, else the error code the SDK reports
	Status    int            // the HTTP status the SDK reports for an error; 200 on success
	Body      map[string]any // the decoded response body on success
	Detail    map[string]any // the AccessDeniedDetail of an error, as the SDK parsed it
	RequestID string
}

// ACSCaller calls an Alibaba RPC action through one official SDK path.
type ACSCaller struct {
	// Name is "darabonba-ACS3", "darabonba-v2", "aliyun-GET" or "aliyun-POST".
	Name string
	call func(action, version string, params map[string]string) (ACSResult, error)
}

// Call invokes action and fails the test on anything but a success or an API
// error the SDK parsed.
func (c ACSCaller) Call(tb testing.TB, action, version string, params map[string]string) ACSResult {
	tb.Helper()
	r, err := c.call(action, version, params)
	if err != nil {
		tb.Fatalf("%s %s: %v", c.Name, action, err)
	}
	return r
}

// ACSCallers returns the four official SDK paths to this server, signed with
// accessKeyID and secret (the development credential when both are empty):
// darabonba-openapi v2 CallApi in its default ACS3-HMAC-SHA256 mode and with
// SignatureAlgorithm "v2", and alibaba-cloud-sdk-go's CommonRequest (RPC
// HMAC-SHA1) as GET and as POST with a form body.
func (s *Server) ACSCallers(tb testing.TB, accessKeyID, secret string) []ACSCaller {
	tb.Helper()
	if accessKeyID == "" {
		accessKeyID, secret = accounts.DevSecretID, accounts.DevSecretKey
	}
	var out []ACSCaller
	for _, alg := range []string{"", "v2"} {
		name := "darabonba-ACS3"
		if alg != "" {
			name = "darabonba-" + alg
		}
		o := acsclient.Options{Endpoint: s.Host, AccessKeyID: accessKeyID, AccessKeySecret: secret, SignatureAlgorithm: alg}
		out = append(out, ACSCaller{Name: name, call: func(action, version string, params map[string]string) (ACSResult, error) {
			c, err := acsclient.New(o)
			if err != nil {
				return ACSResult{}, err
			}
			p := make(map[string]any, len(params))
			for k, v := range params {
				p[k] = v
			}
			return darabonbaResult(c.Call(action, version, p))
		}})
	}
	for _, method := range []string{requests.GET, requests.POST} {
		out = append(out, ACSCaller{Name: "aliyun-" + method, call: func(action, version string, params map[string]string) (ACSResult, error) {
			return s.aliyunCall(accessKeyID, secret, method, action, version, params)
		}})
	}
	return out
}

func darabonbaResult(raw json.RawMessage, err error) (ACSResult, error) {
	var sdkErr *tea.SDKError
	if errors.As(err, &sdkErr) {
		r := ACSResult{Code: tea.StringValue(sdkErr.Code), Status: tea.IntValue(sdkErr.StatusCode), Detail: sdkErr.AccessDeniedDetail}
		var data struct {
			RequestID string `json:"RequestId"`
		}
		if sdkErr.Data != nil {
			json.Unmarshal([]byte(tea.StringValue(sdkErr.Data)), &data)
		}
		r.RequestID = data.RequestID
		return r, nil
	}
	if err != nil {
		return ACSResult{}, err
	}
	r := ACSResult{Status: http.StatusOK}
	if err := json.Unmarshal(raw, &r.Body); err != nil {
		return ACSResult{}, err
	}
	r.RequestID, _ = r.Body["RequestId"].(string)
	return r, nil
}

func (s *Server) aliyunCall(accessKeyID, secret, method, action, version string, params map[string]string) (ACSResult, error) {
	client, err := sdk.NewClientWithAccessKey("ap-southeast-1", accessKeyID, secret)
	if err != nil {
		return ACSResult{}, err
	}
	req := requests.NewCommonRequest()
	req.Method = method
	req.Scheme = "http"
	req.Domain = s.Host
	req.Version = version
	req.ApiName = action
	dst := req.QueryParams
	if method == requests.POST {
		dst = req.FormParams
	}
	for k, v := range params {
		dst[k] = v
	}
	resp, err := client.ProcessCommonRequest(req)
	var srvErr *sdkerrors.ServerError
	if errors.As(err, &srvErr) {
		return ACSResult{Code: srvErr.ErrorCode(), Status: srvErr.HttpStatus(), Detail: srvErr.AccessDeniedDetail(), RequestID: srvErr.RequestId()}, nil
	}
	if err != nil {
		return ACSResult{}, err
	}
	r := ACSResult{Status: resp.GetHttpStatus()}
	if err := json.Unmarshal(resp.GetHttpContentBytes(), &r.Body); err != nil {
		return ACSResult{}, err
	}
	r.RequestID, _ = r.Body["RequestId"].(string)
	return r, nil
}
