package acsapi

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/acsauth"
	"github.com/verifyfn/verifyfn/shared/apierr"
)

// A scheme is one signature scheme. ACS3 and RPC differ only here: what a
// request claims and how its signature is checked; both carry the business
// parameters in the merged query and form.
type scheme interface {
	// claim reads what the request says about itself, without trusting it.
	claim(s *Server, in *inbound) (claim, *apierr.Error)
	// verify checks the signature with the credential's secret.
	verify(s *Server, in *inbound, c *claim, cred *accounts.Credential) *apierr.Error
}

// claim is what a request says about itself before it is authenticated.
type claim struct {
	accessKeyID     string
	action, version string
	nonce           string
	timestamp       time.Time
	token           bool // a temporary-credential token; none is valid here
	acs3            acsauth.ACS3Authorization
}

// schemeOf picks the signature scheme: ACS3 when an Authorization header is
// present, the RPC signature otherwise.
func (s *Server) schemeOf(r *http.Request) scheme {
	if r.Header.Get("Authorization") != "" {
		return acs3{}
	}
	return rpc{}
}

// authenticate finds the credential, checks the time window and the
// signature, cheapest first.
func (s *Server) authenticate(in *inbound, sch scheme, c *claim, now time.Time) (*accounts.Credential, *apierr.Error) {
	cred, ok := s.cfg.Credentials.Credential(c.accessKeyID)
	if !ok {
		return nil, ErrAccessKeyNotFound
	}
	if e := checkSkew(c.timestamp, now); e != nil {
		return nil, e
	}
	if e := sch.verify(s, in, c, cred); e != nil {
		return nil, e
	}
	if c.token {
		return nil, ErrSecurityToken
	}
	return cred, nil
}

// requiredSigned are the headers an ACS3 signature must cover.
var requiredSigned = []string{
	acsauth.HeaderHost, acsauth.HeaderAction, acsauth.HeaderVersion, acsauth.HeaderDate,
	acsauth.HeaderNonce, acsauth.HeaderContentSHA256,
}

// acs3 is ACS3-HMAC-SHA256: the action, version, date and nonce in x-acs-*
// headers, the signature over the method, the query, the signed headers and
// the payload's hash.
type acs3 struct{}

func (acs3) claim(s *Server, in *inbound) (claim, *apierr.Error) {
	h := in.r.Header
	c := claim{action: h.Get(acsauth.HeaderAction), version: h.Get(acsauth.HeaderVersion)}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"Action", &c.action}, {"Version", &c.version}} {
		if q, ok := in.params[p.name]; ok {
			if *p.dst != "" && *p.dst != q {
				return c, InvalidParameter(p.name)
			}
			*p.dst = q
		}
	}
	parsed, err := acsauth.ParseACS3Authorization(h.Get("Authorization"))
	if errors.Is(err, acsauth.ErrUnsupportedAlgorithm) {
		return c, ErrSignatureMethod
	}
	if err != nil {
		return c, ErrIncompleteSignature
	}
	c.acs3, c.accessKeyID = parsed, parsed.AccessKeyID
	for _, name := range requiredSigned {
		if !parsed.Signs(name) {
			return c, apierr.New(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards: SignedHeaders must include "+name+".")
		}
	}
	// Every x-acs-* header and the content type must be signed, so that
	// nothing that changes the request's meaning can be added in transit.
	for k := range h {
		lk := strings.ToLower(k)
		if (lk == acsauth.HeaderContentType || strings.HasPrefix(lk, "x-acs-")) && !parsed.Signs(lk) {
			return c, apierr.New(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards: header "+safeName(lk)+" is not signed.")
		}
	}
	if c.action == "" {
		return c, MissingParameter("x-acs-action")
	}
	if c.version == "" {
		return c, MissingParameter("x-acs-version")
	}
	date := h.Get(acsauth.HeaderDate)
	if date == "" {
		return c, MissingParameter("x-acs-date")
	}
	ts, ok := parseTime(date)
	if !ok {
		return c, ErrTimestampFormat
	}
	c.timestamp = ts
	if c.nonce = h.Get(acsauth.HeaderNonce); c.nonce == "" {
		return c, MissingParameter("x-acs-signature-nonce")
	}
	if len(c.nonce) > MaxNonce {
		return c, InvalidParameter("x-acs-signature-nonce")
	}
	c.token = h.Get(acsauth.HeaderSecurityToken) != "" || h.Get("X-Acs-Bearer-Token") != ""
	return c, nil
}

func (acs3) verify(s *Server, in *inbound, c *claim, cred *accounts.Credential) *apierr.Error {
	if acsauth.VerifyACS3Request(cred.Secret.Bytes(), c.acs3, in.r.Method, in.query, in.host, in.r.Header, acsauth.HashPayload(in.body)) != nil {
		return ErrSignatureMismatch
	}
	return nil
}

// rpc is the legacy RPC signature: every parameter, common and business, in
// the query or a form, signed with HMAC-SHA1 over the percent-encoded,
// sorted set.
type rpc struct{}

func (rpc) claim(s *Server, in *inbound) (claim, *apierr.Error) {
	p := in.params
	c := claim{accessKeyID: p["AccessKeyId"], action: p["Action"], version: p["Version"], token: p["SecurityToken"] != ""}
	if c.accessKeyID == "" {
		return c, MissingParameter("AccessKeyId")
	}
	if p["Signature"] == "" {
		return c, apierr.New(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards: Signature is missing.")
	}
	switch m := p["SignatureMethod"]; m {
	case acsauth.RPCSignatureMethod:
	case "":
		return c, MissingParameter("SignatureMethod")
	default:
		return c, ErrSignatureMethod
	}
	switch v := p["SignatureVersion"]; v {
	case acsauth.RPCSignatureVersion:
	case "":
		return c, MissingParameter("SignatureVersion")
	default:
		return c, apierr.New(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards: SignatureVersion must be 1.0.")
	}
	if t := p["SignatureType"]; t != "" {
		return c, apierr.New(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards: SignatureType must be empty.")
	}
	if c.action == "" {
		return c, MissingParameter("Action")
	}
	if c.version == "" {
		return c, MissingParameter("Version")
	}
	stamp := p["Timestamp"]
	if stamp == "" {
		return c, MissingParameter("Timestamp")
	}
	ts, ok := parseTime(stamp)
	if !ok {
		return c, ErrTimestampFormat
	}
	c.timestamp = ts
	if c.nonce = p["SignatureNonce"]; c.nonce == "" {
		return c, MissingParameter("SignatureNonce")
	}
	if len(c.nonce) > MaxNonce {
		return c, InvalidParameter("SignatureNonce")
	}
	return c, nil
}

func (rpc) verify(s *Server, in *inbound, c *claim, cred *accounts.Credential) *apierr.Error {
	all := make(url.Values, len(in.query)+len(in.form))
	for k, v := range in.query {
		all[k] = v
	}
	for k, v := range in.form {
		all[k] = v
	}
	if acsauth.VerifyRPC(cred.Secret.Bytes(), in.r.Method, all) != nil {
		return ErrSignatureMismatch
	}
	return nil
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
// value was meant, and a proxy reading the first could see another request
// than we do. Names and values must be valid UTF-8.
func merge(query, form url.Values) (map[string]string, *apierr.Error) {
	out := make(map[string]string, len(query)+len(form))
	for _, vals := range []url.Values{query, form} {
		for k, v := range vals {
			if _, dup := out[k]; dup || len(v) != 1 {
				return nil, apierr.New(CodeInvalidParameter, "Specified parameter "+safeName(k)+" is given more than once.")
			}
			if !utf8.ValidString(k) || !utf8.ValidString(v[0]) {
				return nil, ErrInvalidText
			}
			out[k] = v[0]
		}
	}
	return out, nil
}
