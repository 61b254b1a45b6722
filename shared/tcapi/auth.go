package tcapi

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/tcauth"
)

// A scheme is one signature scheme. TC3 and v1 differ only here: what a
// request claims, how its signature is checked and where its business
// parameters are.
type scheme interface {
	// claim reads what the request says about itself, without trusting it.
	claim(s *Server, in *inbound) (claim, *apierr.Error)
	// verify checks the signature with the credential's secret.
	verify(s *Server, in *inbound, c *claim, cred *accounts.Credential) *apierr.Error
	// decode returns the business parameters of an authenticated request;
	// only the names in allowed are accepted.
	decode(in *inbound, allowed map[string]bool) (params, *apierr.Error)
}

// claim is what a request says about itself before it is authenticated.
type claim struct {
	secretID, action, version, language string
	timestamp, timestampName            string
	token                               string // a temporary-credential token; none is valid here
	scope                               string // TC3: the credential scope's service
	tc3                                 tcauth.Authorization
	replayKey                           string // v1: set by verify; claimed once
}

// schemeOf picks the signature scheme of a request.
func (s *Server) schemeOf(in *inbound) (scheme, *apierr.Error) {
	authz := in.r.Header.Get("Authorization")
	if strings.HasPrefix(authz, tcauth.Algorithm) {
		return tc3{}, nil
	}
	if in.contentType == "application/json" { // JSON must be signed with TC3
		return nil, noCredential(authz)
	}
	return v1{}, nil
}

// authenticate finds the credential, checks the time window and the
// signature, cheapest first.
func (s *Server) authenticate(in *inbound, sch scheme, c *claim, now time.Time) (*accounts.Credential, *apierr.Error) {
	cred, ok := s.cfg.Credentials.Credential(c.secretID)
	if !ok {
		return nil, ErrSecretIDNotFound
	}
	ts, err := strconv.ParseInt(c.timestamp, 10, 64)
	if err != nil {
		return nil, InvalidParameter(c.timestampName)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return nil, ErrSignatureExpire
	}
	if e := sch.verify(s, in, c, cred); e != nil {
		return nil, e
	}
	if c.token != "" {
		return nil, ErrTokenFailure
	}
	return cred, nil
}

// noCredential answers a request without a usable credential.
func noCredential(authz string) *apierr.Error {
	if strings.TrimSpace(authz) == "" {
		return ErrNoCredential
	}
	return ErrInvalidAuthorization
}

// scopeService is the service of a TC3 Authorization header's scope, or "".
func scopeService(authz string) string {
	if !strings.HasPrefix(authz, tcauth.Algorithm) {
		return ""
	}
	_, rest, _ := strings.Cut(authz, "Credential=")
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

// tc3 is TC3-HMAC-SHA256: the credential in the Authorization header, the
// common parameters in X-TC-* headers, the signature over the method, the
// query (GET), the signed headers and the payload's hash. The body is hashed,
// never parsed, before the signature is known to be good.
type tc3 struct{}

func (tc3) claim(s *Server, in *inbound) (claim, *apierr.Error) {
	h := in.r.Header
	c := claim{action: h.Get("X-Tc-Action"), version: h.Get("X-Tc-Version"), timestamp: h.Get("X-Tc-Timestamp"),
		timestampName: "X-TC-Timestamp", language: h.Get("X-Tc-Language"), token: h.Get("X-Tc-Token")}
	a, err := tcauth.ParseAuthorization(h.Get("Authorization"))
	if err != nil {
		return c, ErrInvalidAuthorization
	}
	c.tc3, c.secretID, c.scope = a, a.SecretID, a.Service
	if !contains(a.SignedHeaders, "content-type") || !contains(a.SignedHeaders, "host") {
		return c, ErrInvalidAuthorization
	}
	if hs := hostService(in.host); hs != "" && hs != a.Service {
		return c, ErrSignatureFailure
	}
	switch {
	case c.timestamp == "":
		return c, MissingParameter("X-TC-Timestamp")
	case c.action == "":
		return c, MissingParameter("X-TC-Action")
	case c.version == "":
		return c, MissingParameter("X-TC-Version")
	}
	return c, nil
}

func (tc3) verify(s *Server, in *inbound, c *claim, cred *accounts.Credential) *apierr.Error {
	a := c.tc3
	ts, _ := strconv.ParseInt(c.timestamp, 10, 64)
	if time.Unix(ts, 0).UTC().Format(time.DateOnly) != a.Date {
		return ErrSignatureFailure
	}
	if in.r.Header.Get("X-Tc-Content-Sha256") == "UNSIGNED-PAYLOAD" {
		return ErrSignatureFailure
	}
	query := ""
	if in.r.Method == http.MethodGet {
		query = in.query
	}
	kid := keyID{cred.ID, a.Date, a.Service}
	key, cached := s.keys.get(kid, cred), true
	if key == nil {
		key, cached = tcauth.SigningKey(cred.Secret.Bytes(), a.Date, a.Service), false
	}
	if !verifyTC3(key, a, ts, in.r.Method, query, in.host, in.r.Header, tcauth.HashHex(in.body)) {
		return ErrSignatureFailure
	}
	if !cached {
		s.keys.put(kid, cred, key)
	}
	return nil
}

func (tc3) decode(in *inbound, allowed map[string]bool) (params, *apierr.Error) {
	if in.flat != nil { // TC3 over GET or a form: the business parameters are in it
		return flatParams(stripCommon(in.flat), allowed)
	}
	return jsonParams(in.body, allowed)
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

// v1 is signature v1 (HmacSHA1, HmacSHA256): every parameter, common and
// business, in the query (GET) or a form body (POST), signed as
// METHOD+host+"/?"+sorted raw k=v pairs.
type v1 struct{}

func (v1) claim(s *Server, in *inbound) (claim, *apierr.Error) {
	p := in.flat
	c := claim{secretID: p["SecretId"], action: p["Action"], version: p["Version"], timestamp: p["Timestamp"],
		timestampName: "Timestamp", language: p["Language"], token: p["Token"]}
	if p["Signature"] == "" || p["SecretId"] == "" {
		return c, noCredential(in.r.Header.Get("Authorization") + p["Signature"] + p["SecretId"])
	}
	for _, name := range []string{"Action", "Version", "Timestamp", "Nonce"} {
		if p[name] == "" {
			return c, MissingParameter(name)
		}
	}
	return c, nil
}

func (v1) verify(s *Server, in *inbound, c *claim, cred *accounts.Credential) *apierr.Error {
	p := in.flat
	sts := tcauth.V1StringToSign(in.r.Method, in.host, p)
	if tcauth.VerifyV1(cred.Secret.Bytes(), p["SignatureMethod"], sts, p["Signature"]) != nil {
		return ErrSignatureFailure
	}
	// The string to sign joins raw k=v pairs, so "Nonce=1&Region=x" signs
	// exactly like one parameter Nonce="1&Region=x": a Nonce alone does
	// not tell two requests apart. The signature covers everything that
	// was signed, so it is what is accepted once (as bytes: base64 has
	// more than one spelling of the same bytes).
	sig, _ := base64.StdEncoding.DecodeString(p["Signature"])
	c.replayKey = "{" + cred.Account.ID + "}:v1sig:" + cred.ID + ":" + hex.EncodeToString(sig)
	return nil
}

func (v1) decode(in *inbound, allowed map[string]bool) (params, *apierr.Error) {
	return flatParams(stripCommon(in.flat), allowed)
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

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
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
