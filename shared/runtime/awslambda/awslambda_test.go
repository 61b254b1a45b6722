package awslambda_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/runtime"
	"github.com/verifyfn/verifyfn/shared/runtime/awslambda"
	"github.com/verifyfn/verifyfn/shared/runtime/internal/gwtest"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

var update = flag.Bool("update", false, "regenerate testdata from aws-lambda-go's example events and fresh official-SDK captures")

const (
	apiHost = "gy415nuibc.execute-api.us-east-1.amazonaws.com"
	urlHost = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-west-2.on.aws"
	phone   = "51234567"
)

func sendVerify(host, method string) gwtest.Call {
	return gwtest.Call{
		Host: host, Method: method, Service: "intlpartnersmgt", Version: "2022-09-28", Action: "SendVerifyCode",
		Params: map[string]string{"CountryCode": "852", "PhoneNum": phone},
	}
}

// fixtures are the events in testdata: each wraps a request the official
// SDK signed, in one of aws-lambda-go's documented example events.
var fixtures = []struct {
	file     string
	shape    gwtest.Shape
	template string // aws-lambda-go events/testdata file
	call     gwtest.Call
	opt      gwtest.EventOptions
}{
	{"apigw-v1-post.json", gwtest.V1, "apigw-request.json", sendVerify(apiHost, "POST"), gwtest.EventOptions{Path: "/sendverify"}},
	{"apigw-v1-get.json", gwtest.V1, "apigw-request.json", sendVerify(apiHost, "GET"), gwtest.EventOptions{Path: "/sendverify"}},
	{"apigw-v2-post.json", gwtest.V2, "apigw-v2-request-no-authorizer.json", sendVerify(apiHost, "POST"), gwtest.EventOptions{Path: "/sendverify"}},
	{"apigw-v2-post-base64.json", gwtest.V2, "apigw-v2-request-no-authorizer.json", sendVerify(apiHost, "POST"), gwtest.EventOptions{Path: "/sendverify", Base64: true}},
	{"apigw-v2-get.json", gwtest.V2, "apigw-v2-request-no-authorizer.json", sendVerify(apiHost, "GET"), gwtest.EventOptions{Path: "/sendverify"}},
	{"url-post.json", gwtest.URL, "lambda-urls-request.json", sendVerify(urlHost, "POST"), gwtest.EventOptions{Path: "/"}},
}

func TestGenerateTestdata(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata")
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "events", "testdata")
	for _, f := range fixtures {
		tmpl, err := os.ReadFile(filepath.Join(dir, f.template))
		if err != nil {
			t.Fatal(err)
		}
		ev := gwtest.Event(t, f.shape, tmpl, gwtest.Capture(t, f.call), f.opt)
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

// at starts verifyfn with its clock at the time the event was signed.
func at(tb testing.TB, event []byte, opts ...apitest.Option) *apitest.Server {
	tb.Helper()
	s := apitest.Start(tb, opts...)
	s.Clock.Advance(gwtest.EventTimestamp(tb, event).Sub(s.Clock.Now()))
	return s
}

func invoke(tb testing.TB, h http.Handler, event []byte) gwtest.Response {
	tb.Helper()
	out, err := awslambda.New(h).Invoke(context.Background(), event)
	if err != nil {
		tb.Fatalf("Invoke: %v (a documented API error must be a response, not a function error)", err)
	}
	return gwtest.Decode(tb, out)
}

func TestCapturedEventsSucceed(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.file, func(t *testing.T) {
			ev := readEvent(t, f.file)
			s := at(t, ev)
			r := invoke(t, s.App.Handler, ev)
			if got := r.Code(t); got != "" {
				t.Fatalf("code %q, want success", got)
			}
			if got := s.LastCode(t, "+852"+phone); len(got) != 6 {
				t.Fatalf("code sent %q", got)
			}
		})
	}
}

func TestTamperedEventsFail(t *testing.T) {
	for _, f := range fixtures {
		if f.opt.Base64 {
			continue
		}
		t.Run(f.file, func(t *testing.T) {
			ev := readEvent(t, f.file)
			tampered := bytes.ReplaceAll(ev, []byte(phone), []byte("51234568"))
			if bytes.Equal(tampered, ev) {
				t.Fatal("nothing tampered")
			}
			s := at(t, ev)
			if got, want := invoke(t, s.App.Handler, tampered).Code(t), tcapi.CodeSignatureFailure; got != want {
				t.Fatalf("code %q, want %q", got, want)
			}
			if n := len(s.Messages(t)); n != 0 {
				t.Fatalf("%d messages sent for a tampered request", n)
			}
		})
	}
}

// TestSignedHost: the signature covers the host the client used. Behind
// another proxy (a CDN on a custom domain in front of the HTTP API) that host
// arrives in X-Forwarded-Host or as the event's domain name, trusted only
// when configured.
func TestSignedHost(t *testing.T) {
	tmpl := readEvent(t, "apigw-v2-post.json")
	const custom = "verify.example.com"
	forwarded := gwtest.Event(t, gwtest.V2, tmpl, gwtest.Capture(t, sendVerify(custom, "POST")), gwtest.EventOptions{
		Path: "/sendverify", HostHeader: apiHost, Domain: apiHost, Extra: map[string]string{"X-Forwarded-Host": custom},
	})
	domain := gwtest.Event(t, gwtest.V2, tmpl, gwtest.Capture(t, sendVerify(custom, "POST")), gwtest.EventOptions{
		Path: "/sendverify", HostHeader: apiHost, Domain: custom,
	})
	// A client cannot smuggle the domain header: the adapter replaces it.
	spoofed := gwtest.Event(t, gwtest.V2, tmpl, gwtest.Capture(t, sendVerify("evil.example", "POST")), gwtest.EventOptions{
		Path: "/sendverify", HostHeader: apiHost, Domain: custom, Extra: map[string]string{runtime.DomainHeader: "evil.example"},
	})
	v1 := gwtest.Event(t, gwtest.V1, readEvent(t, "apigw-v1-post.json"), gwtest.Capture(t, sendVerify(custom, "POST")), gwtest.EventOptions{
		Path: "/sendverify", HostHeader: apiHost, Domain: apiHost, Extra: map[string]string{"X-Forwarded-Host": custom},
	})
	for _, tc := range []struct {
		name    string
		event   []byte
		trusted string
		want    string
	}{
		{"forwarded host ignored by default", forwarded, "", tcapi.CodeSignatureFailure},
		{"forwarded host trusted when configured", forwarded, "X-Forwarded-Host", ""},
		{"v1 forwarded host ignored by default", v1, "", tcapi.CodeSignatureFailure},
		{"v1 forwarded host trusted when configured", v1, "X-Forwarded-Host", ""},
		{"domain name ignored by default", domain, "", tcapi.CodeSignatureFailure},
		{"domain name trusted when configured", domain, runtime.DomainHeader, ""},
		{"domain header from the client is replaced", spoofed, runtime.DomainHeader, tcapi.CodeSignatureFailure},
		{"forwarded host not trusted for the domain setting", forwarded, runtime.DomainHeader, tcapi.CodeSignatureFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) { c.TrustedHostHdr = tc.trusted }))
			if got := invoke(t, s.App.Handler, tc.event).Code(t); got != tc.want {
				t.Fatalf("code %q, want %q", got, tc.want)
			}
		})
	}
}

// seen is what a handler received.
type seen struct {
	Method, Host, RequestURI, EscapedPath, RawQuery, RemoteAddr string
	Header                                                      http.Header
	Body                                                        []byte
}

// echo records the request and answers with a non-UTF-8 body, a
// multi-valued header and two cookies.
func echo(got *seen) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		*got = seen{r.Method, r.Host, r.RequestURI, r.URL.EscapedPath(), r.URL.RawQuery, r.RemoteAddr, r.Header, body}
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.Header().Add("Set-Cookie", "c1=1")
		w.Header().Add("Set-Cookie", "c2=2")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusTeapot)
		w.Write(append([]byte{0xff, 0x00, 0xfe}, body...))
	})
}

var binary = []byte{0x00, 0xff, 0x80, 'x', 0xc3}

func TestV2ByteExact(t *testing.T) {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: "/a%2Fb/c%20d", RawQueryString: "x=%2F%20+y&x=2&flag&z=%E4%B8%AD&semi=a;b",
		Cookies:         []string{"s=1", "t=2"},
		Headers:         map[string]string{"host": "h.example", "x-multi": "v1,v2", "content-type": "application/octet-stream"},
		Body:            base64.StdEncoding.EncodeToString(binary),
		IsBase64Encoded: true,
	}
	ev.RequestContext.HTTP.Method = "PUT"
	ev.RequestContext.HTTP.SourceIP = "203.0.113.9"
	ev.RequestContext.DomainName = "d.example"
	payload, _ := json.Marshal(ev)
	var got seen
	r := invoke(t, echo(&got), payload)
	want := seen{Method: "PUT", Host: "h.example", RequestURI: ev.RawPath + "?" + ev.RawQueryString, EscapedPath: ev.RawPath,
		RawQuery: ev.RawQueryString, RemoteAddr: "203.0.113.9", Body: binary}
	checkSeen(t, got, want)
	if g, w := got.Header.Get("X-Multi"), "v1,v2"; g != w {
		t.Errorf("X-Multi %q, want %q", g, w)
	}
	if g, w := got.Header.Get("Cookie"), "s=1; t=2"; g != w {
		t.Errorf("Cookie %q, want %q", g, w)
	}
	if g, w := got.Header.Get(runtime.DomainHeader), "d.example"; g != w {
		t.Errorf("%s %q, want %q", runtime.DomainHeader, g, w)
	}
	if _, ok := got.Header["Host"]; ok {
		t.Error("Host left in the header map")
	}
	checkBinaryResponse(t, r, binary)
	if g, w := r.Headers["X-Multi"], "a,b"; g != w {
		t.Errorf("response X-Multi %q, want %q", g, w)
	}
	if g, w := strings.Join(r.Cookies, " "), "c1=1 c2=2"; g != w {
		t.Errorf("cookies %q, want %q", g, w)
	}
}

func TestV1MultiValue(t *testing.T) {
	ev := events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Path: "/sendverify/a b",
		Headers:                         map[string]string{"Host": "ignored.example", "X-Multi": "last"},
		MultiValueHeaders:               map[string][]string{"Host": {"h.example"}, "X-Multi": {"v1", "v2"}},
		QueryStringParameters:           map[string]string{"b": "2"},
		MultiValueQueryStringParameters: map[string][]string{"b": {"2", "1"}, "a": {"x y/z"}},
		Body:                            base64.StdEncoding.EncodeToString(binary), IsBase64Encoded: true,
	}
	ev.RequestContext.Identity.SourceIP = "198.51.100.7"
	payload, _ := json.Marshal(ev)
	var got seen
	r := invoke(t, echo(&got), payload)
	want := seen{Method: "POST", Host: "h.example", RequestURI: "/sendverify/a%20b?a=x+y%2Fz&b=2&b=1", EscapedPath: "/sendverify/a%20b",
		RawQuery: "a=x+y%2Fz&b=2&b=1", RemoteAddr: "198.51.100.7", Body: binary}
	checkSeen(t, got, want)
	if g, w := strings.Join(got.Header.Values("X-Multi"), "|"), "v1|v2"; g != w {
		t.Errorf("X-Multi %q, want %q", g, w)
	}
	checkBinaryResponse(t, r, binary)
	if g, w := strings.Join(r.MultiValueHeaders["Set-Cookie"], "|"), "c1=1|c2=2"; g != w {
		t.Errorf("Set-Cookie %q, want %q", g, w)
	}
}

func TestFunctionURL(t *testing.T) {
	ev := readEvent(t, "url-post.json")
	var got seen
	r := invoke(t, echo(&got), ev)
	if got.Host != urlHost {
		t.Errorf("Host %q, want the URL's domain %q", got.Host, urlHost)
	}
	if g, w := got.Header.Get("Header2"), "value1,value2"; g != w {
		t.Errorf("Header2 %q, want %q", g, w)
	}
	checkBinaryResponse(t, r, got.Body)
}

func checkSeen(t *testing.T, got, want seen) {
	t.Helper()
	for _, c := range [][3]string{
		{"Method", got.Method, want.Method}, {"Host", got.Host, want.Host}, {"RequestURI", got.RequestURI, want.RequestURI},
		{"EscapedPath", got.EscapedPath, want.EscapedPath}, {"RawQuery", got.RawQuery, want.RawQuery}, {"RemoteAddr", got.RemoteAddr, want.RemoteAddr},
	} {
		if c[1] != c[2] {
			t.Errorf("%s = %q, want %q", c[0], c[1], c[2])
		}
	}
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("body %x, want %x", got.Body, want.Body)
	}
}

// checkBinaryResponse checks the echo handler's answer to a request whose
// body was received.
func checkBinaryResponse(t *testing.T, r gwtest.Response, received []byte) {
	t.Helper()
	if r.StatusCode != http.StatusTeapot {
		t.Errorf("statusCode %d, want %d", r.StatusCode, http.StatusTeapot)
	}
	if !r.IsBase64Encoded {
		t.Error("binary body not base64-encoded")
	}
	if got, want := r.BodyBytes(t), append([]byte{0xff, 0x00, 0xfe}, received...); !bytes.Equal(got, want) {
		t.Errorf("body %x, want %x", got, want)
	}
}

func TestAdapterFailures(t *testing.T) {
	h := awslambda.New(http.NotFoundHandler())
	for name, payload := range map[string]string{
		"not json":      `{`,
		"not http":      `{"Records":[]}`,
		"bad base64 v2": `{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"POST"}},"body":"!!","isBase64Encoded":true}`,
		"bad base64 v1": `{"httpMethod":"POST","path":"/","body":"!!","isBase64Encoded":true}`,
		"bad method":    `{"httpMethod":"PO ST","path":"/"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := h.Invoke(context.Background(), []byte(payload)); err == nil {
				t.Fatal("no error")
			}
		})
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"Records":[]}`)); !errors.Is(err, awslambda.ErrUnsupportedEvent) {
		t.Fatalf("err %v, want ErrUnsupportedEvent", err)
	}
}

func TestTypedEntryPoints(t *testing.T) {
	var got seen
	h := awslambda.New(echo(&got))
	v1, err := h.V1(context.Background(), &events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/p", Headers: map[string]string{"Host": "h"}})
	if err != nil || v1.StatusCode != http.StatusTeapot || got.Host != "h" {
		t.Fatalf("V1: %+v %v host %q", v1, err, got.Host)
	}
	v2req := &events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/p"}
	v2req.RequestContext.HTTP.Method = "GET"
	v2req.RequestContext.DomainName = "d"
	v2, err := h.V2(context.Background(), v2req)
	if err != nil || v2.StatusCode != http.StatusTeapot || got.Host != "d" {
		t.Fatalf("V2: %+v %v host %q", v2, err, got.Host)
	}
	urlReq := &events.LambdaFunctionURLRequest{Version: "2.0", RawPath: "/p", RawQueryString: "a=%20"}
	urlReq.RequestContext.HTTP.Method = "GET"
	urlReq.RequestContext.DomainName = "u"
	u, err := h.URL(context.Background(), urlReq)
	if err != nil || u.StatusCode != http.StatusTeapot || got.Host != "u" || got.RawQuery != "a=%20" {
		t.Fatalf("URL: %+v %v %+v", u, err, got)
	}
}

// AfterInvoke runs exactly once per invocation, after the handler, also
// when the event cannot be adapted.
func TestAfterInvokeOncePerInvocation(t *testing.T) {
	var events []string
	h := awslambda.NewWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { events = append(events, "serve") }),
		awslambda.Options{AfterInvoke: func(context.Context) { events = append(events, "after") }})
	for _, payload := range []string{`{"httpMethod":"GET","path":"/"}`, `{"httpMethod":"GET","path":"/"}`, `{"Records":[]}`} {
		h.Invoke(context.Background(), []byte(payload))
	}
	if got := strings.Join(events, ","); got != "serve,after,serve,after,after" {
		t.Fatalf("events %s", got)
	}
}
