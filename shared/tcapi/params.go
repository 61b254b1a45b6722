package tcapi

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/verifyfn/verifyfn/shared/apierr"
)

// params holds the business parameters of one request: typed JSON values from
// a v3 JSON body, or strings from a query or form (v1 and v3 GET).
type params struct {
	json map[string]json.RawMessage
	flat map[string]string
}

func (p *params) names() []string {
	var out []string
	for k := range p.json {
		out = append(out, k)
	}
	for k := range p.flat {
		out = append(out, k)
	}
	return out
}

func (p *params) raw(name string) (json.RawMessage, string, bool) {
	if p.json != nil {
		v, ok := p.json[name]
		if ok && bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return nil, "", false
		}
		return v, "", ok
	}
	v, ok := p.flat[name]
	return nil, v, ok
}

// String returns the string parameter name. A JSON value must be a string;
// ok is false when the parameter is absent.
func (r *Request) String(name string) (s string, ok bool, err error) {
	j, flat, ok := r.params.raw(name)
	if !ok {
		return "", false, nil
	}
	if j == nil {
		return flat, true, nil
	}
	if err := json.Unmarshal(j, &s); err != nil {
		return "", true, InvalidParameter(name)
	}
	return s, true, nil
}

// RequiredString is String with absence reported as MissingParameter.
func (r *Request) RequiredString(name string) (string, error) {
	s, ok, err := r.String(name)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", MissingParameter(name)
	}
	return s, nil
}

// Int returns the integer parameter name: a JSON number (or a JSON string of
// digits, as some clients send), or the decimal string of a query or form.
func (r *Request) Int(name string) (n int64, ok bool, err error) {
	j, flat, ok := r.params.raw(name)
	if !ok {
		return 0, false, nil
	}
	if j != nil {
		j = bytes.TrimSpace(j)
		if len(j) > 0 && j[0] == '"' {
			if err := json.Unmarshal(j, &flat); err != nil {
				return 0, true, InvalidParameter(name)
			}
		} else {
			flat = string(j)
		}
	}
	n, perr := strconv.ParseInt(strings.TrimSpace(flat), 10, 64)
	if perr != nil {
		return 0, true, InvalidParameter(name)
	}
	return n, true, nil
}

// checkKnown returns UnknownParameter for the first parameter not in allowed.
func (p *params) checkKnown(allowed map[string]bool) *apierr.Error {
	for _, k := range p.names() {
		if !allowed[k] {
			return UnknownParameter(safeName(k))
		}
	}
	return nil
}

// safeName keeps a caller-supplied parameter name printable in a message.
func safeName(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	for _, c := range s {
		if !(c == '.' || c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "(unprintable name)"
		}
	}
	return s
}
