//go:build contract

package contracts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pact-foundation/pact-go/v2/models"
	"github.com/pact-foundation/pact-go/v2/provider"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/app/all"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/memstore"
)

// pactDir is where the consumer tests write the pacts and the provider tests
// read them (relative to this package, the working directory of its tests).
const pactDir = "pacts"

// The consumers: the real callers of the functions.
const (
	// gatewayClient is a backend calling a function through an API gateway
	// with the official SDK: it relies on every documented shape and code.
	gatewayClient = "api-gateway-client"
	// functionClient is another cloud function invoking ours with the
	// official SDK for the flows it runs: in English (X-TC-Language) for the
	// Tencent APIs, with the legacy RPC signature for Alibaba's.
	functionClient = "cloud-function-client"
)

func TestMain(m *testing.M) {
	// Pact's verifier reports usage metrics over the network unless told
	// not to; nothing here may depend on the network.
	os.Setenv("PACT_DO_NOT_TRACK", "true")
	os.Exit(m.Run())
}

// Credentials besides the development one: a limited credential of the
// development account (it may call smh only, so a domain or cams request
// signed with it is forbidden), and the credential of a second account that
// has not subscribed to cams.
const (
	limitedSecretID  = "AKIDCONTRACT000000000000000000LIMITED"
	limitedSecretKey = "contract-limited-secret-key"
	noCAMSSecretID   = "AKIDCONTRACT0000000000000000000NOCAMS"
	noCAMSSecretKey  = "contract-nocams-secret-key"
)

// registry is the development account with the limited credential, and an
// account 200000000002 with smh only.
func registry(t *testing.T) *accounts.Registry {
	t.Helper()
	yaml := strings.Replace(accounts.DevYAML, "    products:", `      - id: `+limitedSecretID+`
        secret: `+limitedSecretKey+`
        actions: ["smh:*"]
    products:`, 1) + `  - id: "200000000002"
    credentials:
      - id: ` + noCAMSSecretID + `
        secret: ` + noCAMSSecretKey + `
        actions: ["*"]
    products: [smh]
`
	r, err := accounts.Parse("contract accounts", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// credential signs replayed requests.
type credential struct{ id, secret string }

var (
	devCredential     = credential{accounts.DevSecretID, accounts.DevSecretKey}
	limitedCredential = credential{limitedSecretID, limitedSecretKey}
	noCAMSCredential  = credential{noCAMSSecretID, noCAMSSecretKey}
)

// stack is the real verifyfn (app.New: front doors, engine, embedded store)
// behind an httptest server on a real port. It is rebuilt from scratch before
// each interaction, so no interaction sees another's codes, limits or
// records; its clock only moves when a provider state moves it.
type stack struct {
	t        *testing.T
	reg      *accounts.Registry
	services map[string]bool
	srv      *httptest.Server
	outbox   string // unused: the recorder delivers

	mu    sync.Mutex
	app   *app.App
	clock *clock
	sent  *recorder
	store *faultyStore
	cred  credential
}

func newStack(t *testing.T, services ...string) *stack {
	t.Helper()
	s := &stack{t: t, reg: registry(t), services: map[string]bool{}, outbox: filepath.Join(t.TempDir(), "outbox.jsonl")}
	for _, name := range services {
		s.services[name] = true
	}
	if err := s.reset(); err != nil {
		t.Fatal(err)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		h := s.app.Handler
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		s.srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.app.Close()
	})
	return s
}

// host is the host:port the provider is reached at, which the replayed
// requests are signed for (pact-go's proxy forwards with this Host).
func (s *stack) host() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// reset replaces the app with a fresh one: empty store, clock at the real
// time, nothing sent, the development credential.
func (s *stack) reset() error {
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		return err
	}
	cfg.CodeKey = []byte("contract-code-key-0123456789abcdef")
	cfg.Outbox = s.outbox
	clk := &clock{now: time.Now()}
	rec := &recorder{}
	st := &faultyStore{Store: memstore.New()}
	a, err := all.New(cfg, app.Options{Now: clk.Now, Sender: rec, Store: st, Accounts: s.reg, Services: s.services})
	if err != nil {
		return err
	}
	s.mu.Lock()
	old := s.app
	s.app, s.clock, s.sent, s.store, s.cred = a, clk, rec, st, devCredential
	s.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

// now is the app's clock.
func (s *stack) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock.Now()
}

// advance moves the app's clock.
func (s *stack) advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock.Advance(d)
}

// signer is the credential replayed requests are signed with.
func (s *stack) signer() credential {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cred
}

func (s *stack) useCredential(c credential) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cred = c
}

// lastCode is the code of the last message delivered to to (E.164 or email).
func (s *stack) lastCode(to string) (string, error) {
	s.mu.Lock()
	rec := s.sent
	s.mu.Unlock()
	return rec.lastCode(to)
}

// failDelivery makes every delivery fail.
func (s *stack) failDelivery() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent.fail = true
}

// failStore makes the code and record operations of the store fail (rate
// limits and nonces keep working, so requests still reach the actions).
func (s *stack) failStore() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store.fail.Store(true)
}

// apply writes durable records directly (the state of an account that is not
// reachable through the API, such as a number's bound-account count).
func (s *stack) apply(ops ...store.Op) error {
	s.mu.Lock()
	st := s.store
	s.mu.Unlock()
	_, err := st.Store.Apply(context.Background(), ops)
	return err
}

// state is a provider state: it prepares the freshly reset stack and returns
// the values the pact injects into the request (e.g. "code").
type state func(s *stack) (map[string]any, error)

// handlers turns states into pact-go state handlers. Every interaction has
// exactly one provider state, so its setup is where the stack is reset.
func (s *stack) handlers(states map[string]state) models.StateHandlers {
	hs := models.StateHandlers{}
	for name, st := range states {
		hs[name] = func(setup bool, _ models.ProviderState) (models.ProviderStateResponse, error) {
			if !setup {
				return nil, nil
			}
			if err := s.reset(); err != nil {
				return nil, err
			}
			values, err := st(s)
			if err != nil {
				log.Printf("provider state %q: %v", name, err)
				return nil, fmt.Errorf("provider state %q: %w", name, err)
			}
			return values, nil
		}
	}
	return hs
}

// verify replays every pact naming providerName against the stack, with
// states for its provider states and sign signing each replayed request.
func (s *stack) verify(t *testing.T, providerName string, states map[string]state, sign func(next http.Handler) http.Handler) error {
	t.Helper()
	files := pactFiles(t, providerName)
	checkStates(t, files, states)
	return provider.NewVerifier().VerifyProvider(t, provider.VerifyRequest{
		Provider:             providerName,
		ProviderBaseURL:      s.srv.URL,
		PactFiles:            files,
		StateHandlers:        s.handlers(states),
		RequestFilter:        sign,
		DisableColoredOutput: true,
	})
}

// pactFiles lists the committed pacts whose provider is providerName.
func pactFiles(t *testing.T, providerName string) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(pactDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range all {
		p := readPact(t, f)
		if p.Provider.Name == providerName {
			abs, err := filepath.Abs(f)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, abs)
		}
	}
	if len(files) == 0 {
		t.Fatalf("no pact in %s names the provider %s: run the consumer tests", pactDir, providerName)
	}
	return files
}

// pactFile is the part of a pact file the tests read.
type pactFile struct {
	Consumer     struct{ Name string }
	Provider     struct{ Name string }
	Interactions []struct {
		Description    string
		ProviderStates []struct{ Name string }
	}
}

func readPact(t *testing.T, path string) pactFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p pactFile
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// checkStates fails unless every provider state named in files has a
// handler: pact-go only logs a warning for a missing one, and the
// interaction would then run against an unprepared stack.
func checkStates(t *testing.T, files []string, states map[string]state) {
	t.Helper()
	for _, f := range files {
		for _, in := range readPact(t, f).Interactions {
			if len(in.ProviderStates) != 1 {
				t.Errorf("%s: %q has %d provider states, want exactly 1", filepath.Base(f), in.Description, len(in.ProviderStates))
			}
			for _, ps := range in.ProviderStates {
				if _, ok := states[ps.Name]; !ok {
					t.Errorf("%s: no handler for the provider state %q (%q)", filepath.Base(f), ps.Name, in.Description)
				}
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// publishPact replaces the committed pact with the one a consumer test wrote
// into dir, so removed interactions do not linger (the FFI merges into an
// existing file).
func publishPact(t *testing.T, dir, consumerName, providerName string) {
	t.Helper()
	name := consumerName + "-" + providerName + ".json"
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(pactDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pactDir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// recorder is the delivery sender: it keeps the messages (the provider
// states read codes from them) and fails when told to.
type recorder struct {
	mu   sync.Mutex
	msgs []delivery.Message
	fail bool
}

var errDelivery = errors.New("contract: delivery refused by the provider state")

func (r *recorder) Send(_ context.Context, m delivery.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errDelivery
	}
	r.msgs = append(r.msgs, m)
	return nil
}

func (r *recorder) lastCode(to string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range slices.Backward(r.msgs) {
		if m.To == to {
			return m.Code, nil
		}
	}
	return "", fmt.Errorf("no message was delivered to %s", to)
}

// faultyStore is the embedded store, whose code and record operations fail
// once fail is set (store.ErrUnavailable, as a networked store would).
type faultyStore struct {
	app.Store
	fail atomic.Bool
}

var errStore = fmt.Errorf("contract: %w", store.ErrUnavailable)

func (f *faultyStore) Issue(ctx context.Context, op store.IssueOp) (store.IssueResult, error) {
	if f.fail.Load() {
		return store.IssueResult{}, errStore
	}
	return f.Store.Issue(ctx, op)
}

func (f *faultyStore) Check(ctx context.Context, op store.CheckOp) (store.CheckResult, error) {
	if f.fail.Load() {
		return store.CheckResult{}, errStore
	}
	return f.Store.Check(ctx, op)
}

func (f *faultyStore) List(ctx context.Context, coll string, offset, limit int) ([]store.Record, int, error) {
	if f.fail.Load() {
		return nil, 0, errStore
	}
	return f.Store.List(ctx, coll, offset, limit)
}

func (f *faultyStore) Apply(ctx context.Context, ops []store.Op) (int, error) {
	if f.fail.Load() {
		return 0, errStore
	}
	return f.Store.Apply(ctx, ops)
}

// rewrite is a provider wrapper that replaces old with new in every response
// body: the drift tests break the provider with it.
func rewrite(old, new string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := strings.ReplaceAll(rec.Body.String(), old, new)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.WriteHeader(rec.Code)
			io.WriteString(w, body)
		})
	}
}
