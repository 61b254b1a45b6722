// Package tcapi is the Tencent Cloud API 3.0 front door: it reads a request
// with bounded size, authenticates it (TC3-HMAC-SHA256 for JSON POST and GET,
// signature v1 for form POST and GET), routes it by service, version and
// action, enforces the per-account, per-action request rate and writes the
// {"Response":{...,"RequestId":...}} envelope. Errors are HTTP 200 with
// Content-Type exactly "application/json", as the official SDKs require.
package tcapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/tcauth"
)

// Size bounds for request bodies and query strings.
const (
	MaxJSONBody = 10 << 20
	MaxFormBody = 1 << 20
	MaxQuery    = 32 << 10
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
	// SelfLimited actions apply Request.Rate themselves, inside their store
	// operation (one round trip); the front door then skips its own check.
	SelfLimited bool
}

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

// NonceClaimer remembers v1 nonces to refuse replays.
type NonceClaimer interface {
	Claim(ctx context.Context, key string, ttl time.Duration, now time.Time) (bool, error)
}

// Config wires the front door.
type Config struct {
	Credentials Credentials
	Limiter     Limiter
	Nonces      NonceClaimer
	Logger      *slog.Logger     // default: discard
	Now         func() time.Time // default: time.Now
	// HostHeader names a header that carries the host the client signed
	// (e.g. X-Forwarded-Host behind a gateway that rewrites Host). Set it
	// only when a trusted proxy always sets that header.
	HostHeader string
}

// Server is the front door; it implements http.Handler.
type Server struct {
	cfg      Config
	services map[string]*service
	byAction map[string][]*service
	keys     keyCache
}

// keyCache keeps derived TC3 signing keys per SecretId, date and service.
// Entries are only created after a request's signature verified, so unsigned
// traffic cannot grow it; it is cleared when it passes maxKeys.
type keyCache struct {
	mu   sync.Mutex
	keys map[keyID]cachedKey
}

type keyID struct{ secretID, date, service string }

// cachedKey remembers the credential it was derived for: a registry reload
// makes new credentials, so a rotated secret never verifies with a stale key.
type cachedKey struct {
	cred *accounts.Credential
	key  []byte
}

const maxKeys = 4096

func (c *keyCache) get(id keyID, cred *accounts.Credential) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.keys[id]; ok && e.cred == cred {
		return e.key
	}
	return nil
}

func (c *keyCache) put(id keyID, cred *accounts.Credential, key []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil || len(c.keys) >= maxKeys {
		c.keys = make(map[keyID]cachedKey)
	}
	c.keys[id] = cachedKey{cred: cred, key: key}
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
	s := &Server{cfg: cfg, services: map[string]*service{}, byAction: map[string][]*service{}}
	for _, sv := range services {
		if _, dup := s.services[sv.Name]; dup {
			return nil, fmt.Errorf("tcapi: service %s registered twice", sv.Name)
		}
		if sv.RateLimit == 0 {
			sv.RateLimit = 20
		}
		svc := &service{Service: sv, actions: map[string]*Action{}, allowed: map[string]map[string]bool{}}
		for i := range sv.Actions {
			a := &sv.Actions[i]
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
	Language   string     // X-TC-Language or Language, e.g. "zh-CN", "en-US"; may be empty
	Rate       store.Rate // this account's limit for this action
	params     params
	logAttrs   []slog.Attr
}

// Log adds an attribute to the request's log line (mask personal data first).
func (r *Request) Log(a slog.Attr) { r.logAttrs = append(r.logAttrs, a) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
}

func (s *Server) logError(r *http.Request, req *Request, e *apierr.Error) {
	if e.Code != CodeInternalError && !strings.HasPrefix(e.Code, "InternalError.") || e.Cause() == nil {
		return
	}
	s.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "internal error",
		slog.String("request_id", reqID(req)), slog.String("code", e.Code), slog.String("cause", e.Cause().Error()))
}

func reqID(req *Request) string {
	if req == nil {
		return ""
	}
	return req.ID
}

func (s *Server) logRequest(r *http.Request, req *Request, id, code string, start time.Time) {
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs, slog.String("request_id", id), slog.String("outcome", code),
		slog.Float64("latency_ms", float64(s.cfg.Now().Sub(start).Microseconds())/1000))
	if req != nil {
		attrs = append(attrs, slog.String("service", req.Service), slog.String("action", req.Action))
		if req.Account != nil {
			attrs = append(attrs, slog.String("account", req.Account.ID))
		}
		attrs = append(attrs, req.logAttrs...)
	}
	s.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

// serve authenticates and routes. It returns the request as far as it was
// understood (for the log), the handler output and an error.
func (s *Server) serve(r *http.Request, id string, now time.Time) (*Request, any, error) {
	req := &Request{ID: id}
	// Parsed once: it names the service for early errors and, for TC3
	// requests, carries the credential and signature.
	auth, authErr := tcauth.ParseAuthorization(r.Header.Get("Authorization"))
	svc := s.guessService(r, auth, authErr)
	if svc != nil {
		req.Service = svc.Name
	}
	fail := func(e *apierr.Error) (*Request, any, error) { return req, nil, s.override(svc, e) }

	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return fail(ErrUnsupportedProtocol)
	}
	authz := r.Header.Get("Authorization")
	isTC3 := strings.HasPrefix(authz, tcauth.Algorithm)

	var p params
	var payload []byte
	var v1 map[string]string
	switch r.Method {
	case http.MethodGet:
		if len(r.URL.RawQuery) > MaxQuery {
			return fail(ErrRequestTooLarge)
		}
		flat, ok := flatten(r.URL.RawQuery)
		if !ok {
			return fail(InvalidParameter("query"))
		}
		if isTC3 {
			p.flat = stripCommon(flat)
		} else {
			v1 = flat
		}
	case http.MethodPost:
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		limit := int64(MaxFormBody)
		if ct == "application/json" {
			limit = MaxJSONBody
		} else if ct != "application/x-www-form-urlencoded" {
			return fail(ErrUnsupportedProtocol)
		}
		if r.ContentLength > limit {
			return fail(ErrRequestTooLarge)
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			return fail(ErrReadBody)
		}
		if int64(len(body)) > limit {
			return fail(ErrRequestTooLarge)
		}
		payload = body
		if ct == "application/json" {
			if !isTC3 {
				return fail(s.noCredential(authz))
			}
			if len(body) == 0 {
				p.json = map[string]json.RawMessage{}
			} else if err := json.Unmarshal(body, &p.json); err != nil || p.json == nil {
				return fail(ErrMalformedJSON)
			}
		} else {
			flat, ok := flatten(string(body))
			if !ok {
				return fail(InvalidParameter("body"))
			}
			if isTC3 {
				p.flat = stripCommon(flat)
			} else {
				v1 = flat
			}
		}
	}

	var cred *accounts.Credential
	var action, version string
	var e *apierr.Error
	if isTC3 {
		cred, svc, action, version, e = s.authTC3(r, auth, authErr, payload, now)
		if svc != nil {
			req.Service = svc.Name
		}
	} else {
		cred, svc, action, version, e = s.authV1(r, authz, v1, now)
		if svc != nil {
			req.Service = svc.Name
		}
		p.flat = stripCommon(v1)
		if e == nil {
			req.Language = v1["Language"]
		}
	}
	if e != nil {
		return fail(e)
	}
	if isTC3 {
		req.Language = r.Header.Get("X-Tc-Language")
	}
	req.Action, req.Version, req.Credential, req.Account = action, version, cred, cred.Account
	if svc == nil {
		return fail(ErrInvalidAction)
	}
	a := svc.actions[action]
	if a == nil {
		return fail(ErrInvalidAction)
	}
	if version != svc.Version {
		return fail(ErrNoSuchVersion)
	}
	if !cred.Allowed(svc.Name, action) {
		return fail(ErrUnauthorized)
	}
	if !cred.Account.HasProduct(svc.Name) {
		return fail(ErrNotSubscribed)
	}
	req.Rate = store.Rate{Key: "{" + cred.Account.ID + "}:rate:" + svc.Name + ":" + action, Limit: svc.RateLimit, Per: time.Second}
	if !a.SelfLimited {
		ok, err := s.cfg.Limiter.Allow(r.Context(), req.Rate, now)
		if err != nil {
			return req, nil, ErrInternal.Wrap(err)
		}
		if !ok {
			return fail(ErrRequestLimit)
		}
	}
	if e := p.checkKnown(svc.allowed[action]); e != nil {
		return fail(e)
	}
	req.params = p
	out, err := a.Handle(r.Context(), req)
	return req, out, err
}

// ErrReadBody is answered when the body cannot be read.
var ErrReadBody = apierr.New(CodeInternalError, "Failed to read the request body.")

// ErrNoCredential is answered when a request carries no credential at all.
var ErrNoCredential = apierr.New(CodeInvalidAuthorization, "The request carries no credential. Sign it with TC3-HMAC-SHA256 or signature v1.")

func (s *Server) noCredential(authz string) *apierr.Error {
	if strings.TrimSpace(authz) == "" {
		return ErrNoCredential
	}
	return ErrInvalidAuthorization
}

func (s *Server) override(svc *service, e *apierr.Error) error {
	if svc != nil {
		if o, ok := svc.Overrides[e]; ok {
			return o
		}
	}
	return e
}

// guessService names the service a request is for, before authentication,
// so that errors found early use that service's documented codes.
func (s *Server) guessService(r *http.Request, auth tcauth.Authorization, authErr error) *service {
	if authErr == nil {
		if svc := s.services[auth.Service]; svc != nil {
			return svc
		}
	}
	if svc := s.services[hostService(s.host(r))]; svc != nil {
		return svc
	}
	if svcs := s.byAction[r.Header.Get("X-Tc-Action")]; len(svcs) == 1 {
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

func (s *Server) authTC3(r *http.Request, a tcauth.Authorization, authErr error, payload []byte, now time.Time) (*accounts.Credential, *service, string, string, *apierr.Error) {
	if authErr != nil {
		return nil, nil, "", "", ErrInvalidAuthorization
	}
	h := r.Header
	action, version := h.Get("X-Tc-Action"), h.Get("X-Tc-Version")
	host := s.host(r)
	hs := hostService(host)
	svc := s.services[a.Service]
	if svc == nil && hs == "" && scopeNamesHost(a.Service, host) {
		// A client pointed at an address rather than a product host may
		// name its scope after the address (the Node SDKs take the first
		// label of the endpoint: "2026-01-02/127/tc3_request" for
		// 127.0.0.1:9000). The scope still binds the signature; the action
		// names the service. A scope naming another product ("cvm") is
		// not one of these and stays an unknown service.
		svc = s.serviceFor(action, version)
	}
	if !contains(a.SignedHeaders, "content-type") || !contains(a.SignedHeaders, "host") {
		return nil, svc, "", "", ErrInvalidAuthorization
	}
	if hs != "" && hs != a.Service {
		return nil, svc, "", "", ErrSignatureFailure
	}
	tsText := h.Get("X-Tc-Timestamp")
	if tsText == "" {
		return nil, svc, "", "", MissingParameter("X-TC-Timestamp")
	}
	if action == "" {
		return nil, svc, "", "", MissingParameter("X-TC-Action")
	}
	if version == "" {
		return nil, svc, "", "", MissingParameter("X-TC-Version")
	}
	cred, ok := s.cfg.Credentials.Credential(a.SecretID)
	if !ok {
		return nil, svc, action, version, ErrSecretIDNotFound
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return cred, svc, action, version, InvalidParameter("X-TC-Timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return cred, svc, action, version, ErrSignatureExpire
	}
	if time.Unix(ts, 0).UTC().Format(time.DateOnly) != a.Date {
		return cred, svc, action, version, ErrSignatureFailure
	}
	if h.Get("X-Tc-Content-Sha256") == "UNSIGNED-PAYLOAD" {
		return cred, svc, action, version, ErrSignatureFailure
	}
	query := ""
	if r.Method == http.MethodGet {
		query = r.URL.RawQuery
	}
	kid := keyID{cred.ID, a.Date, a.Service}
	key, cached := s.keys.get(kid, cred), true
	if key == nil {
		key, cached = tcauth.SigningKey(cred.Secret.Bytes(), a.Date, a.Service), false
	}
	if !verifyTC3(key, a, ts, r.Method, query, host, h, tcauth.HashHex(payload)) {
		return cred, svc, action, version, ErrSignatureFailure
	}
	if !cached {
		s.keys.put(kid, cred, key)
	}
	if h.Get("X-Tc-Token") != "" {
		return cred, svc, action, version, ErrTokenFailure
	}
	return cred, svc, action, version, nil
}

// verifyTC3 checks the signature against the canonical forms clients are
// known to sign: header values lowercased (as documented and as the SDKs
// send) or as received, and the host as received or, when it carries a port,
// without it (the Node SDKs sign the endpoint's hostname while they send
// host:port). Every form covers the same method, query, headers and payload,
// so accepting several widens nothing an attacker controls.
func verifyTC3(key []byte, a tcauth.Authorization, ts int64, method, query, host string, h http.Header, payloadHash string) bool {
	hosts := []string{host}
	if bare := hostWithoutPort(host); bare != host {
		hosts = append(hosts, bare)
	}
	for _, signedHost := range hosts {
		header := func(name string) string {
			if name == "host" {
				return signedHost
			}
			return strings.Join(h.Values(name), ",")
		}
		canon := tcauth.CanonicalRequest(method, query, a.SignedHeaders, header, true, payloadHash)
		if tcauth.VerifyWithKey(key, a, ts, canon) == nil {
			return true
		}
		if raw := tcauth.CanonicalRequest(method, query, a.SignedHeaders, header, false, payloadHash); raw != canon &&
			tcauth.VerifyWithKey(key, a, ts, raw) == nil {
			return true
		}
	}
	return false
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

func (s *Server) authV1(r *http.Request, authz string, p map[string]string, now time.Time) (*accounts.Credential, *service, string, string, *apierr.Error) {
	action, version := p["Action"], p["Version"]
	svc := s.services[hostService(s.host(r))]
	if svc == nil {
		svc = s.serviceFor(action, version)
	}
	if p["Signature"] == "" || p["SecretId"] == "" {
		return nil, svc, action, version, s.noCredential(authz + p["Signature"] + p["SecretId"])
	}
	for _, name := range []string{"Action", "Version", "Timestamp", "Nonce"} {
		if p[name] == "" {
			return nil, svc, action, version, MissingParameter(name)
		}
	}
	cred, ok := s.cfg.Credentials.Credential(p["SecretId"])
	if !ok {
		return nil, svc, action, version, ErrSecretIDNotFound
	}
	ts, err := strconv.ParseInt(p["Timestamp"], 10, 64)
	if err != nil {
		return cred, svc, action, version, InvalidParameter("Timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return cred, svc, action, version, ErrSignatureExpire
	}
	sts := tcauth.V1StringToSign(r.Method, s.host(r), p)
	if tcauth.VerifyV1(cred.Secret.Bytes(), p["SignatureMethod"], sts, p["Signature"]) != nil {
		return cred, svc, action, version, ErrSignatureFailure
	}
	if p["Token"] != "" {
		return cred, svc, action, version, ErrTokenFailure
	}
	fresh, err := s.cfg.Nonces.Claim(r.Context(), "{"+cred.Account.ID+"}:v1nonce:"+cred.ID+":"+p["Nonce"]+":"+p["Timestamp"], 2*MaxSkew+time.Minute, now)
	if err != nil {
		return cred, svc, action, version, ErrInternal.Wrap(err)
	}
	if !fresh {
		return cred, svc, action, version, ErrReplay
	}
	return cred, svc, action, version, nil
}

// commonV1 are the signature v1 common parameters; they are not business
// parameters.
var commonV1 = map[string]bool{
	"Action": true, "Version": true, "Region": true, "Timestamp": true, "Nonce": true, "SecretId": true,
	"Signature": true, "SignatureMethod": true, "Token": true, "Language": true, "RequestClient": true,
}

func stripCommon(flat map[string]string) map[string]string {
	out := make(map[string]string, len(flat))
	for k, v := range flat {
		if !commonV1[k] {
			out[k] = v
		}
	}
	return out
}

// flatten decodes a query or form; a name given twice is refused, because a
// v1 signature over it would be ambiguous.
func flatten(raw string) (map[string]string, bool) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, false
	}
	out := make(map[string]string, len(vals))
	for k, v := range vals {
		if len(v) != 1 {
			return nil, false
		}
		out[k] = v[0]
	}
	return out, true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
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
