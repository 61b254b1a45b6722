package runtime_test

// Process-level tests: the real function binary, built as for deployment
// (CGO_ENABLED=0, -tags lambda.norpc, -trimpath, -ldflags "-s -w"), driven
// the way each platform drives it: through a fake Lambda Runtime API, over
// SCF's net/rpc protocol with scf-go-lib's own message types, and over HTTP.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/rpc"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tencentyun/scf-go-lib/cloudfunction/messages"

	"github.com/verifyfn/verifyfn/internal/emfcheck"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/runtime/internal/gwtest"
)

const (
	testSecretID  = "AKIDPROCESSTEST00000000000000000042"
	testSecretKey = "process-test-secret-key"
	accountsYAML  = `accounts:
  - id: "200000000042"
    credentials:
      - id: ` + testSecretID + `
        secret: env:VERIFYFN_TEST_SECRET
        actions: ["intlpartnersmgt:*"]
    products: [intlpartnersmgt]
`
)

// Artifacts, as make build builds them.
const (
	lambdaBuild = "lambda" // -tags lambda.norpc: the Lambda bootstrap
	scfBuild    = "scf"    // no tags: the SCF Go1 main (event and web functions)
)

var builds struct {
	once  sync.Once
	dir   string
	paths map[string]string
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	os.Exit(code)
}

// functionBinary returns functions/sendverify built as the given artifact;
// both are built once per test binary.
func functionBinary(tb testing.TB, artifact string) string {
	tb.Helper()
	builds.once.Do(func() {
		builds.dir, builds.err = os.MkdirTemp("", "verifyfn-function")
		if builds.err != nil {
			return
		}
		builds.paths = map[string]string{}
		for name, tags := range map[string]string{lambdaBuild: "lambda.norpc", scfBuild: ""} {
			path := filepath.Join(builds.dir, name)
			cmd := exec.Command(goTool(), "build", "-tags", tags, "-trimpath", "-ldflags", "-s -w",
				"-o", path, "github.com/verifyfn/verifyfn/functions/sendverify")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				builds.err = fmt.Errorf("go build -tags %q: %v\n%s", tags, err, out)
				return
			}
			builds.paths[name] = path
		}
	})
	if builds.err != nil {
		tb.Fatal(builds.err)
	}
	return builds.paths[artifact]
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

// baseEnv is a cloud deployment's configuration: accounts from
// VERIFYFN_ACCOUNTS_YAML with the secret as an env reference, a code key,
// an outbox in dir. Nothing is inherited from the test's environment.
func baseEnv(dir string, extra ...string) []string {
	return append([]string{
		"VERIFYFN_ACCOUNTS_YAML=" + accountsYAML,
		"VERIFYFN_TEST_SECRET=" + testSecretKey,
		"VERIFYFN_CODE_KEY=process-test-code-key-0123456789",
		"VERIFYFN_OUTBOX=" + filepath.Join(dir, "outbox.jsonl"),
	}, extra...)
}

// process is a started function binary.
type process struct {
	cmd    *exec.Cmd
	stdout *lockedBuffer
	stderr *lockedBuffer
	start  time.Time
}

func startProcess(tb testing.TB, artifact string, env []string) *process {
	tb.Helper()
	p := &process{cmd: exec.Command(functionBinary(tb, artifact)), stdout: &lockedBuffer{}, stderr: &lockedBuffer{}}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.kill)
	return p
}

func (p *process) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// signedEvent wraps a fresh official-SDK request in the shape's testdata
// event.
func signedEvent(tb testing.TB, shape gwtest.Shape, template, host, phone string) []byte {
	tb.Helper()
	tmpl, err := os.ReadFile(template)
	if err != nil {
		tb.Fatal(err)
	}
	c := gwtest.Capture(tb, gwtest.Call{
		Host: host, Service: "intlpartnersmgt", Version: "2022-09-28", Action: "SendVerifyCode",
		Params: map[string]string{"CountryCode": "852", "PhoneNum": phone}, SecretID: testSecretID, SecretKey: testSecretKey,
	})
	return gwtest.Event(tb, shape, tmpl, c, gwtest.EventOptions{Path: "/sendverify"})
}

func v2Event(tb testing.TB, phone string) []byte {
	return signedEvent(tb, gwtest.V2, "awslambda/testdata/apigw-v2-post.json", "gy415nuibc.execute-api.us-east-1.amazonaws.com", phone)
}

func scfEvent(tb testing.TB, phone string) []byte {
	return signedEvent(tb, gwtest.SCF, "scf/testdata/apigw-post.json", "service-xxx-123456.ap-shanghai.apigateway.myqcloud.com", phone)
}

// --- Lambda --------------------------------------------------------------

// fakeRuntime implements the Lambda Runtime API's invocation endpoints.
type fakeRuntime struct {
	*httptest.Server
	events  chan []byte
	results chan invocation
	polled  chan time.Time // when the function first asked for an event
}

type invocation struct {
	id, kind string // kind: "response", "error", "init-error"
	body     []byte
	at       time.Time
}

func newFakeRuntime(tb testing.TB) *fakeRuntime {
	f := &fakeRuntime{events: make(chan []byte, 1), results: make(chan invocation, 4), polled: make(chan time.Time, 1)}
	var n int
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case f.polled <- time.Now():
		default:
		}
		select {
		case ev := <-f.events:
			mu.Lock()
			n++
			id := "8476a536-e9f4-11e8-9739-2dfe598c3fc" + strconv.Itoa(n)
			mu.Unlock()
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", id)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:verifyfn-sendverify")
			w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1")
			w.Write(ev)
		case <-r.Context().Done():
		}
	})
	record := func(kind string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			f.results <- invocation{id: r.PathValue("id"), kind: kind, body: body, at: time.Now()}
			w.WriteHeader(http.StatusAccepted)
		}
	}
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", record("response"))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", record("error"))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", record("init-error"))
	f.Server = httptest.NewServer(mux)
	tb.Cleanup(f.Close) // registered before the process's kill, so it runs after it
	return f
}

func (f *fakeRuntime) invoke(tb testing.TB, event []byte) invocation {
	tb.Helper()
	f.events <- event
	select {
	case inv := <-f.results:
		return inv
	case <-time.After(30 * time.Second):
		tb.Fatal("no answer from the function within 30 s")
	}
	return invocation{}
}

func startLambda(tb testing.TB, env []string) (*fakeRuntime, *process) {
	rt := newFakeRuntime(tb)
	env = append(env, "AWS_LAMBDA_RUNTIME_API="+rt.Listener.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME=verifyfn-sendverify", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128")
	return rt, startProcess(tb, lambdaBuild, env)
}

func TestLambdaProcess(t *testing.T) {
	rt, p := startLambda(t, baseEnv(t.TempDir()))
	inv := rt.invoke(t, v2Event(t, "51234567"))
	if inv.kind != "response" {
		t.Fatalf("%s: %s\nstderr: %s", inv.kind, inv.body, p.stderr)
	}
	if got := gwtest.Decode(t, inv.body).Code(t); got != "" {
		t.Fatalf("code %q; stderr: %s", got, p.stderr)
	}
	// The same container serves the next invocation; a documented API error
	// (the 60 s resend cooldown) is a response, not a function error.
	inv = rt.invoke(t, v2Event(t, "51234567"))
	if inv.kind != "response" {
		t.Fatalf("%s: %s", inv.kind, inv.body)
	}
	if got := gwtest.Decode(t, inv.body).Code(t); got != "FailedOperation.SendVerifyCodeLimit60" {
		t.Fatalf("second send: code %q", got)
	}
}

// On Lambda the function writes what each invocation counted to standard
// output as CloudWatch EMF lines (CloudWatch Logs extracts the metrics):
// the two answers, each once, and no number in any line.
func TestLambdaProcessEMF(t *testing.T) {
	rt, p := startLambda(t, baseEnv(t.TempDir()))
	for _, want := range []string{"", "FailedOperation.SendVerifyCodeLimit60"} {
		inv := rt.invoke(t, v2Event(t, "51234599"))
		if got := gwtest.Decode(t, inv.body).Code(t); inv.kind != "response" || got != want {
			t.Fatalf("%s: code %q, want %q; stderr: %s", inv.kind, got, want, p.stderr)
		}
	}
	var all []emfcheck.Metric
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		all = nil
		for line := range strings.SplitSeq(strings.TrimSpace(p.stdout.String()), "\n") {
			if line == "" {
				continue
			}
			ms, err := emfcheck.Parse([]byte(line))
			if err != nil {
				t.Fatalf("stdout line %q: %v", line, err)
			}
			all = append(all, ms...)
		}
		if requests, _ := emfcheck.Sum(all, "verifyfn_requests_total", nil); requests == 2 || time.Now().After(deadline) {
			break
		}
	}
	for code, want := range map[string]float64{"OK": 1, "FailedOperation.SendVerifyCodeLimit60": 1} {
		got, _ := emfcheck.Sum(all, "verifyfn_requests_total", map[string]string{"service": "intlpartnersmgt", "action": "SendVerifyCode", "code": code})
		if got != want {
			t.Errorf("requests %s: %v, want %v\nstdout: %s", code, got, want, p.stdout)
		}
	}
	if got, _ := emfcheck.Sum(all, "verifyfn_messages_total", map[string]string{"provider": "outbox", "country": "HK", "outcome": "delivered"}); got != 1 {
		t.Errorf("messages: %v\nstdout: %s", got, p.stdout)
	}
	if strings.Contains(p.stdout.String(), "51234599") || strings.Contains(p.stdout.String(), testSecretID) {
		t.Fatalf("a number or a credential on stdout: %s", p.stdout)
	}
}

// A bad configuration does not crash the function: the first request gets
// the InternalError envelope and the log one line with the cause.
func TestLambdaProcessBadConfig(t *testing.T) {
	env := slices.DeleteFunc(baseEnv(t.TempDir()), func(s string) bool { return strings.HasPrefix(s, "VERIFYFN_CODE_KEY=") })
	rt, p := startLambda(t, env)
	inv := rt.invoke(t, v2Event(t, "51234567"))
	if inv.kind != "response" {
		t.Fatalf("%s: %s", inv.kind, inv.body)
	}
	if got := gwtest.Decode(t, inv.body).Code(t); got != "InternalError" {
		t.Fatalf("code %q", got)
	}
	// stderr reaches us through a pipe: wait for the line.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(p.stderr.String(), "\n") && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "configuration error") || !strings.Contains(lines[0], "VERIFYFN_CODE_KEY is required") {
		t.Fatalf("stderr: want one line with the cause, got %q", lines)
	}
	if strings.Contains(p.stderr.String(), testSecretKey) {
		t.Fatal("the secret reached the log")
	}
	if err := p.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the process is gone: %v", err)
	}
}

// Init does no network I/O: with the store unreachable the function still
// starts, and the first request fails closed with InternalError, as a
// response.
func TestLambdaProcessStoreUnreachable(t *testing.T) {
	rt, p := startLambda(t, baseEnv(t.TempDir(), "VERIFYFN_STORE=redis://127.0.0.1:"+freePort(t)+"/0"))
	inv := rt.invoke(t, v2Event(t, "51234567"))
	if inv.kind != "response" {
		t.Fatalf("%s: %s\nstderr: %s", inv.kind, inv.body, p.stderr)
	}
	if got := gwtest.Decode(t, inv.body).Code(t); got != "InternalError" {
		t.Fatalf("code %q, want InternalError", got)
	}
}

// A Lambda build (-tags lambda.norpc) has no SCF adapter and says so.
func TestLambdaBuildRefusesSCF(t *testing.T) {
	cmd := exec.Command(functionBinary(t, lambdaBuild))
	cmd.Env = baseEnv(t.TempDir(), "_LAMBDA_SERVER_PORT="+freePort(t))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "built with -tags lambda.norpc") {
		t.Fatalf("err %v, output %q", err, out)
	}
}

// --- SCF -----------------------------------------------------------------

func freePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// dialRPC connects to scf-go-lib's endpoint, retrying while it starts.
func dialRPC(tb testing.TB, port string, p *process) *rpc.Client {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := rpc.Dial("tcp", "localhost:"+port)
		if err == nil {
			tb.Cleanup(func() { c.Close() })
			return c
		}
		if time.Now().After(deadline) || p.cmd.ProcessState != nil {
			tb.Fatalf("dial: %v; stderr: %s", err, p.stderr)
		}
		time.Sleep(500 * time.Microsecond)
	}
}

func scfInvoke(tb testing.TB, c *rpc.Client, event []byte) messages.InvokeResponse {
	tb.Helper()
	req := &messages.InvokeRequest{
		Payload: event, RequestId: "c1b8e5e4-0000-4000-8000-000000000001",
		Deadline:     messages.InvokeRequest_Timestamp{Seconds: time.Now().Add(30 * time.Second).Unix()},
		FunctionName: "verifyfn-sendverify", Namespace: "default", FunctionVersion: "$LATEST", MemoryLimitInMb: 128, TimeLimitInMs: 30000,
	}
	var resp messages.InvokeResponse
	if err := c.Call("Function.Invoke", req, &resp); err != nil {
		tb.Fatal(err)
	}
	return resp
}

func TestSCFProcess(t *testing.T) {
	port := freePort(t)
	p := startProcess(t, scfBuild, baseEnv(t.TempDir(), "_LAMBDA_SERVER_PORT="+port, "TENCENTCLOUD_RUNENV=SCF"))
	c := dialRPC(t, port, p)
	if err := c.Call("Function.Ping", &messages.PingRequest{}, &messages.PingResponse{}); err != nil {
		t.Fatal(err)
	}
	resp := scfInvoke(t, c, scfEvent(t, "51234567"))
	if resp.Error != nil {
		t.Fatalf("function error %+v; stderr: %s", resp.Error, p.stderr)
	}
	if got := gwtest.Decode(t, resp.Payload).Code(t); got != "" {
		t.Fatalf("code %q; stderr: %s", got, p.stderr)
	}
}

// --- HTTP (local, container, SCF web function) ---------------------------

// listening waits for the "listening" log line and returns the address.
func listening(tb testing.TB, r io.Reader) string {
	tb.Helper()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sent := false
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" && !sent {
				found <- line.Addr
				sent = true
			}
		}
	}()
	select {
	case addr := <-found:
		return addr
	case <-time.After(20 * time.Second):
		tb.Fatal("the function did not start listening")
	}
	return ""
}

func startHTTP(tb testing.TB, env []string) (*process, string) {
	tb.Helper()
	p := &process{cmd: exec.Command(functionBinary(tb, scfBuild)), stderr: &lockedBuffer{}}
	p.cmd.Env = env
	pr, pw := io.Pipe()
	p.cmd.Stderr = io.MultiWriter(p.stderr, pw)
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.kill(); pw.Close() })
	return p, listening(tb, pr)
}

func TestHTTPProcess(t *testing.T) {
	p, addr := startHTTP(t, baseEnv(t.TempDir(), "VERIFYFN_ADDR=127.0.0.1:0"))
	c := tcclient.New(tcclient.Options{Endpoint: addr, SecretID: testSecretID, SecretKey: testSecretKey})
	if _, err := c.Call("intlpartnersmgt", "2022-09-28", "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}); err != nil {
		t.Fatalf("%v; stderr: %s", err, p.stderr)
	}
	// SIGTERM: graceful shutdown, exit code 0.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d; stderr: %s", code, p.stderr)
	}
}

func TestHTTPProcessLocalConfigError(t *testing.T) {
	cmd := exec.Command(functionBinary(t, lambdaBuild))
	cmd.Env = []string{"VERIFYFN_ADDR=0.0.0.0:0"} // the development account, on every interface
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "refusing to serve the built-in development account") {
		t.Fatalf("err %v, output %q", err, out)
	}
}

// --- cold start ----------------------------------------------------------

// BenchmarkColdStart measures, per platform, the time from starting the
// process to receiving the first response (a successful SendVerifyCode). Run
// it with -benchtime=20x; it reports the median and the binary's size.
func BenchmarkColdStart(b *testing.B) {
	size := func(artifact string) float64 {
		st, err := os.Stat(functionBinary(b, artifact))
		if err != nil {
			b.Fatal(err)
		}
		return float64(st.Size()) / (1 << 20)
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	run := func(b *testing.B, artifact string, first func(b *testing.B, i int) time.Duration) {
		var d []time.Duration
		for i := 0; i < b.N; i++ {
			d = append(d, first(b, i))
		}
		b.ReportMetric(median(d), "ms-median")
		b.ReportMetric(float64(slices.Max(d).Microseconds())/1000, "ms-max")
		b.ReportMetric(size(artifact), "MB-binary")
	}
	phone := func(i int) string { return strconv.Itoa(51230000 + i%10000) }
	b.Run("lambda", func(b *testing.B) {
		var ready []time.Duration // process start to the first GET /next: init done
		run(b, lambdaBuild, func(b *testing.B, i int) time.Duration {
			b.StopTimer()
			ev := v2Event(b, phone(i))
			b.StartTimer()
			rt, p := startLambda(b, baseEnv(b.TempDir()))
			inv := rt.invoke(b, ev)
			if inv.kind != "response" || gwtest.Decode(b, inv.body).Code(b) != "" {
				b.Fatalf("%s %s", inv.kind, inv.body)
			}
			ready = append(ready, (<-rt.polled).Sub(p.start))
			d := inv.at.Sub(p.start)
			p.kill()
			return d
		})
		b.ReportMetric(median(ready), "ms-median-init")
	})
	b.Run("scf", func(b *testing.B) {
		run(b, scfBuild, func(b *testing.B, i int) time.Duration {
			b.StopTimer()
			ev := scfEvent(b, phone(i))
			port := freePort(b)
			b.StartTimer()
			p := startProcess(b, scfBuild, baseEnv(b.TempDir(), "_LAMBDA_SERVER_PORT="+port))
			resp := scfInvoke(b, dialRPC(b, port, p), ev)
			d := time.Since(p.start)
			if resp.Error != nil || gwtest.Decode(b, resp.Payload).Code(b) != "" {
				b.Fatalf("%+v %s", resp.Error, resp.Payload)
			}
			p.kill()
			return d
		})
	})
	b.Run("http", func(b *testing.B) {
		run(b, scfBuild, func(b *testing.B, i int) time.Duration {
			p, addr := startHTTP(b, baseEnv(b.TempDir(), "VERIFYFN_ADDR=127.0.0.1:0"))
			c := tcclient.New(tcclient.Options{Endpoint: addr, SecretID: testSecretID, SecretKey: testSecretKey})
			if _, err := c.Call("intlpartnersmgt", "2022-09-28", "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": phone(i)}); err != nil {
				b.Fatal(err)
			}
			d := time.Since(p.start)
			p.kill()
			return d
		})
	})
}
