package tcapi

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/verifyfn/verifyfn/shared/apierr"
)

// Bounds on what a request may carry. The actions served here take a handful
// of short fields, so the bounds sit far below Tencent's generic limits
// (10 MB JSON, 1 MB form): an unauthenticated request can cost no more than
// reading and hashing this much.
const (
	// DefaultMaxBody bounds the body of an action that sets no MaxBody.
	DefaultMaxBody = 16 << 10
	// MaxQuery bounds the query string (Tencent documents 32 KB for GET).
	MaxQuery = 32 << 10
	// MaxParams bounds the parameters of a query or form, common ones
	// included, counted before anything is decoded.
	MaxParams = 64
)

// inbound is a request as read off the wire: bounded, not yet trusted.
type inbound struct {
	r           *http.Request
	host        string // the host the client signed
	contentType string // the media type without parameters; "" for GET
	body        []byte
	query       string            // the raw query
	flat        map[string]string // a form or query decoded (v1 and TC3 form/GET); nil for JSON
}

// read is the first stage: the method, the content type and the body, bounded
// by the limit of the action the request names (or the largest limit when it
// names none yet). Nothing is parsed except a query or form, which is split
// only after its parameters were counted.
func (s *Server) read(r *http.Request) (*inbound, *apierr.Error) {
	in := &inbound{r: r, host: s.host(r), query: r.URL.RawQuery}
	switch r.Method {
	case http.MethodGet:
		if len(in.query) > MaxQuery {
			return nil, ErrRequestTooLarge
		}
		flat, e := flatten(in.query)
		if e != nil {
			return nil, e
		}
		in.flat = flat
		return in, nil
	case http.MethodPost:
	default:
		return nil, ErrUnsupportedProtocol
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" && ct != "application/x-www-form-urlencoded" {
		return nil, ErrUnsupportedProtocol
	}
	in.contentType = ct
	limit := int64(s.bodyLimit(r.Header.Get("X-Tc-Action")))
	if r.ContentLength > limit {
		return nil, ErrRequestTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, ErrReadBody
	}
	if int64(len(body)) > limit {
		return nil, ErrRequestTooLarge
	}
	in.body = body
	if ct == "application/x-www-form-urlencoded" {
		flat, e := flatten(string(body))
		if e != nil {
			return nil, e
		}
		in.flat = flat
	}
	return in, nil
}

// bodyLimit is the body bound of the action named in X-TC-Action (TC3), or
// the largest bound of any action when the header names none of ours.
func (s *Server) bodyLimit(action string) int {
	limit := 0
	for _, svc := range s.byAction[action] {
		limit = max(limit, svc.actions[action].MaxBody)
	}
	if limit == 0 {
		return s.maxBody
	}
	return limit
}

// flatten decodes a query or form. The parameters are counted first, so a
// request of a million tiny members is refused before any is decoded; a name
// given twice is refused, because a v1 signature over it would be ambiguous
// and a proxy reading the first could see another request than we do.
func flatten(raw string) (map[string]string, *apierr.Error) {
	if raw == "" {
		return map[string]string{}, nil
	}
	if strings.Count(raw, "&") >= MaxParams {
		return nil, ErrTooManyParams
	}
	out := make(map[string]string, strings.Count(raw, "&")+1)
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || strings.Contains(pair, ";") {
			return nil, ErrMalformedQuery
		}
		if _, dup := out[key]; dup {
			return nil, ErrDuplicateParameter
		}
		out[key] = val
	}
	return out, nil
}
