package acsapi

import (
	"net/http"
	"net/url"
	"strings"
)

// String returns the business parameter name from the query or the form body.
// ok is false when it is absent. The RPC common parameters (Action,
// Signature, Timestamp, ...) are not business parameters.
func (r *Request) String(name string) (s string, ok bool) {
	if commonParams[name] {
		return "", false
	}
	s, ok = r.params[name]
	return s, ok
}

// RequiredString is String with absence, or a value of only white space,
// reported as MissingParameter. The value is returned trimmed.
func (r *Request) RequiredString(name string) (string, error) {
	s, _ := r.String(name)
	s = strings.TrimSpace(s)
	if s == "" {
		return "", MissingParameter(name)
	}
	return s, nil
}

// Marked reports whether a request is meant for this front door rather than
// for the Tencent one: it carries an x-acs-* header, an ACS3 Authorization
// header, or the RPC parameters AccessKeyId or SignatureNonce in params (the
// decoded query, or a form body). A server that hosts both front doors on one
// port dispatches on it.
func Marked(h http.Header, params url.Values) bool {
	if strings.HasPrefix(h.Get("Authorization"), "ACS3-") {
		return true
	}
	for k := range h {
		if len(k) > 6 && strings.EqualFold(k[:6], "x-acs-") {
			return true
		}
	}
	return params != nil && (params.Has("AccessKeyId") || params.Has("SignatureNonce"))
}
