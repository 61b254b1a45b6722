package awslambda_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/verifyfn/verifyfn/shared/runtime/awslambda"
)

// echoHandler answers 200 with the request body it received.
var echoHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
})

// eventBody is the body of an event or response, decoded.
func eventBody(b []byte) ([]byte, bool) {
	var ev struct {
		Body            string `json:"body"`
		IsBase64Encoded bool   `json:"isBase64Encoded"`
	}
	if json.Unmarshal(b, &ev) != nil {
		return nil, false
	}
	if !ev.IsBase64Encoded {
		return []byte(ev.Body), true
	}
	d, err := base64.StdEncoding.DecodeString(ev.Body)
	return d, err == nil
}

// FuzzInvoke feeds arbitrary payloads to the Lambda adapter, seeded with
// every captured event in testdata: it never panics, and for every event it
// adapts, the handler's answer comes back as a well-formed response of
// status 200 whose body is byte for byte the body the event carried.
func FuzzInvoke(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.json")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `null`, `[]`,
		`{"version":"2.0","routeKey":"$default","rawPath":"/a%2Fb","rawQueryString":"a=1&a=2","requestContext":{"http":{"method":"POST"}},"body":"/w==","isBase64Encoded":true}`,
		`{"version":"2.0","requestContext":{"http":{"method":"GET"},"domainName":"x.lambda-url.us-east-1.on.aws"},"cookies":["a=b"],"headers":{"host":"h"}}`,
		`{"httpMethod":"POST","path":"/a b/%","multiValueQueryStringParameters":{"k":["v1","v2"],"e":[]},"multiValueHeaders":{"X":["1","2"]},"body":"\u00ff"}`,
		`{"httpMethod":"BAD METHOD","path":""}`,
	} {
		f.Add([]byte(s))
	}
	a := awslambda.New(echoHandler)
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := a.Invoke(context.Background(), payload)
		if err != nil {
			if out != nil {
				t.Fatalf("output %q with error %v", out, err)
			}
			return
		}
		var resp struct {
			StatusCode int `json:"statusCode"`
		}
		if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("response %q: %v", out, err)
		}
		got, ok := eventBody(out)
		if !ok {
			t.Fatalf("response body does not decode: %q", out)
		}
		want, ok := eventBody(payload)
		if ok && !bytes.Equal(got, want) {
			t.Fatalf("body %q came back as %q", want, got)
		}
	})
}
