// Package apitest boots the real verifyfn stack (front doors, engine,
// embedded store, outbox) behind an httptest server for tests, with a
// settable clock and a captured JSON log, and calls it with the official SDKs.
package apitest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/internal/testclock"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/app/all"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery/outbox"
	"github.com/verifyfn/verifyfn/shared/password"
	"github.com/verifyfn/verifyfn/shared/tcauth"
)

// Server is a running verifyfn for one test.
type Server struct {
	*httptest.Server
	App    *app.App
	Clock  *testclock.Clock
	Host   string // host:port
	Outbox string // path of the outbox file
	// Passwords is the server's password hasher: by default one with
	// password.TestOnly parameters (see WithPasswords); its Runs counts
	// the hashes CreateAccount computed.
	Passwords *password.Hasher
	logs      *syncBuffer
}

// Option adjusts the configuration before the stack is built.
type Option func(*config.Config, *app.Options)

// Start boots a server. The clock starts at the real time (the SDKs sign with
// it) and only moves when the test advances it.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	cfg.Outbox = filepath.Join(dir, "outbox.jsonl")
	cfg.CodeKey = []byte("test-code-key-0123456789abcdef")
	logs := &syncBuffer{}
	clk := testclock.New(time.Now())
	o := app.Options{
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:       clk.Now,
		Passwords: password.New(password.TestOnly(), 0),
	}
	for _, opt := range opts {
		opt(&cfg, &o)
	}
	a, err := all.New(cfg, o)
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(a.Handler)
	tb.Cleanup(func() {
		ts.Close()
		a.Close()
	})
	u, _ := url.Parse(ts.URL)
	return &Server{Server: ts, App: a, Clock: clk, Host: u.Host, Outbox: cfg.Outbox, Passwords: o.Passwords, logs: logs}
}

// WithPasswords hashes passwords with h instead of the default test hasher
// (password.TestOnly parameters, cheap enough for tests that create many
// accounts). A test of the production hash passes
// password.New(password.OWASP(), 0).
func WithPasswords(h *password.Hasher) Option {
	return func(_ *config.Config, o *app.Options) { o.Passwords = h }
}

// WithAccounts serves the given accounts instead of the development account.
func WithAccounts(r *accounts.Registry) Option {
	return func(_ *config.Config, o *app.Options) { o.Accounts = r }
}

// WithEngineClock runs the engine and the embedded store on clk, apart from
// the server's Clock that signatures are checked against, so that a test can
// move the codes' and limits' time by days while the SDKs sign with the real
// time.
func WithEngineClock(clk *testclock.Clock) Option {
	return func(_ *config.Config, o *app.Options) { o.EngineNow = clk.Now }
}

// WithConfig edits the configuration.
func WithConfig(f func(*config.Config)) Option {
	return func(c *config.Config, _ *app.Options) { f(c) }
}

// Tencent returns an official SDK client signed with the development
// credential; o may override anything.
func (s *Server) Tencent(o tcclient.Options) *tcclient.Client {
	o.Endpoint = s.Host
	if o.SecretID == "" {
		o.SecretID, o.SecretKey = accounts.DevSecretID, accounts.DevSecretKey
	}
	return tcclient.New(o)
}

// Messages returns the outbox lines so far.
func (s *Server) Messages(tb testing.TB) []outbox.Line {
	tb.Helper()
	lines, err := outbox.Read(s.Outbox)
	if err != nil {
		tb.Fatal(err)
	}
	return lines
}

// LastCode returns the code of the last message to a destination.
func (s *Server) LastCode(tb testing.TB, to string) string {
	tb.Helper()
	lines := s.Messages(tb)
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].To == to {
			return lines[i].Code
		}
	}
	tb.Fatalf("no message to %s in the outbox", to)
	return ""
}

// Logs returns everything logged so far.
func (s *Server) Logs() string { return s.logs.String() }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// SignedRequest is a raw Tencent request signed with TC3 by our own signer,
// for tests that tamper with a request after signing.
type SignedRequest struct {
	Method, Host, Service, Action, Version string
	ContentType                            string
	Body                                   []byte
	RawQuery                               string
	Timestamp                              int64
	SecretID, SecretKey                    string
	Date                                   string // default: the UTC date of Timestamp
	// SignedHost is the host written into the canonical request (default:
	// Host, to which the request is sent).
	SignedHost string
}

// Build returns the request with its headers and Authorization.
func (sr SignedRequest) Build(tb testing.TB) *http.Request {
	tb.Helper()
	if sr.Method == "" {
		sr.Method = http.MethodPost
	}
	if sr.ContentType == "" {
		sr.ContentType = "application/json"
	}
	if sr.SecretID == "" {
		sr.SecretID, sr.SecretKey = accounts.DevSecretID, accounts.DevSecretKey
	}
	if sr.Date == "" {
		sr.Date = time.Unix(sr.Timestamp, 0).UTC().Format(time.DateOnly)
	}
	u := "http://" + sr.Host + "/"
	if sr.RawQuery != "" {
		u += "?" + sr.RawQuery
	}
	req, err := http.NewRequest(sr.Method, u, bytes.NewReader(sr.Body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", sr.ContentType)
	req.Header.Set("X-TC-Action", sr.Action)
	req.Header.Set("X-TC-Version", sr.Version)
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(sr.Timestamp, 10))
	signed := []string{"content-type", "host"}
	if sr.SignedHost == "" {
		sr.SignedHost = sr.Host
	}
	hdr := func(n string) string {
		if n == "host" {
			return sr.SignedHost
		}
		return req.Header.Get(n)
	}
	q := ""
	if sr.Method == http.MethodGet {
		q = sr.RawQuery
	}
	canon := tcauth.CanonicalRequest(sr.Method, q, signed, hdr, true, tcauth.HashHex(sr.Body))
	scope := sr.Date + "/" + sr.Service + "/tc3_request"
	sig := tcauth.Signature([]byte(sr.SecretKey), sr.Date, sr.Service, tcauth.StringToSign(sr.Timestamp, scope, canon))
	req.Header.Set("Authorization", tcauth.FormatAuthorization(sr.SecretID, scope, signed, sig))
	return req
}

// Envelope is a decoded Tencent response.
type Envelope struct {
	Response struct {
		Error *struct {
			Code    string
			Message string
		}
		RequestID string `json:"RequestId"`
	}
}

// Do sends req and decodes the Tencent envelope, failing the test unless the
// answer is HTTP 200 with Content-Type exactly application/json.
func Do(tb testing.TB, req *http.Request) Envelope {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("status %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		tb.Fatalf("Content-Type %q, want exactly application/json", got)
	}
	var env Envelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		tb.Fatal(err)
	}
	if env.Response.RequestID == "" {
		tb.Fatal("response without RequestId")
	}
	return env
}

// Code returns the error code of an envelope, or "" on success.
func (e Envelope) Code() string {
	if e.Response.Error == nil {
		return ""
	}
	return e.Response.Error.Code
}
