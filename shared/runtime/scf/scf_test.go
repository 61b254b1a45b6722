package scf_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tencentyun/scf-go-lib/events"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/runtime/internal/gwtest"
	"github.com/verifyfn/verifyfn/shared/runtime/scf"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

var update = flag.Bool("update", false, "regenerate testdata from scf-go-lib's example event and fresh official-SDK captures")

const (
	gwHost = "service-xxx-123456.ap-shanghai.apigateway.myqcloud.com"
	phone  = "51234567"
)

func sendVerify(host, method string) gwtest.Call {
	return gwtest.Call{
		Host: host, Method: method, Service: "intlpartnersmgt", Version: "2022-09-28", Action: "SendVerifyCode",
		Params: map[string]string{"CountryCode": "852", "PhoneNum": phone},
	}
}

var fixtures = []struct {
	file string
	call gwtest.Call
	opt  gwtest.EventOptions
}{
	{"apigw-post.json", sendVerify(gwHost, "POST"), gwtest.EventOptions{Path: "/sendverify"}},
	{"apigw-post-base64.json", sendVerify(gwHost, "POST"), gwtest.EventOptions{Path: "/sendverify", Base64: true}},
	{"apigw-get.json", sendVerify(gwHost, "GET"), gwtest.EventOptions{Path: "/sendverify"}},
}

// exampleEvent returns the API Gateway event of scf-go-lib's own test
// (events/apigw_test.go), the documented shape.
func exampleEvent(t *testing.T) []byte {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/tencentyun/scf-go-lib").Output()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "events", "apigw_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), "data := `")
	ev, _, ok2 := strings.Cut(rest, "`")
	if !ok || !ok2 {
		t.Fatal("no example event in scf-go-lib's events/apigw_test.go")
	}
	return []byte(ev)
}

func TestGenerateTestdata(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata")
	}
	tmpl := exampleEvent(t)
	for _, f := range fixtures {
		ev := gwtest.Event(t, gwtest.SCF, tmpl, gwtest.Capture(t, f.call), f.opt)
		if err := os.WriteFile(filepath.Join("testdata", f.file), append(ev, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readEvent(tb testing.TB, file string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// invoke decodes the event as scf-go-lib does and calls the handler.
func invoke(tb testing.TB, h http.Handler, event []byte) gwtest.Response {
	tb.Helper()
	var req scf.Request
	if err := json.Unmarshal(event, &req); err != nil {
		tb.Fatal(err)
	}
	resp, err := scf.Handler(h)(context.Background(), req)
	if err != nil {
		tb.Fatalf("handler: %v (a documented API error must be a response, not a function error)", err)
	}
	out, err := json.Marshal(resp)
	if err != nil {
		tb.Fatal(err)
	}
	return gwtest.Decode(tb, out)
}

func at(tb testing.TB, event []byte, opts ...apitest.Option) *apitest.Server {
	tb.Helper()
	s := apitest.Start(tb, opts...)
	s.Clock.Advance(gwtest.EventTimestamp(tb, event).Sub(s.Clock.Now()))
	return s
}

func TestCapturedEventsSucceed(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.file, func(t *testing.T) {
			ev := readEvent(t, f.file)
			s := at(t, ev)
			if got := invoke(t, s.App.Handler, ev).Code(t); got != "" {
				t.Fatalf("code %q, want success", got)
			}
			if got := s.LastCode(t, "+852"+phone); len(got) != 6 {
				t.Fatalf("code sent %q", got)
			}
		})
	}
}

func TestTamperedEventsFail(t *testing.T) {
	for _, file := range []string{"apigw-post.json", "apigw-get.json"} {
		t.Run(file, func(t *testing.T) {
			ev := readEvent(t, file)
			tampered := bytes.ReplaceAll(ev, []byte(phone), []byte("51234568"))
			s := at(t, ev)
			if got, want := invoke(t, s.App.Handler, tampered).Code(t), tcapi.CodeSignatureFailure; got != want {
				t.Fatalf("code %q, want %q", got, want)
			}
		})
	}
}

func TestForwardedHost(t *testing.T) {
	const custom = "verify.example.com"
	ev := gwtest.Event(t, gwtest.SCF, readEvent(t, "apigw-post.json"), gwtest.Capture(t, sendVerify(custom, "POST")), gwtest.EventOptions{
		Path: "/sendverify", HostHeader: gwHost, Extra: map[string]string{"X-Forwarded-Host": custom},
	})
	for _, tc := range []struct {
		trusted, want string
	}{{"", tcapi.CodeSignatureFailure}, {"X-Forwarded-Host", ""}} {
		s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) { c.TrustedHostHdr = tc.trusted }))
		if got := invoke(t, s.App.Handler, ev).Code(t); got != tc.want {
			t.Errorf("trusted header %q: code %q, want %q", tc.trusted, got, tc.want)
		}
	}
}

func TestRequestFidelity(t *testing.T) {
	bin := []byte{0x00, 0xff, 0x80, 'x'}
	ev := scf.Request{IsBase64Encoded: true}
	ev.Method, ev.Path = "PUT", "/a b"
	ev.Headers = map[string]string{"host": "h.example", "x-multi": "v1,v2"}
	ev.QueryString = events.APIGatewayQueryString{"b": {"2", "1"}, "a": {"x y/z"}, "flag": {}}
	ev.Body = base64.StdEncoding.EncodeToString(bin)
	ev.Context.SourceIP = "203.0.113.5"
	var got struct {
		host, uri, remote string
		multi             string
		body              []byte
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.host, got.uri, got.remote, got.multi = r.Host, r.RequestURI, r.RemoteAddr, r.Header.Get("X-Multi")
		got.body, _ = io.ReadAll(r.Body)
		w.Header().Add("X-Out", "a")
		w.Header().Add("X-Out", "b")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte{0xfe, 0xff})
	})
	resp, err := scf.Handler(h)(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got.host != "h.example" || got.uri != "/a%20b?a=x+y%2Fz&b=2&b=1&flag" || got.remote != "203.0.113.5" || got.multi != "v1,v2" || !bytes.Equal(got.body, bin) {
		t.Errorf("request %+v", got)
	}
	b, _ := base64.StdEncoding.DecodeString(resp.Body)
	if resp.StatusCode != http.StatusCreated || !resp.IsBase64Encoded || !bytes.Equal(b, []byte{0xfe, 0xff}) || resp.Headers["X-Out"] != "a,b" {
		t.Errorf("response %+v", resp)
	}
	ev.Body = "!!"
	if _, err := scf.Handler(h)(context.Background(), ev); err == nil {
		t.Error("bad base64 body: no error")
	}
}
