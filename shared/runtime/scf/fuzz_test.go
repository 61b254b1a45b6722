package scf_test

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

	"github.com/verifyfn/verifyfn/shared/runtime/scf"
)

// echoHandler answers 200 with the request body it received.
var echoHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
})

// FuzzHandler feeds arbitrary API Gateway trigger events (any JSON the SCF
// runtime could decode into the event type), seeded with the captured events
// in testdata, to the SCF adapter: it never panics, and every event it
// adapts comes back as status 200 with byte for byte the body it carried.
func FuzzHandler(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.json")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `null`,
		`{"httpMethod":"POST","path":"/a%zz b","queryString":{"k":["v1","v2"],"e":[]},"headers":{"host":"h","content-type":"application/json"},"body":"/w==","isBase64Encoded":true}`,
		`{"requestContext":{"httpMethod":"GET","sourceIp":"1.2.3.4"},"path":"","queryString":{"a":"b"}}`,
		`{"httpMethod":"G E T","body":"\u00ff"}`,
	} {
		f.Add([]byte(s))
	}
	h := scf.Handler(echoHandler)
	f.Fuzz(func(t *testing.T, payload []byte) {
		var ev scf.Request
		if json.Unmarshal(payload, &ev) != nil {
			return // the runtime would refuse it before the adapter
		}
		resp, err := h(context.Background(), ev)
		if err != nil {
			return
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		want := []byte(ev.Body)
		if ev.IsBase64Encoded {
			want, _ = base64.StdEncoding.DecodeString(ev.Body)
		}
		got := []byte(resp.Body)
		if resp.IsBase64Encoded {
			if got, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
				t.Fatalf("response body is not base64: %q", resp.Body)
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("body %q came back as %q", want, got)
		}
	})
}
