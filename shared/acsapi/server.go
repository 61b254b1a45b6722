// Package acsapi is the Alibaba Cloud OpenAPI (POP) RPC front door, the
// counterpart of tcapi for Alibaba callers, with the same stages, cheapest
// first:
//
//  1. read: method, a query and a form body bounded in size and in the
//     number of parameters, merged into one set (a name given twice is
//     refused);
//  2. claim: what the request says about itself, read by its signature
//     scheme: ACS3-HMAC-SHA256 in the Authorization header (what
//     darabonba-openapi sends by default) or the legacy RPC signature
//     (HMAC-SHA1, SignatureVersion 1.0, over GET or a POST form) (auth.go);
//  3. authenticate: the AccessKeyId, the 15-minute window, the signature;
//  4. route: action and version;
//  5. admit: RAM permission, the product subscription and the per-account
//     request rate (every authenticated request counts, routable or not);
//  6. replay: the signature nonce is accepted once per AccessKeyId;
//  7. handle, and write the answer.
//
// Success is HTTP 200 with
// {"RequestId","Code":"OK","Message":"None","Success":true,"AccessDeniedDetail":"None"}
// plus the action's output fields. Errors are HTTP 4xx (5xx only for
// InternalError and ServiceUnavailable) with
// {"RequestId","HostId","Code","Message","Recommend"}, which both official
// Go SDKs (darabonba-openapi and alibaba-cloud-sdk-go) turn into their error
// types carrying the Code; every field is a string, and AccessDeniedDetail,
// when present on a permission error, is a JSON object, as the SDKs require.
package acsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/acsauth"
	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/store"
)

// Bounds on what a request may carry: the cams actions take a handful of
// short fields, so an unauthenticated request costs no more than reading and
// hashing this much.
const (
	MaxBody  = 16 << 10
	MaxQuery = 32 << 10
	// MaxParams bounds the parameters of the query and the form together,
	// common ones included, counted before anything is decoded.
	MaxParams = 64
	// MaxNonce bounds a signature nonce (the SDKs send 32 hex digits or a
	// UUID).
	MaxNonce = 128
)

// MaxSkew is how far Timestamp or x-acs-date may be from the server clock.
const MaxSkew = 15 * time.Minute

// NonceTTL is how long a signature nonce is remembered per AccessKeyId: the
// whole window in which a request carrying it could be accepted, and a minute.
const NonceTTL = 2*MaxSkew + time.Minute

// DefaultRateLimit is the request rate per account and action when a service
// sets none (CAMS documents 10 per second per user).
const DefaultRateLimit = 10

// Handler runs one action. It returns the output fields (a struct or map
// marshalled into the response object, or nil) or an error; an error that is
// not an *apierr.Error is answered as InternalError (ServiceUnavailable for a
// store failure) and its text goes only to the log.
type Handler func(ctx context.Context, req *Request) (any, error)

// Action is one API action of a service.
type Action struct {
	Name   string
	Handle Handler
	// SelfLimited actions apply Request.Rate themselves, inside their store
	// operation (one round trip); the front door then skips its own check.
	SelfLimited bool
	// Documented are the errors the action documents (or verifyfn defines
	// for it), one value per code; the gateway's codes are not repeated
	// (see Common). The test kit's faults answer with them.
	Documented []*apierr.Error
	// Delivers is true for an action that sends a message (the test kit
	// can make its delivery fail).
	Delivers bool
	// Destination returns the canonical key of a request's destination
	// (contact.Phone.Key, what its limits are keyed on), "" when it names
	// none or an invalid one; the test kit matches faults for one
	// destination with it.
	Destination func(*Request) string
}

// Intercept sees every request that passed every check (authenticated,
// admitted, rate-limited, nonce claimed) just before its handler runs, with
// the service, action and account and a function that returns the
// request's destination (the action's Destination, "" without one). It
// returns the context the handler runs with, or an error (an *apierr.Error)
// to answer instead of running the handler. The test kit's control plane
// uses it to inject faults (package control).
type Intercept func(ctx context.Context, service, action, account string, destination func() string) (context.Context, error)

// Service is one product at one version.
type Service struct {
	Name    string // the RAM service prefix and accounts product, e.g. "cams"
	Product string // the product code in Recommend links, e.g. "Cams"
	Version string
	Actions []Action
	// Overrides maps a front-door error (one of the Err* values of this
	// package) to the code this service documents for the same condition.
	Overrides map[*apierr.Error]*apierr.Error
	// RateLimit is requests per second per account and action (default
	// DefaultRateLimit).
	RateLimit int
}

// Credentials finds API credentials by AccessKeyId.
type Credentials interface {
	Credential(id string) (*accounts.Credential, bool)
}

// Limiter applies request-rate limits.
type Limiter interface {
	Allow(ctx context.Context, r store.Rate, now time.Time) (bool, error)
}

// NonceClaimer remembers signature nonces to refuse replays.
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
	byAction map[string][]*service
}

type service struct {
	Service
	actions map[string]*Action
}

// New builds a front door for the given services.
func New(cfg Config, services ...Service) (*Server, error) {
	if cfg.Credentials == nil || cfg.Limiter == nil || cfg.Nonces == nil {
		return nil, errors.New("acsapi: Credentials, Limiter and Nonces are required")
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
	s := &Server{cfg: cfg, byAction: map[string][]*service{}}
	seen := map[string]bool{}
	for _, sv := range services {
		if seen[sv.Name+"@"+sv.Version] {
			return nil, fmt.Errorf("acsapi: service %s %s registered twice", sv.Name, sv.Version)
		}
		seen[sv.Name+"@"+sv.Version] = true
		if sv.RateLimit == 0 {
			sv.RateLimit = DefaultRateLimit
		}
		svc := &service{Service: sv, actions: map[string]*Action{}}
		for i := range sv.Actions {
			a := &sv.Actions[i]
			for _, other := range s.byAction[a.Name] {
				if other.Version == sv.Version {
					return nil, fmt.Errorf("acsapi: action %s %s defined by %s and %s", a.Name, sv.Version, other.Name, sv.Name)
				}
			}
			svc.actions[a.Name] = a
			s.byAction[a.Name] = append(s.byAction[a.Name], svc)
		}
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
	rate       store.Rate
	rateTaken  bool
	params     map[string]string
	logAttrs   []slog.Attr
	product    string
	denied     map[string]string // AccessDeniedDetail of a permission error
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
	code, status := "OK", http.StatusOK
	if err == nil {
		body, err = successBody(out, id)
	}
	if err != nil {
		e := classify(err)
		code, status = e.Code, Status(e.Code)
		body = s.errorBody(r, req, e, id)
		s.logError(r, id, e)
	}
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
	s.logRequest(r, req, id, code, status, start)
	if s.cfg.Observer != nil {
		service, action := s.routed(req)
		s.cfg.Observer.ObserveRequest(service, action, code, time.Since(began))
	}
}

// routed names the service and action of req as far as they are ones this
// front door defines ("" otherwise), so that made-up names never reach an
// Observer.
func (s *Server) routed(req *Request) (service, action string) {
	if req == nil || req.Service == "" {
		return "", ""
	}
	for _, svc := range s.byAction[req.Action] {
		if svc.Name == req.Service {
			return svc.Name, req.Action
		}
	}
	return req.Service, ""
}

func (s *Server) logError(r *http.Request, id string, e *apierr.Error) {
	if e.Cause() == nil || Status(e.Code) < 500 {
		return
	}
	s.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "internal error",
		slog.String("request_id", id), slog.String("code", e.Code), slog.String("cause", e.Cause().Error()))
}

func (s *Server) logRequest(r *http.Request, req *Request, id, code string, status int, start time.Time) {
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs, slog.String("request_id", id), slog.String("outcome", code), slog.Int("status", status),
		slog.Float64("latency_ms", float64(s.cfg.Now().Sub(start).Microseconds())/1000))
	if req != nil {
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
	}
	s.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
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

// commonParams are the RPC common parameters; they are not business
// parameters.
var commonParams = map[string]bool{
	"Action": true, "Version": true, "Format": true, "AccessKeyId": true, "Signature": true,
	"SignatureMethod": true, "SignatureVersion": true, "SignatureNonce": true, "SignatureType": true,
	"Timestamp": true, "RegionId": true, "SecurityToken": true,
}

// serve runs the stages. It returns the request as far as it was understood
// (for the log and the error body), the handler output and an error.
func (s *Server) serve(r *http.Request, id string, now time.Time) (*Request, any, error) {
	req := &Request{ID: id}
	var svc *service
	fail := func(e *apierr.Error) (*Request, any, error) {
		if svc != nil {
			if o, ok := svc.Overrides[e]; ok {
				e = o
			}
		}
		return req, nil, e
	}

	in, e := s.read(r)
	if e != nil {
		return fail(e)
	}
	sch := s.schemeOf(r)
	c, e := sch.claim(s, in)
	req.Action, req.Version = c.action, c.version
	if svc = s.route(c.action, c.version); svc != nil {
		req.Service, req.product = svc.Name, svc.Product
	}
	if e != nil {
		return fail(e)
	}
	cred, e := s.authenticate(in, sch, &c, now)
	if e != nil {
		return fail(e)
	}
	req.Credential, req.Account = cred, cred.Account

	act, e := s.admit(req, svc, &c, cred)
	req.rate = s.rateOf(svc, act, cred)
	limitNow := s.cfg.LimitNow()
	if e != nil || !act.SelfLimited {
		if le := s.limit(r.Context(), req.rate, limitNow); le != nil {
			return fail(le)
		}
	}
	if e != nil {
		return fail(e)
	}
	// Only a request that passed every check claims its nonce, so that
	// neither unsigned nor refused traffic can fill the nonce store or burn
	// a nonce a legitimate request is about to use.
	fresh, err := s.cfg.Nonces.Claim(r.Context(), "{"+cred.Account.ID+"}:acsnonce:"+cred.ID+":"+c.nonce, NonceTTL, now)
	if err != nil {
		return fail(ErrServiceUnavailable.Wrap(err))
	}
	if !fresh {
		return fail(ErrNonceUsed)
	}
	req.params = in.params
	out, err := s.handle(r.Context(), svc, act, req)
	if act.SelfLimited && !req.rateTaken {
		// Refused before its store operation: count it here, as the
		// cloud's gateway throttles before any validation.
		if le := s.limit(r.Context(), req.rate, limitNow); le != nil && err != nil {
			return fail(le)
		}
	}
	if err != nil {
		e := classify(err)
		if o, ok := svc.Overrides[e]; ok {
			e = o
		}
		return req, nil, e
	}
	return req, out, nil
}

// handle runs the action's handler, after the Intercept hook when one is
// set. An error the hook answers with is answered as the documented error
// it is; a permission error carries its AccessDeniedDetail, as admit's does.
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
			if e, o := apierr.As(err), svc.Overrides[ErrPermissionDenied]; e != nil && (e.Code == CodeForbiddenRAM || o != nil && e.Code == o.Code) {
				req.denied = deniedDetail(svc, act, req.Credential)
			}
			return nil, err
		}
	}
	return act.Handle(ctx, req)
}

// route finds the service of an action: the one at version, or the first
// that defines the action (a wrong version is then InvalidVersion).
func (s *Server) route(action, version string) *service {
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

// admit checks the routed request: the action exists at this version, the
// credential may call it and the account has the product. It returns the
// action (nil for one that does not exist) and the first refusal.
func (s *Server) admit(req *Request, svc *service, c *claim, cred *accounts.Credential) (*Action, *apierr.Error) {
	if svc == nil {
		return nil, ErrInvalidAction
	}
	act := svc.actions[c.action]
	if svc.Version != c.version || act == nil {
		return nil, ErrInvalidVersion
	}
	if !cred.Allowed(svc.Name, act.Name) {
		req.denied = deniedDetail(svc, act, cred)
		return act, ErrPermissionDenied
	}
	if !cred.Account.HasProduct(svc.Name) {
		return act, ErrNotSubscribed
	}
	return act, nil
}

// deniedDetail is the AccessDeniedDetail of a permission error.
func deniedDetail(svc *service, act *Action, cred *accounts.Credential) map[string]string {
	return map[string]string{
		"AuthAction":               svc.Name + ":" + act.Name,
		"AuthPrincipalType":        "SubUser",
		"AuthPrincipalOwnerId":     cred.Account.ID,
		"AuthPrincipalDisplayName": cred.ID,
		"PolicyType":               "AccountLevelIdentityBasedPolicy",
		"NoPermissionType":         "ImplicitDeny",
	}
}

// rateOf is the request-rate limit a request counts against: its action's
// per account, or one bucket per account for requests that name no action
// of ours (so that made-up action names cannot create limiter keys).
func (s *Server) rateOf(svc *service, act *Action, cred *accounts.Credential) store.Rate {
	if act == nil {
		return store.Rate{Key: "{" + cred.Account.ID + "}:rate:_unrouted", Limit: DefaultRateLimit, Per: time.Second}
	}
	return store.Rate{Key: "{" + cred.Account.ID + "}:rate:" + svc.Name + ":" + act.Name, Limit: svc.RateLimit, Per: time.Second}
}

// limit counts one request against rate.
func (s *Server) limit(ctx context.Context, rate store.Rate, now time.Time) *apierr.Error {
	ok, err := s.cfg.Limiter.Allow(ctx, rate, now)
	if err != nil {
		return ErrServiceUnavailable.Wrap(err)
	}
	if !ok {
		return ErrThrottled
	}
	return nil
}

// inbound is a request as read off the wire: bounded, not yet trusted.
type inbound struct {
	r      *http.Request
	host   string
	query  url.Values
	form   url.Values
	body   []byte
	params map[string]string // query and form merged
}

// read is the first stage: the method, the query and a form body, each
// bounded, their parameters counted before they are split.
func (s *Server) read(r *http.Request) (*inbound, *apierr.Error) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, ErrUnsupportedMethod
	}
	if len(r.URL.RawQuery) > MaxQuery {
		return nil, ErrRequestTooLarge
	}
	in := &inbound{r: r, host: s.host(r)}
	body, e := readBody(r)
	if e != nil {
		return nil, e
	}
	in.body = body
	if strings.Count(r.URL.RawQuery, "&")+strings.Count(string(body), "&") >= MaxParams {
		return nil, ErrTooManyParams
	}
	var err error
	if in.query, err = url.ParseQuery(r.URL.RawQuery); err != nil {
		return nil, InvalidParameter("query")
	}
	if len(body) > 0 {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "application/x-www-form-urlencoded" {
			return nil, ErrUnsupportedBody
		}
		if in.form, err = url.ParseQuery(string(body)); err != nil {
			return nil, InvalidParameter("body")
		}
	}
	if in.params, e = merge(in.query, in.form); e != nil {
		return nil, e
	}
	return in, nil
}

// parseTime reads a timestamp in exactly the documented form,
// yyyy-MM-ddTHH:mm:ssZ (UTC, whole seconds).
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(acsauth.TimestampLayout, s)
	if err != nil || len(s) != len(acsauth.TimestampLayout) {
		return time.Time{}, false
	}
	return t, true
}

func checkSkew(ts, now time.Time) *apierr.Error {
	if d := now.Sub(ts); d > MaxSkew || d < -MaxSkew {
		return ErrTimestampExpired
	}
	return nil
}

// successBody renders {"RequestId":id,"Code":"OK","Message":"None",
// "Success":true,"AccessDeniedDetail":"None",<out fields>}.
func successBody(out any, id string) ([]byte, error) {
	b := make([]byte, 0, 160)
	b = append(b, `{"RequestId":`...)
	b = strconv.AppendQuote(b, id)
	b = append(b, `,"Code":"OK","Message":"None","Success":true,"AccessDeniedDetail":"None"`...)
	if out != nil {
		fields, err := json.Marshal(out)
		if err != nil || len(fields) < 2 || fields[0] != '{' {
			return nil, fmt.Errorf("acsapi: handler output is not a JSON object: %v", err)
		}
		if len(fields) > 2 {
			b = append(b, ',')
			b = append(b, fields[1:len(fields)-1]...)
		}
	}
	return append(b, '}'), nil
}

type errorBody struct {
	RequestID          string            `json:"RequestId"`
	HostID             string            `json:"HostId"`
	Code               string            `json:"Code"`
	Message            string            `json:"Message"`
	Recommend          string            `json:"Recommend"`
	AccessDeniedDetail map[string]string `json:"AccessDeniedDetail,omitempty"`
}

func (s *Server) errorBody(r *http.Request, req *Request, e *apierr.Error, id string) []byte {
	b := errorBody{RequestID: id, HostID: s.host(r), Code: e.Code, Message: e.Message}
	product := ""
	if req != nil {
		product = req.product
		if req.denied != nil && e.Code != CodeInternalError && e.Code != CodeServiceUnavailable {
			b.AccessDeniedDetail = req.denied
		}
	}
	b.Recommend = recommend(e.Code, product, id)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(b)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// newRequestID returns a random (version 4) UUID, upper case as Alibaba writes them.
func newRequestID() string {
	return strings.ToUpper(uuid.NewString())
}
