// Package verifyfntest runs verifyfn inside a Go test, as miniredis runs
// Redis and httptest runs an HTTP server: the real stack (both front doors,
// the four APIs, the code engine, the memory store) on a free loopback port,
// with a documented account, stopped when the test ends. Point the official
// Tencent and Alibaba SDKs at Endpoint with the Server's credentials, and
// drive the server from the test through its control plane
// (docs/testing.md): read the codes it sent, move its clock, make an action
// answer a documented error, start over.
//
//	func TestSignUp(t *testing.T) {
//		srv := verifyfntest.Start(t)
//		// ... your code sends a code through the Tencent SDK to srv.Endpoint ...
//		code := srv.LatestCode(t, "+85251234567")
//		srv.Fail("intlpartnersmgt", "SendVerifyCode", "FailedOperation.SendVerifyCodeLimit", 1)
//		srv.Advance(11 * time.Minute) // the code expires
//	}
//
// The methods that change the server fail the test given to Start when the
// server refuses (a code the action does not document, say); on a Server
// from Run they panic instead. Call them from the test's goroutine.
package verifyfntest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/control"
)

// Message is a message the server delivered: its destination, text and
// code, and what sent it (see docs/testing.md).
type Message = control.Message

// Fault is a pending fault (see Server.AddFault).
type Fault = control.Fault

// LatestWait is how long LatestCode waits for a message to arrive.
const LatestWait = 10 * time.Second

// Server is verifyfn running in this process.
type Server struct {
	// Endpoint is host:port, what the SDKs take as their endpoint (with
	// the scheme http).
	Endpoint string
	// URL is http://Endpoint.
	URL string
	// AccountID is the account's id (Tencent AppId, Alibaba account).
	AccountID string
	// SecretID and SecretKey sign Tencent requests.
	SecretID, SecretKey string
	// AccessKeyID and AccessKeySecret sign Alibaba requests (the same
	// credential).
	AccessKeyID, AccessKeySecret string
	// SMHInstance is the account's SMH instance and SuperAdmin its super
	// admin (E.164) as configured.
	SMHInstance, SuperAdmin string
	// CAMSSpace is the account's CAMS customer space.
	CAMSSpace string

	tb     testing.TB // nil for Run
	srv    *httptest.Server
	app    *app.App
	client *http.Client
}

// Account is an account to serve: one credential, its products (default
// all four), and optionally an SMH instance with its super admin and a CAMS
// space.
type Account struct {
	ID                  string
	SecretID, SecretKey string
	Actions             []string // default ["*"]
	Products            []string // default smh, intlpartnersmgt, domain, cams
	SMHInstance         string
	SuperAdmin          string // E.164
	CAMSSpace           string
}

// Limits are the limits to run with; zero fields keep the defaults
// (docs/configuration.md).
type Limits struct {
	CodeTTL       time.Duration // VERIFYFN_CODE_TTL, at most 10m
	MaxAttempts   int           // VERIFYFN_MAX_ATTEMPTS
	Cooldown      time.Duration // VERIFYFN_RESEND_COOLDOWN
	SendWindows   string        // VERIFYFN_SEND_WINDOWS, such as "5/1h,10/24h"
	RateLimit     int           // VERIFYFN_RATE_LIMIT
	CAMSRateLimit int           // VERIFYFN_CAMS_RATE_LIMIT
}

// Option configures Start and Run.
type Option func(*options)

type options struct {
	env      map[string]string
	accounts []Account
	logger   *slog.Logger
}

// WithAccounts serves these accounts instead of the documented development
// account; the Server's fields describe the first.
func WithAccounts(accounts ...Account) Option {
	return func(o *options) { o.accounts = accounts }
}

// WithLimits sets the limits.
func WithLimits(l Limits) Option {
	return func(o *options) {
		set := func(name string, ok bool, v string) {
			if ok {
				o.env[name] = v
			}
		}
		set("VERIFYFN_CODE_TTL", l.CodeTTL != 0, l.CodeTTL.String())
		set("VERIFYFN_MAX_ATTEMPTS", l.MaxAttempts != 0, strconv.Itoa(l.MaxAttempts))
		set("VERIFYFN_RESEND_COOLDOWN", l.Cooldown != 0, l.Cooldown.String())
		set("VERIFYFN_SEND_WINDOWS", l.SendWindows != "", l.SendWindows)
		set("VERIFYFN_RATE_LIMIT", l.RateLimit != 0, strconv.Itoa(l.RateLimit))
		set("VERIFYFN_CAMS_RATE_LIMIT", l.CAMSRateLimit != 0, strconv.Itoa(l.CAMSRateLimit))
	}
}

// WithTestNumbers gives destinations fixed codes (VERIFYFN_TEST_NUMBERS):
// a send to them delivers nothing (so no message is listed) and every
// limit applies. Keys are E.164 numbers or email addresses.
func WithTestNumbers(codes map[string]string) Option {
	return func(o *options) {
		parts := make([]string, 0, len(codes))
		for to, code := range codes {
			parts = append(parts, to+"="+code)
		}
		o.env["VERIFYFN_TEST_NUMBERS"] = strings.Join(parts, ",")
	}
}

// WithEnv sets VERIFYFN_* variables (docs/configuration.md), such as
// VERIFYFN_TEMPLATES or VERIFYFN_STORE; later options win.
func WithEnv(env map[string]string) Option {
	return func(o *options) {
		for k, v := range env {
			o.env[k] = v
		}
	}
}

// WithLogger sends the server's JSON log to l (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Start runs a server for the test t and stops it when t ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Run(opts...)
	if err != nil {
		t.Fatalf("verifyfntest: %v", err)
	}
	s.tb = t
	t.Cleanup(s.Close)
	return s
}

// Run runs a server until Close: for a TestMain or an example, where there
// is no test to stop it.
func Run(opts ...Option) (*Server, error) {
	o := options{env: map[string]string{
		"VERIFYFN_ENV":    config.EnvTest,
		"VERIFYFN_STORE":  "memory",
		"VERIFYFN_OUTBOX": os.DevNull,
	}}
	for _, opt := range opts {
		opt(&o)
	}
	if len(o.accounts) > 0 {
		y, err := accountsYAML(o.accounts)
		if err != nil {
			return nil, err
		}
		o.env["VERIFYFN_ACCOUNTS_YAML"] = y
	}
	cfg, err := config.FromEnv(func(k string) string { return o.env[k] })
	if err != nil {
		return nil, err
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	a, err := app.New(cfg, app.Options{Logger: o.logger})
	if err != nil {
		return nil, err
	}
	if a.Control == nil {
		a.Close()
		return nil, fmt.Errorf("the control plane is off (VERIFYFN_ENV=%s, VERIFYFN_CONTROL): verifyfntest needs it", cfg.Env)
	}
	srv := httptest.NewServer(a.Handler)
	u, _ := url.Parse(srv.URL)
	s := &Server{Endpoint: u.Host, URL: srv.URL, srv: srv, app: a,
		client: &http.Client{Transport: &http.Transport{}, Timeout: time.Minute}}
	acct := Account{ID: accounts.DevAccountID, SecretID: accounts.DevSecretID, SecretKey: accounts.DevSecretKey,
		SMHInstance: accounts.DevInstanceID, SuperAdmin: accounts.DevSuperAdmin, CAMSSpace: accounts.DevCAMSSpace}
	if len(o.accounts) > 0 {
		acct = o.accounts[0]
	}
	s.AccountID, s.SecretID, s.SecretKey = acct.ID, acct.SecretID, acct.SecretKey
	s.AccessKeyID, s.AccessKeySecret = acct.SecretID, acct.SecretKey
	s.SMHInstance, s.SuperAdmin, s.CAMSSpace = acct.SMHInstance, acct.SuperAdmin, acct.CAMSSpace
	return s, nil
}

// accountsYAML writes accounts as an accounts file.
func accountsYAML(list []Account) (string, error) {
	type instance struct {
		ID         string `yaml:"id"`
		SuperAdmin string `yaml:"super_admin,omitempty"`
	}
	type credential struct {
		ID      string   `yaml:"id"`
		Secret  string   `yaml:"secret"`
		Actions []string `yaml:"actions"`
	}
	type account struct {
		ID           string       `yaml:"id"`
		Credentials  []credential `yaml:"credentials"`
		Products     []string     `yaml:"products"`
		SMHInstances []instance   `yaml:"smh_instances,omitempty"`
		CAMSSpaces   []string     `yaml:"cams_spaces,omitempty"`
	}
	var doc struct {
		Accounts []account `yaml:"accounts"`
	}
	for _, a := range list {
		if a.ID == "" || a.SecretID == "" || a.SecretKey == "" {
			return "", fmt.Errorf("an account needs an ID, a SecretID and a SecretKey")
		}
		acc := account{ID: a.ID, Credentials: []credential{{ID: a.SecretID, Secret: a.SecretKey, Actions: a.Actions}}, Products: a.Products}
		if acc.Credentials[0].Actions == nil {
			acc.Credentials[0].Actions = []string{"*"}
		}
		if acc.Products == nil {
			acc.Products = accounts.Services()
		}
		if a.SMHInstance != "" {
			acc.SMHInstances = []instance{{ID: a.SMHInstance, SuperAdmin: a.SuperAdmin}}
		}
		if a.CAMSSpace != "" {
			acc.CAMSSpaces = []string{a.CAMSSpace}
		}
		doc.Accounts = append(doc.Accounts, acc)
	}
	b, err := yaml.Marshal(doc)
	return string(b), err
}

// Close stops the server. Start's server closes when its test ends.
func (s *Server) Close() {
	s.client.CloseIdleConnections()
	s.srv.Close()
	s.app.Close()
}

// fail reports err: it fails the test, or panics for a server from Run.
func (s *Server) fail(err error) {
	if s.tb != nil {
		s.tb.Helper()
		s.tb.Fatalf("verifyfntest: %v", err)
	}
	panic("verifyfntest: " + err.Error())
}

// call calls the control plane: method, path (under /_verifyfn/), a JSON
// body or nil; it decodes the answer into out unless out is nil, and returns
// the status.
func (s *Server) call(ctx context.Context, method, path string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+control.Prefix+path, r)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode >= 400 {
		var e struct{ Error string }
		json.Unmarshal(b, &e)
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, control.Prefix+path, resp.StatusCode, e.Error)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}

func (s *Server) must(method, path string, body, out any) {
	if s.tb != nil {
		s.tb.Helper()
	}
	if _, err := s.call(context.Background(), method, path, body, out); err != nil {
		s.fail(err)
	}
}

// Messages returns every message delivered since the start or the last
// Reset or ClearMessages, oldest first.
func (s *Server) Messages() []Message {
	if s.tb != nil {
		s.tb.Helper()
	}
	var out struct{ Messages []Message }
	s.must(http.MethodGet, "messages", nil, &out)
	return out.Messages
}

// ClearMessages empties the message list.
func (s *Server) ClearMessages() {
	if s.tb != nil {
		s.tb.Helper()
	}
	s.must(http.MethodDelete, "messages", nil, nil)
}

// Latest returns the newest message to a destination (any spelling of the
// number or address), waiting until ctx ends for one to arrive.
func (s *Server) Latest(ctx context.Context, to string) (Message, error) {
	wait := LatestWait
	if d, ok := ctx.Deadline(); ok {
		// The server gives up a little before the caller does.
		left := time.Until(d)
		wait = min(left-left/5, control.MaxWait)
	}
	wait = max(wait, 0)
	var m Message
	status, err := s.call(ctx, http.MethodGet, "messages/latest?to="+url.QueryEscape(to)+"&wait="+wait.String(), nil, &m)
	if status == http.StatusNotFound || ctx.Err() != nil {
		return m, fmt.Errorf("no message to %s arrived within %s", to, wait.Round(time.Millisecond))
	}
	return m, err
}

// LatestCode returns the code of the newest message to a destination,
// waiting up to LatestWait for one; it fails t when none arrives.
func (s *Server) LatestCode(t testing.TB, to string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), LatestWait)
	defer cancel()
	m, err := s.Latest(ctx, to)
	if err != nil {
		t.Fatalf("verifyfntest: %v", err)
	}
	return m.Code
}

// Advance moves the server's clock forward by d: codes expire, cooldowns,
// send windows and rate limits free as if d had passed. Requests signed
// with the real time keep being accepted.
func (s *Server) Advance(d time.Duration) {
	if s.tb != nil {
		s.tb.Helper()
	}
	s.must(http.MethodPost, "clock", map[string]string{"advance": d.String()}, nil)
}

// ResetClock returns the server's clock to real time.
func (s *Server) ResetClock() {
	if s.tb != nil {
		s.tb.Helper()
	}
	s.must(http.MethodDelete, "clock", nil, nil)
}

// Now is the time the server's codes and limits see.
func (s *Server) Now() time.Time {
	if s.tb != nil {
		s.tb.Helper()
	}
	var c control.Clock
	s.must(http.MethodGet, "clock", nil, &c)
	return c.Now
}

// Fail makes the next n calls of service's action answer its documented
// error code, as a real refusal would, changing nothing.
func (s *Server) Fail(service, action, code string, n int) Fault {
	if s.tb != nil {
		s.tb.Helper()
	}
	return s.AddFault(control.FaultRequest{Service: service, Action: action, Code: code, Count: &n})
}

// FailDelivery makes the delivery of the next n calls of service's action
// fail: the action answers its delivery error and no code is left valid.
func (s *Server) FailDelivery(service, action string, n int) Fault {
	if s.tb != nil {
		s.tb.Helper()
	}
	return s.AddFault(control.FaultRequest{Service: service, Action: action, Delivery: "fail", Count: &n})
}

// AddFault adds a fault with every option: one destination (To), one
// account, a Delay.
func (s *Server) AddFault(f control.FaultRequest) Fault {
	if s.tb != nil {
		s.tb.Helper()
	}
	var out Fault
	s.must(http.MethodPost, "faults", f, &out)
	return out
}

// Faults returns the pending faults.
func (s *Server) Faults() []Fault {
	if s.tb != nil {
		s.tb.Helper()
	}
	var out struct{ Faults []Fault }
	s.must(http.MethodGet, "faults", nil, &out)
	return out.Faults
}

// ClearFaults forgets the pending faults.
func (s *Server) ClearFaults() {
	if s.tb != nil {
		s.tb.Helper()
	}
	s.must(http.MethodDelete, "faults", nil, nil)
}

// Reset forgets everything the APIs recorded (codes, attempts, cooldowns,
// windows, rate counters, nonces, verified contacts, registrations, created
// accounts, super admins, bound numbers) and the messages; the accounts and
// limits stay, and so do the clock and pending faults.
func (s *Server) Reset() {
	if s.tb != nil {
		s.tb.Helper()
	}
	s.must(http.MethodPost, "reset", nil, nil)
}

// ResetAccount is Reset for one account.
func (s *Server) ResetAccount(id string) {
	if s.tb != nil {
		s.tb.Helper()
	}
	s.must(http.MethodPost, "reset", map[string]string{"account": id}, nil)
}
