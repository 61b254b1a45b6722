// Command coldstart measures a function's cold start from outside, the way a
// platform sees it: it execs the stripped binary in plain-HTTP mode
// (VERIFYFN_ADDR=127.0.0.1:PORT, VERIFYFN_STORE=memory, the development
// account), connects as soon as the port accepts and sends a TC3-signed
// SendVerifyCode (signed before the exec), and times the process start to
// the first byte of the answer and to the whole answer, which must be a
// success. In the same run, alternating with it, it does the same with a
// stripped hello-world net/http binary (internal/coldstart/hello, answering
// any request), so that the load of the machine weighs on both alike.
//
//	go run ./internal/coldstart -n 20                  # build both (as make build does), measure
//	go run ./internal/coldstart -n 20 -tags lambda.norpc,verifyfn_providers,provider_webhook
//	go run ./internal/coldstart -bin dist/sendverify/scf/main
//	go run ./internal/coldstart -compare /tmp/old/sendverify   # and an earlier build, in the same run
//	taskset -c 1 go run ./internal/coldstart ...       # pin the measured processes to one core
//
// It also runs the binary once with GODEBUG=inittrace=1 and reports when
// package initialisation ended and its largest packages, and the time from
// the start to the "listening" log line (main's own setup).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/app/fn/sendverify"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery/setup"
	"github.com/verifyfn/verifyfn/shared/store/storeopen"
	"github.com/verifyfn/verifyfn/shared/tcauth"
)

func main() {
	n := flag.Int("n", 20, "starts of each binary")
	fn := flag.String("fn", "sendverify", "the function to build (functions/<fn>); it must serve SendVerifyCode")
	bin := flag.String("bin", "", "measure this binary instead of building functions/<fn>")
	tags := flag.String("tags", "lambda.norpc", "build tags (make build's; add verifyfn_providers,provider_<name> for PROVIDERS=<name>)")
	compare := flag.String("compare", "", "also measure this binary (an earlier build of the same function), alternating with the others")
	phasesOnly := flag.Bool("phases", false, "only time main's steps in this process (run it in a fresh process: the first calls are what is measured)")
	flag.Parse()
	if *phasesOnly {
		if err := phases(); err != nil {
			fmt.Fprintln(os.Stderr, "coldstart:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*n, *fn, *bin, *tags, *compare); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func run(n int, fn, bin, tags, compare string) error {
	dir, err := os.MkdirTemp("", "coldstart")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		bin = filepath.Join(dir, fn)
		if err := build(bin, "./functions/"+fn, tags); err != nil {
			return err
		}
	}
	hello := filepath.Join(dir, "hello")
	if err := build(hello, "./internal/coldstart/hello", ""); err != nil {
		return err
	}
	type subject struct {
		name, path string
		verifyfn   bool
		runs       []sample
	}
	subjects := []*subject{{name: "function", path: bin, verifyfn: true}, {name: "hello", path: hello}}
	if compare != "" {
		subjects = append(subjects, &subject{name: "compare", path: compare, verifyfn: true})
	}
	fmt.Printf("load average at start: %s\n", loadavg())
	for _, s := range subjects {
		st, err := os.Stat(s.path)
		if err != nil {
			return err
		}
		fmt.Printf("%-8s %s, %.2f MiB\n", s.name, s.path, float64(st.Size())/(1<<20))
		// one warm-up start each (page cache), not counted
		if _, err := start(s.path, dir, s.verifyfn); err != nil {
			return err
		}
	}
	for range n {
		for _, s := range subjects {
			r, err := start(s.path, dir, s.verifyfn)
			if err != nil {
				return err
			}
			s.runs = append(s.runs, r)
		}
	}
	fmt.Printf("load average at end:   %s\n\n", loadavg())
	fmt.Printf("%d starts each, alternating; process start to:   median     min     p90     max\n", n)
	for _, s := range subjects {
		report(s.name+": first byte of the answer", s.runs, func(s sample) time.Duration { return s.firstByte })
		report(s.name+": CPU time (user+system) until then", s.runs, func(s sample) time.Duration { return s.cpu })
		if s.verifyfn {
			report(s.name+": whole answer", s.runs, func(s sample) time.Duration { return s.answer })
			report(s.name+": the 'listening' log line", s.runs, func(s sample) time.Duration { return s.listening })
		}
	}
	fmt.Println()
	if err := inittrace(bin, dir); err != nil {
		return err
	}
	fmt.Println()
	cmd := exec.Command(os.Args[0], "-phases") // a fresh process of this tool
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// phases times, in this process, the steps sendverify's main takes after
// package initialisation, each the first time it runs, and the first and
// second request through the handler (no network): configuration, the
// store, delivery (the outbox file, the templates), the whole assembly
// (accounts, store, engine, delivery, front door), the listener.
func phases() error {
	dir, err := os.MkdirTemp("", "coldstart-phases")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := map[string]string{"VERIFYFN_ADDR": "127.0.0.1:0", "VERIFYFN_STORE": "memory",
		"VERIFYFN_CODE_KEY": "coldstart-code-key-0123456789abcdef", "VERIFYFN_OUTBOX": filepath.Join(dir, "outbox.jsonl")}
	var steps []string
	t := time.Now()
	lap := func(name string) {
		steps = append(steps, fmt.Sprintf("  %-58s %7.3f ms", name, float64(time.Since(t).Microseconds())/1000))
		t = time.Now()
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	lap("configuration (config.FromEnv)")
	st, err := storeopen.Open(cfg.Store)
	if err != nil {
		return err
	}
	st.Close()
	lap("the store (storeopen.Open: memory)")
	sender, closer, err := setup.New(cfg, setup.Options{})
	if err != nil {
		return err
	}
	_ = sender
	closer.Close()
	lap("delivery (setup.New: the outbox, no providers)")
	a, err := sendverify.New(cfg, app.Options{Logger: app.NewLogger(io.Discard, cfg.LogLevel)})
	if err != nil {
		return err
	}
	defer a.Close()
	lap("the whole assembly (sendverify.New, the steps above again)")
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	lap("listening (net.Listen)")
	for _, name := range []string{"the first SendVerifyCode through the handler", "the second"} {
		raw := sendVerifyCode(addr)
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return err
		}
		t = time.Now()
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, req)
		lap(name)
		if rec.Code != 200 || strings.Contains(rec.Body.String(), `"Error"`) {
			return fmt.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	fmt.Println("main's steps after package initialisation, in a fresh process (each the first time):")
	fmt.Println(strings.Join(steps, "\n"))
	return nil
}

func build(out, pkg, tags string) error {
	args := []string{"build", "-trimpath", "-ldflags", "-s -w", "-o", out}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

type sample struct {
	firstByte, answer, listening time.Duration
	cpu                          time.Duration // user + system, start to the answer (then killed)
}

// start execs bin on a free port, sends the request as soon as the port
// accepts and returns the timings.
func start(bin, dir string, verifyfn bool) (sample, error) {
	port, err := freePort()
	if err != nil {
		return sample{}, err
	}
	addr := "127.0.0.1:" + port
	req := []byte("GET / HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n")
	if verifyfn {
		req = sendVerifyCode(addr)
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{"VERIFYFN_ADDR=" + addr, "VERIFYFN_STORE=memory", "ADDR=" + addr,
		"VERIFYFN_CODE_KEY=coldstart-code-key-0123456789abcdef", "VERIFYFN_OUTBOX=" + filepath.Join(dir, "outbox.jsonl")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	var conn net.Conn
	for {
		conn, err = net.Dial("tcp", addr)
		if err == nil {
			break
		}
		if time.Since(t0) > 10*time.Second {
			return sample{}, fmt.Errorf("%s did not listen: %v; stderr: %s", bin, err, stderr.Bytes())
		}
		time.Sleep(20 * time.Microsecond)
	}
	defer conn.Close()
	if _, err := conn.Write(req); err != nil {
		return sample{}, err
	}
	r := bufio.NewReader(conn)
	if _, err := r.Peek(1); err != nil {
		return sample{}, fmt.Errorf("%s: no answer: %v; stderr: %s", bin, err, stderr.Bytes())
	}
	s := sample{firstByte: time.Since(t0)}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return sample{}, err
	}
	body, err := io.ReadAll(resp.Body)
	s.answer = time.Since(t0)
	if err != nil {
		return sample{}, err
	}
	cmd.Process.Kill()
	cmd.Wait()
	s.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if verifyfn {
		var env struct {
			Response struct{ Error *struct{ Code string } }
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &env) != nil || env.Response.Error != nil {
			return sample{}, fmt.Errorf("%s answered %d %s; stderr: %s", bin, resp.StatusCode, body, stderr.Bytes())
		}
		s.listening = listenedAt(stderr.Bytes(), t0)
	}
	return s, nil
}

// sendVerifyCode is a signed SendVerifyCode for a fresh Hong Kong number.
func sendVerifyCode(addr string) []byte {
	phone := strconv.Itoa(51230000 + int(time.Now().UnixNano()/1000%10000))
	body := `{"CountryCode":"852","PhoneNum":"` + phone + `"}`
	ts := time.Now().Unix()
	auth := tcauth.Sign(accounts.DevSecretID, []byte(accounts.DevSecretKey), "intlpartnersmgt", "POST", addr,
		"application/json", "", []byte(body), ts)
	return []byte("POST / HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\n" +
		"X-TC-Action: SendVerifyCode\r\nX-TC-Version: 2022-09-28\r\nX-TC-Timestamp: " + strconv.FormatInt(ts, 10) + "\r\n" +
		"Authorization: " + auth + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body)
}

// listenedAt is the time of the "listening" log line after t0.
func listenedAt(logs []byte, t0 time.Time) time.Duration {
	for _, line := range bytes.Split(logs, []byte("\n")) {
		var l struct {
			Time time.Time
			Msg  string
		}
		if json.Unmarshal(line, &l) == nil && l.Msg == "listening" {
			return l.Time.Sub(t0)
		}
	}
	return 0
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}

func report(name string, runs []sample, f func(sample) time.Duration) {
	d := make([]time.Duration, len(runs))
	for i, s := range runs {
		d[i] = f(s)
	}
	slices.Sort(d)
	ms := func(x time.Duration) string { return fmt.Sprintf("%7.2f", float64(x.Microseconds())/1000) }
	fmt.Printf("  %-45s %s ms %s %s %s\n", name, ms(d[len(d)/2]), ms(d[0]), ms(d[len(d)*9/10]), ms(d[len(d)-1]))
}

var initLine = regexp.MustCompile(`^init (\S+) @([0-9.]+) ms, ([0-9.]+) ms clock, (\d+) bytes, (\d+) allocs`)

// inittrace runs bin once with GODEBUG=inittrace=1 and summarises it.
func inittrace(bin, dir string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{"GODEBUG=inittrace=1", "VERIFYFN_ADDR=127.0.0.1:" + port, "VERIFYFN_STORE=memory",
		"VERIFYFN_CODE_KEY=coldstart-code-key-0123456789abcdef", "VERIFYFN_OUTBOX=" + filepath.Join(dir, "outbox.jsonl")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	for time.Since(t0) < 10*time.Second && !bytes.Contains(stderr.Bytes(), []byte(`"listening"`)) {
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	type pkg struct {
		name          string
		at, clock     float64
		bytes, allocs int
	}
	var pkgs []pkg
	var end, sum float64
	allocs := 0
	for _, line := range strings.Split(stderr.String(), "\n") {
		m := initLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var p pkg
		p.name = m[1]
		p.at, _ = strconv.ParseFloat(m[2], 64)
		p.clock, _ = strconv.ParseFloat(m[3], 64)
		p.bytes, _ = strconv.Atoi(m[4])
		p.allocs, _ = strconv.Atoi(m[5])
		pkgs = append(pkgs, p)
		end = max(end, p.at+p.clock)
		sum += p.clock
		allocs += p.allocs
	}
	if len(pkgs) == 0 {
		return fmt.Errorf("no inittrace output: %s", stderr.Bytes())
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].clock > pkgs[j].clock })
	fmt.Printf("GODEBUG=inittrace=1, one start: %d packages initialised, the last done %.1f ms after the process started; %.1f ms in init functions, %d allocations\n",
		len(pkgs), end, sum, allocs)
	for _, p := range pkgs[:min(8, len(pkgs))] {
		fmt.Printf("  %-50s %6.2f ms %8d bytes %6d allocs\n", p.name, p.clock, p.bytes, p.allocs)
	}
	return nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
