// Package tcapi is the Tencent Cloud API 3.0 front door. Every request goes
// through the same stages, cheapest first, so that an unauthenticated
// request costs little whatever its shape:
//
//  1. read: method, content type and a body bounded by the action's limit
//     (read.go);
//  2. claim: what the request says about itself (SecretId, action, version,
//     timestamp), read by its signature scheme, TC3-HMAC-SHA256 or v1
//     (auth.go);
//  3. authenticate: the credential, the 5-minute window and the signature
//     over the raw bytes (TC3 needs only the payload hash; v1 the parameters,
//     split with a member limit);
//  4. route: service, action and version;
//  5. admit: permission, product and the per-account request rate (every
//     authenticated request counts, routable or not);
//  6. decode: the business parameters, strictly (no duplicate names, valid
//     UTF-8, only the action's names; params.go);
//  7. replay: a v1 signature is accepted once;
//  8. handle, and write the {"Response":{...,"RequestId":...}} envelope.
//
// Errors are HTTP 200 with Content-Type exactly "application/json", as the
// official SDKs require.
package tcapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/store"
)

// MaxSkew is how far X-TC-Timestamp or Timestamp may be from the server clock.
const MaxSkew = 300 * time.Second

// Handler runs one action. It returns the output fields (a struct or map
// marshalled into Response, or nil) or an error; an error that is not an
// *apierr.Error is answered as InternalError and its text goes only to the log.
type Handler func(ctx context.Context, req *Request) (any, error)

// Action is one API action of a service.
type Action struct {
	Name   string
	Params []string // the business parameters the action defines
	Handle Handler
	// SelfLimited actions apply Request.TakeRate themselves, inside their
	// store operation (one round trip); the front door then skips its own
	// check, and counts the request itself only when the handler did not.
	SelfLimited bool
	// MaxBody bounds the request body (default DefaultMaxBody). These APIs
	// take a handful of short fields.
	MaxBody int
	// Unavailable is the action's documented answer when the store fails in
	// the front door (rate limit, replay check); default InternalError.
	Unavailable *apierr.Error
	// RateLimit is the action's own documented requests per second per
	// account, when it is lower than its service's.
	RateLimit int
	// Documented are the errors the action documents, one value per code
	// (the one it answers with first); the front door's common codes are
	// not repeated (see Common). The test kit's faults answer with them.
	Documented []*apierr.Error
	// Delivers is true for an action that sends a message (the test kit
	// can make its delivery fail).
	Delivers bool
	// Destination returns the canonical key of a request's destination
	// (contact.Phone.Key or contact.Email.Key, what its limits are keyed
	// on), "" when it names none or an invalid one; the test kit matches
	// faults for one destination with it.
	Destination func(*Request) string
}

// Intercept sees every request that passed every check (authenticated,
// admitted, decoded, not a replay) just before its handler runs, with the
// service, action and account and a function that returns the request's
// destination (the action's Destination, "" without one). It returns the
// context the handler runs with, or an error (an *apierr.Error) to answer
// instead of running the handler. The test kit's control plane uses it to
// inject faults (package control).
type Intercept func(ctx context.Context, service, action, account string, destination func() string) (context.Context, error)

// Service is one product (smh, intlpartnersmgt, domain) at one version.
type Service struct {
	Name    string
	Version string
	Actions []Action
	// Overrides maps a front-door error (one of the Err* values of this
	// package) to the code this service documents for the same condition.
	Overrides map[*apierr.Error]*apierr.Error
	// RateLimit is requests per second per account and action (default 20).
	RateLimit int
}

// Credentials finds API credentials by SecretId.
type Credentials interface {
	Credential(id string) (*accounts.Credential, bool)
}

// Limiter applies request-rate limits.
type Limiter interface {
	Allow(ctx context.Context, r store.Rate, now time.Time) (bool, error)
}

// NonceClaimer remembers v1 signatures to refuse replays.
type NonceClaimer interface {
	Claim(ctx context.Context, key string, ttl time.Duration, now time.Time) (bool, error)
}

// Observer is told of every request once it is answered: its service and
// action as routed ("" when the request named none this front door
// defines, or was refused before it said), the code answered ("OK" or the
// error code) and the time from its arrival to its answer. Metrics
// implement it.
type Observer interface {
	ObserveRequest(service, action, code string, elapsed time.Duration)
}

// Config wires the front door.
type Config struct {
	Credentials Credentials
	Limiter     Limiter
	Nonces      NonceClaimer
	Logger      *slog.Logger // default: discard
	// Now is the clock signature timestamps are checked against (default
	// time.Now): the real time, as the client signs with its own.
	Now func() time.Time
	// LimitNow is the time request-rate limits see (default Now): the
	// app's clock, which the test kit may move ahead.
	LimitNow func() time.Time
	// HostHeader names a header that carries the host the client signed
	// (e.g. X-Forwarded-Host behind a gateway that rewrites Host). Set it
	// only when a trusted proxy always sets that header.
	HostHeader string
	// Intercept, when set, runs before every handler (see Intercept).
	Intercept Intercept
	// Observer, if not nil, is told of every request (metrics).
	Observer Observer
}

// Server is the front door; it implements http.Handler.
type Server struct {
	cfg      Config
	services map[string]*service
	byAction map[string][]*service
	maxBody  int // the largest MaxBody of any action
	keys     keyCache
}

type service struct {
	Service
	actions map[string]*Action
	allowed map[string]map[string]bool
}

// New builds a front door for the given services.
func New(cfg Config, services ...Service) (*Server, error) {
	if cfg.Credentials == nil || cfg.Limiter == nil || cfg.Nonces == nil {
		return nil, errors.New("tcapi: Credentials, Limiter and Nonces are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LimitNow == nil {
		cfg.LimitNow = cfg.Now
	}
	s := &Server{cfg: cfg, services: map[string]*service{}, byAction: map[string][]*service{}, maxBody: DefaultMaxBody}
	for _, sv := range services {
		if _, dup := s.services[sv.Name]; dup {
			return nil, fmt.Errorf("tcapi: service %s registered twice", sv.Name)
		}
		if sv.RateLimit == 0 {
			sv.RateLimit = 20
		}
		sv.Actions = append([]Action(nil), sv.Actions...)
		svc := &service{Service: sv, actions: map[string]*Action{}, allowed: map[string]map[string]bool{}}
		for i := range svc.Actions {
			a := &svc.Actions[i]
			if a.MaxBody == 0 {
				a.MaxBody = DefaultMaxBody
			}
			s.maxBody = max(s.maxBody, a.MaxBody)
			svc.actions[a.Name] = a
			allowed := map[string]bool{}
			for _, p := range a.Params {
				allowed[p] = true
			}
			svc.allowed[a.Name] = allowed
			s.byAction[a.Name] = append(s.byAction[a.Name], svc)
		}
		s.services[sv.Name] = svc
	}
	return s, nil
}

// Request is an authenticated request as a handler sees it.
type Request struct {
	ID         string
	Service    string
	Version    string
	Action     string
	Account    *accounts.Account
	Credential *accounts.Credential
	Language   string // X-TC-Language or Language, e.g. "zh-CN", "en-US"; may be empty
	rate       store.Rate
	rateTaken  bool
	params     params
	logAttrs   []slog.Attr
}

// TakeRate returns this account's request-rate limit for this action, for a
// SelfLimited action to apply inside its store operation. A request whose
// handler never takes it (one refused before it reaches the store) is
// counted by the front door instead, so every request counts once.
func (r *Request) TakeRate() *store.Rate {
	r.rateTaken = true
	rate := r.rate
	return &rate
}

// Log adds an attribute to the request's log line (mask personal data first).
func (r *Request) Log(a slog.Attr) { r.logAttrs = append(r.logAttrs, a) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var began time.Time
	if s.cfg.Observer != nil {
		began = time.Now() // the real clock, whatever Config.Now says
	}
	start := s.cfg.Now()
	id := newRequestID()
	req, out, err := s.serve(r, id, start)
	var body []byte
	code := "OK"
	if err == nil {
		body, err = envelope(out, id)
	}
	if err != nil {
		e := apierr.As(err)
		if e == nil {
			e = ErrInternal.Wrap(err)
		}
		code = e.Code
		body = errorEnvelope(e, id)
		s.logError(r, req, e)
	}
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	s.logRequest(r, req, id, code, start)
	if s.cfg.Observer != nil {
		service, action := s.routed(req)
		s.cfg.Observer.ObserveRequest(service, action, code, time.Since(began))
	}
}

// routed names the service and action of req as far as they are ones this
// front door defines ("" otherwise), so that made-up names never reach an
// Observer.
func (s *Server) routed(req *Request) (service, action string) {
	svc := s.services[req.Service]
	if svc == nil {
		return "", ""
	}
	if svc.actions[req.Action] == nil {
		return svc.Name, ""
	}
	return svc.Name, req.Action
}

// serve runs the stages. It returns the request as far as it was understood
// (for the log), the handler output and an error.
func (s *Server) serve(r *http.Request, id string, now time.Time) (*Request, any, error) {
	req := &Request{ID: id}
	svc := s.guessService(r)
	fail := func(e *apierr.Error) (*Request, any, error) {
		if svc != nil {
			req.Service = svc.Name
		}
		return req, nil, s.override(svc, e)
	}

	in, e := s.read(r)
	if e != nil {
		return fail(e)
	}
	sch, e := s.schemeOf(in)
	if e != nil {
		return fail(e)
	}
	c, e := sch.claim(s, in)
	routed := s.route(in, &c)
	if e != nil {
		if routed != nil {
			svc = routed
		}
		return fail(e)
	}
	svc = routed
	cred, e := s.authenticate(in, sch, &c, now)
	if e != nil {
		return fail(e)
	}
	req.Action, req.Version, req.Credential, req.Account, req.Language = c.action, c.version, cred, cred.Account, c.language

	act, e := s.admit(svc, &c, cred)
	if e == nil {
		req.params, e = sch.decode(in, svc.allowed[act.Name])
	}
	req.rate = s.rateOf(svc, act, cred)
	limitNow := s.cfg.LimitNow()
	if e != nil || !act.SelfLimited {
		if le := s.limit(r.Context(), act, req.rate, limitNow); le != nil {
			return fail(le)
		}
	}
	if e != nil {
		return fail(e)
	}
	if c.replayKey != "" {
		fresh, err := s.cfg.Nonces.Claim(r.Context(), c.replayKey, 2*MaxSkew+time.Minute, now)
		if err != nil {
			return fail(unavailable(act).Wrap(err))
		}
		if !fresh {
			return fail(ErrReplay)
		}
	}
	req.Service = svc.Name
	out, err := s.handle(r.Context(), svc, act, req)
	if act.SelfLimited && !req.rateTaken {
		// Refused before its store operation: count it here.
		if le := s.limit(r.Context(), act, req.rate, limitNow); le != nil && err != nil {
			return req, nil, le
		}
	}
	return req, out, err
}

// handle runs the action's handler, after the Intercept hook when one is
// set.
func (s *Server) handle(ctx context.Context, svc *service, act *Action, req *Request) (any, error) {
	if s.cfg.Intercept != nil {
		dest := func() string {
			if act.Destination == nil {
				return ""
			}
			return act.Destination(req)
		}
		var err error
		if ctx, err = s.cfg.Intercept(ctx, svc.Name, act.Name, req.Account.ID, dest); err != nil {
			return nil, err
		}
	}
	return act.Handle(ctx, req)
}

// admit routes the authenticated request to its action and checks that the
// credential may call it. It returns the action, or an error with the
// action to count the request against (a stand-in for unknown actions).
func (s *Server) admit(svc *service, c *claim, cred *accounts.Credential) (*Action, *apierr.Error) {
	if svc == nil {
		return nil, ErrInvalidAction
	}
	a := svc.actions[c.action]
	if a == nil {
		return nil, ErrInvalidAction
	}
	if c.version != svc.Version {
		return a, ErrNoSuchVersion
	}
	if !cred.Allowed(svc.Name, a.Name) {
		return a, ErrUnauthorized
	}
	if !cred.Account.HasProduct(svc.Name) {
		return a, ErrNotSubscribed
	}
	return a, nil
}

// rateOf is the request-rate limit a request counts against: its action's
// per account, or one bucket per account for requests that name no action
// of ours (so that made-up action names cannot create limiter keys).
func (s *Server) rateOf(svc *service, a *Action, cred *accounts.Credential) store.Rate {
	limit := 20
	if svc != nil {
		limit = svc.RateLimit
	}
	key := "{" + cred.Account.ID + "}:rate:_unrouted"
	if a != nil {
		key = "{" + cred.Account.ID + "}:rate:" + svc.Name + ":" + a.Name
		if a.RateLimit > 0 {
			limit = min(limit, a.RateLimit)
		}
	}
	return store.Rate{Key: key, Limit: limit, Per: time.Second}
}

// limit counts one request against rate; it returns RequestLimitExceeded
// over the limit, or the action's store error.
func (s *Server) limit(ctx context.Context, a *Action, rate store.Rate, now time.Time) *apierr.Error {
	ok, err := s.cfg.Limiter.Allow(ctx, rate, now)
	if err != nil {
		return unavailable(a).Wrap(err)
	}
	if !ok {
		return ErrRequestLimit
	}
	return nil
}

// unavailable is the answer of a when the store fails in the front door.
func unavailable(a *Action) *apierr.Error {
	if a != nil && a.Unavailable != nil {
		return a.Unavailable
	}
	return ErrInternal
}

func (s *Server) override(svc *service, e *apierr.Error) error {
	if svc != nil {
		if o, ok := svc.Overrides[e]; ok {
			return o
		}
	}
	return e
}

// guessService names the service a request is for before anything is read,
// so that errors found early use that service's documented codes.
func (s *Server) guessService(r *http.Request) *service {
	if svc := s.services[scopeService(r.Header.Get("Authorization"))]; svc != nil {
		return svc
	}
	if svc := s.services[hostService(s.host(r))]; svc != nil {
		return svc
	}
	if svcs := s.byAction[r.Header.Get("X-Tc-Action")]; len(svcs) == 1 {
		return svcs[0]
	}
	return nil
}

// route names the service of a claimed request: the product host's, the
// scope's, or, for a client pointed at an address, the action's.
func (s *Server) route(in *inbound, c *claim) *service {
	if svc := s.services[hostService(in.host)]; svc != nil {
		return svc
	}
	if svc := s.services[c.scope]; svc != nil {
		return svc
	}
	if c.scope == "" || scopeNamesHost(c.scope, in.host) {
		return s.serviceFor(c.action, c.version)
	}
	return nil
}

// serviceFor finds the service of an action by name: the one at version, or
// the only one that defines the action (a wrong version is then reported as
// NoSuchVersion), or nil.
func (s *Server) serviceFor(action, version string) *service {
	svcs := s.byAction[action]
	for _, c := range svcs {
		if c.Version == version {
			return c
		}
	}
	if len(svcs) > 0 {
		return svcs[0]
	}
	return nil
}

// host is the host the client signed.
func (s *Server) host(r *http.Request) string {
	if s.cfg.HostHeader != "" {
		if h := r.Header.Get(s.cfg.HostHeader); h != "" {
			return h
		}
	}
	return r.Host
}

// hostService returns the product prefix of a Tencent endpoint
// ("smh.tencentcloudapi.com", "domain.intl.tencentcloudapi.com", ...).
func hostService(host string) string {
	if !strings.Contains(host, ".tencentcloudapi.com") {
		return ""
	}
	label, _, _ := strings.Cut(host, ".")
	return label
}

// scopeNamesHost reports whether a credential scope's service is the first
// label of the host the client called, as a client derives it from its
// endpoint: "127" for 127.0.0.1:9000, "localhost:9000" for localhost:9000
// (the port stays when the name has no dot), "localhost:80" for a Host of
// localhost (the default port is not sent).
func scopeNamesHost(service, host string) bool {
	first := func(h string) string { l, _, _ := strings.Cut(h, "."); return l }
	if service == first(host) {
		return true
	}
	return hostWithoutPort(host) == host && hostWithoutPort(service) == first(host)
}

// hostWithoutPort returns host without a trailing ":port" ("127.0.0.1:9000"
// gives "127.0.0.1", "[::1]:9000" gives "[::1]"); a host without a port is
// returned unchanged.
func hostWithoutPort(host string) string {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || i == len(host)-1 || strings.Trim(host[i+1:], "0123456789") != "" {
		return host
	}
	if strings.IndexByte(host[:i], ':') >= 0 && !strings.HasSuffix(host[:i], "]") {
		return host // a bare IPv6 address, not host:port
	}
	return host[:i]
}

func (s *Server) logError(r *http.Request, req *Request, e *apierr.Error) {
	if e.Code != CodeInternalError && !strings.HasPrefix(e.Code, "InternalError.") || e.Cause() == nil {
		return
	}
	s.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "internal error",
		slog.String("request_id", req.ID), slog.String("code", e.Code), slog.String("cause", e.Cause().Error()))
}

func (s *Server) logRequest(r *http.Request, req *Request, id, code string, start time.Time) {
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs, slog.String("request_id", id), slog.String("outcome", code),
		slog.Float64("latency_ms", float64(s.cfg.Now().Sub(start).Microseconds())/1000))
	if req.Service != "" {
		attrs = append(attrs, slog.String("service", req.Service))
	}
	if req.Action != "" {
		attrs = append(attrs, slog.String("action", safeName(req.Action)))
	}
	if req.Account != nil {
		attrs = append(attrs, slog.String("account", req.Account.ID))
	}
	attrs = append(attrs, req.logAttrs...)
	s.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

// envelope renders {"Response":{<out fields>,"RequestId":id}}.
func envelope(out any, id string) ([]byte, error) {
	b := make([]byte, 0, 128)
	b = append(b, `{"Response":`...)
	if out != nil {
		fields, err := json.Marshal(out)
		if err != nil || len(fields) < 2 || fields[0] != '{' {
			return nil, fmt.Errorf("tcapi: handler output is not a JSON object: %v", err)
		}
		if len(fields) > 2 {
			b = append(b, fields[:len(fields)-1]...)
			b = append(b, ',')
		} else {
			b = append(b, '{')
		}
	} else {
		b = append(b, '{')
	}
	b = append(b, `"RequestId":`...)
	b = strconv.AppendQuote(b, id)
	b = append(b, "}}"...)
	return b, nil
}

type errorBody struct {
	Response struct {
		Error struct {
			Code    string
			Message string
		}
		RequestID string `json:"RequestId"`
	}
}

func errorEnvelope(e *apierr.Error, id string) []byte {
	var b errorBody
	b.Response.Error.Code, b.Response.Error.Message, b.Response.RequestID = e.Code, e.Message, id
	out, _ := json.Marshal(b)
	return out
}

// newRequestID returns a random (version 4) UUID.
func newRequestID() string {
	return uuid.NewString()
}
