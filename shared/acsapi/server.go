// Package acsapi is the Alibaba Cloud OpenAPI (POP) RPC front door, the
// counterpart of tcapi for Alibaba callers: it reads a request with bounded
// size, merges the query and a form body into one parameter set,
// authenticates it (ACS3-HMAC-SHA256 in the Authorization header, as
// darabonba-openapi sends by default, or the legacy RPC signature, HMAC-SHA1
// with SignatureVersion 1.0, over GET or a POST form), checks the 15-minute
// timestamp window and refuses a replayed signature nonce, routes it by
// action and version, enforces RAM permissions, the product subscription and
// the per-account, per-action request rate, and writes the answer.
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
	"io"
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

// Size bounds for the request body and query string.
const (
	MaxBody  = 1 << 20
	MaxQuery = 32 << 10
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
}

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
	Rate       store.Rate // this account's limit for this action
	params     map[string]string
	logAttrs   []slog.Attr
	product    string
	denied     map[string]string // AccessDeniedDetail of a permission error
}

// Log adds an attribute to the request's log line (mask personal data first).
func (r *Request) Log(a slog.Attr) { r.logAttrs = append(r.logAttrs, a) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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

// serve reads, authenticates and routes. It returns the request as far as it
// was understood (for the log and the error body), the handler output and an
// error.
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

	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return fail(ErrUnsupportedMethod)
	}
	if len(r.URL.RawQuery) > MaxQuery {
		return fail(ErrRequestTooLarge)
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fail(InvalidParameter("query"))
	}
	body, e := readBody(r)
	if e != nil {
		return fail(e)
	}
	var form url.Values
	if len(body) > 0 {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "application/x-www-form-urlencoded" {
			return fail(ErrUnsupportedBody)
		}
		if form, err = url.ParseQuery(string(body)); err != nil {
			return fail(InvalidParameter("body"))
		}
	}
	params, e := merge(query, form)
	if e != nil {
		return fail(e)
	}

	var a auth
	if authz := r.Header.Get("Authorization"); authz != "" {
		a, e = s.authACS3(r, authz, query, params, body, now)
	} else {
		a, e = s.authRPC(r, query, form, params, now)
	}
	req.Action, req.Version = a.action, a.version
	if e == nil {
		req.Credential, req.Account = a.cred, a.cred.Account
	}
	if svcs := s.byAction[a.action]; len(svcs) > 0 {
		svc = svcs[0]
		for _, c := range svcs {
			if c.Version == a.version {
				svc = c
			}
		}
		req.Service, req.product = svc.Name, svc.Product
	}
	if e != nil {
		return fail(e)
	}
	// Only a request whose signature verified claims its nonce, so that
	// unsigned traffic can neither fill the nonce store nor burn a nonce a
	// legitimate request is about to use.
	fresh, err := s.cfg.Nonces.Claim(r.Context(), "{"+a.cred.Account.ID+"}:acsnonce:"+a.cred.ID+":"+a.nonce, NonceTTL, now)
	if err != nil {
		return fail(ErrServiceUnavailable.Wrap(err))
	}
	if !fresh {
		return fail(ErrNonceUsed)
	}

	if svc == nil {
		return fail(ErrInvalidAction)
	}
	act := svc.actions[a.action]
	if svc.Version != a.version || act == nil {
		return fail(ErrInvalidVersion)
	}
	if !a.cred.Allowed(svc.Name, act.Name) {
		req.denied = map[string]string{
			"AuthAction":               svc.Name + ":" + act.Name,
			"AuthPrincipalType":        "SubUser",
			"AuthPrincipalOwnerId":     a.cred.Account.ID,
			"AuthPrincipalDisplayName": a.cred.ID,
			"PolicyType":               "AccountLevelIdentityBasedPolicy",
			"NoPermissionType":         "ImplicitDeny",
		}
		return fail(ErrPermissionDenied)
	}
	if !a.cred.Account.HasProduct(svc.Name) {
		return fail(ErrNotSubscribed)
	}
	req.Rate = store.Rate{Key: "{" + a.cred.Account.ID + "}:rate:" + svc.Name + ":" + act.Name, Limit: svc.RateLimit, Per: time.Second}
	if !act.SelfLimited {
		ok, err := s.cfg.Limiter.Allow(r.Context(), req.Rate, now)
		if err != nil {
			return fail(ErrServiceUnavailable.Wrap(err))
		}
		if !ok {
			return fail(ErrThrottled)
		}
	}
	req.params = params
	out, err := act.Handle(r.Context(), req)
	if err != nil {
		e := classify(err)
		if o, ok := svc.Overrides[e]; ok {
			e = o
		}
		return req, nil, e
	}
	return req, out, nil
}

// readBody reads the body, at most MaxBody bytes.
func readBody(r *http.Request) ([]byte, *apierr.Error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > MaxBody {
		return nil, ErrRequestTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, InvalidParameter("body")
	}
	if len(body) > MaxBody {
		return nil, ErrRequestTooLarge
	}
	return body, nil
}

// merge returns the query and form parameters as one set. A name given twice,
// in one of them or in both, is refused: the handlers would not know which
// value was meant.
func merge(query, form url.Values) (map[string]string, *apierr.Error) {
	out := make(map[string]string, len(query)+len(form))
	for _, vals := range []url.Values{query, form} {
		for k, v := range vals {
			if _, dup := out[k]; dup || len(v) != 1 {
				return nil, apierr.New(CodeInvalidParameter, "Specified parameter "+safeName(k)+" is given more than once.")
			}
			out[k] = v[0]
		}
	}
	return out, nil
}

// auth is what authentication found out, as far as it got.
type auth struct {
	cred            *accounts.Credential
	action, version string
	nonce           string
}

// requiredSigned are the headers an ACS3 signature must cover.
var requiredSigned = []string{
	acsauth.HeaderHost, acsauth.HeaderAction, acsauth.HeaderVersion, acsauth.HeaderDate,
	acsauth.HeaderNonce, acsauth.HeaderContentSHA256,
}

func (s *Server) authACS3(r *http.Request, authz string, query url.Values, params map[string]string, body []byte, now time.Time) (auth, *apierr.Error) {
	var a auth
	h := r.Header
	a.action, a.version = h.Get(acsauth.HeaderAction), h.Get(acsauth.HeaderVersion)
	for _, p := range []struct {
		name string
		dst  *string
	}{{"Action", &a.action}, {"Version", &a.version}} {
		if q, ok := params[p.name]; ok {
			if *p.dst != "" && *p.dst != q {
				return a, InvalidParameter(p.name)
			}
			*p.dst = q
		}
	}
	parsed, err := acsauth.ParseACS3Authorization(authz)
	if errors.Is(err, acsauth.ErrUnsupportedAlgorithm) {
		return a, ErrSignatureMethod
	}
	if err != nil {
		return a, ErrIncompleteSignature
	}
	for _, name := range requiredSigned {
		if !parsed.Signs(name) {
			return a, apierr.New(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards: SignedHeaders must include "+name+".")
		}
	}
	// Every x-acs-* header and the content type must be signed, so that
	// nothing that changes the request's meaning can be added in transit.
	for k := range h {
		lk := strings.ToLower(k)
		if (lk == acsauth.HeaderContentType || strings.HasPrefix(lk, "x-acs-")) && !parsed.Signs(lk) {
			return a, apierr.New(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards: header "+safeName(lk)+" is not signed.")
		}
	}
	if a.action == "" {
		return a, MissingParameter("x-acs-action")
	}
	if a.version == "" {
		return a, MissingParameter("x-acs-version")
	}
	date := h.Get(acsauth.HeaderDate)
	if date == "" {
		return a, MissingParameter("x-acs-date")
	}
	ts, ok := parseTime(date)
	if !ok {
		return a, ErrTimestampFormat
	}
	if a.nonce = h.Get(acsauth.HeaderNonce); a.nonce == "" {
		return a, MissingParameter("x-acs-signature-nonce")
	}
	if len(a.nonce) > MaxNonce {
		return a, InvalidParameter("x-acs-signature-nonce")
	}
	cred, ok := s.cfg.Credentials.Credential(parsed.AccessKeyID)
	if !ok {
		return a, ErrAccessKeyNotFound
	}
	a.cred = cred
	if e := checkSkew(ts, now); e != nil {
		return a, e
	}
	if acsauth.VerifyACS3Request(cred.Secret.Bytes(), parsed, r.Method, query, s.host(r), h, acsauth.HashPayload(body)) != nil {
		return a, ErrSignatureMismatch
	}
	if h.Get(acsauth.HeaderSecurityToken) != "" || h.Get("X-Acs-Bearer-Token") != "" {
		return a, ErrSecurityToken
	}
	return a, nil
}

func (s *Server) authRPC(r *http.Request, query, form url.Values, params map[string]string, now time.Time) (auth, *apierr.Error) {
	a := auth{action: params["Action"], version: params["Version"]}
	if params["AccessKeyId"] == "" {
		return a, MissingParameter("AccessKeyId")
	}
	if params["Signature"] == "" {
		return a, apierr.New(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards: Signature is missing.")
	}
	switch m := params["SignatureMethod"]; m {
	case acsauth.RPCSignatureMethod:
	case "":
		return a, MissingParameter("SignatureMethod")
	default:
		return a, ErrSignatureMethod
	}
	switch v := params["SignatureVersion"]; v {
	case acsauth.RPCSignatureVersion:
	case "":
		return a, MissingParameter("SignatureVersion")
	default:
		return a, apierr.New(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards: SignatureVersion must be 1.0.")
	}
	if t := params["SignatureType"]; t != "" {
		return a, apierr.New(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards: SignatureType must be empty.")
	}
	if a.action == "" {
		return a, MissingParameter("Action")
	}
	if a.version == "" {
		return a, MissingParameter("Version")
	}
	stamp := params["Timestamp"]
	if stamp == "" {
		return a, MissingParameter("Timestamp")
	}
	ts, ok := parseTime(stamp)
	if !ok {
		return a, ErrTimestampFormat
	}
	if a.nonce = params["SignatureNonce"]; a.nonce == "" {
		return a, MissingParameter("SignatureNonce")
	}
	if len(a.nonce) > MaxNonce {
		return a, InvalidParameter("SignatureNonce")
	}
	cred, ok := s.cfg.Credentials.Credential(params["AccessKeyId"])
	if !ok {
		return a, ErrAccessKeyNotFound
	}
	a.cred = cred
	if e := checkSkew(ts, now); e != nil {
		return a, e
	}
	all := make(url.Values, len(query)+len(form))
	for k, v := range query {
		all[k] = v
	}
	for k, v := range form {
		all[k] = v
	}
	if acsauth.VerifyRPC(cred.Secret.Bytes(), r.Method, all) != nil {
		return a, ErrSignatureMismatch
	}
	if params["SecurityToken"] != "" {
		return a, ErrSecurityToken
	}
	return a, nil
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
