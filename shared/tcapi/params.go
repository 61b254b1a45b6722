package tcapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/verifyfn/verifyfn/shared/apierr"
)

// params holds the business parameters of one request: typed JSON values from
// a v3 JSON body, or strings from a query or form (v1 and v3 GET).
type params struct {
	json map[string]json.RawMessage
	flat map[string]string
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

// flatParams checks the business parameters of a query or form: every name
// defined by the action, every value valid UTF-8.
func flatParams(flat map[string]string, allowed map[string]bool) (params, *apierr.Error) {
	for k, v := range flat {
		if !allowed[k] {
			return params{}, UnknownParameter(safeName(k))
		}
		if !utf8.ValidString(v) {
			return params{}, ErrInvalidText
		}
	}
	return params{flat: flat}, nil
}

// jsonParams decodes a TC3 JSON body strictly: one object whose members are
// the action's parameters, each at most once, each a scalar (no parameter of
// these APIs is an object or an array, so nesting is refused before it is
// read), every string valid UTF-8 without lone surrogate escapes. An empty
// body is an object without members. The decoder is RFC 8259/7493 strict
// (github.com/go-json-experiment/json/jsontext, encoding/json/v2's
// tokenizer); the first error stops it.
func jsonParams(body []byte, allowed map[string]bool) (params, *apierr.Error) {
	p := params{json: map[string]json.RawMessage{}}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	if !utf8.Valid(body) {
		return params{}, ErrInvalidText
	}
	d := jsontext.NewDecoder(bytes.NewReader(body))
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return params{}, jsonError(err)
	}
	for d.PeekKind() != '}' {
		tok, err := d.ReadToken()
		if err != nil {
			return params{}, jsonError(err)
		}
		name := tok.String()
		if !allowed[name] {
			return params{}, UnknownParameter(safeName(name))
		}
		if k := d.PeekKind(); k == '{' || k == '[' {
			return params{}, InvalidParameter(name)
		}
		v, err := d.ReadValue()
		if err != nil {
			return params{}, jsonError(err)
		}
		p.json[name] = json.RawMessage(v.Clone())
	}
	if _, err := d.ReadToken(); err != nil {
		return params{}, jsonError(err)
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return params{}, ErrMalformedJSON // something after the object
	}
	return p, nil
}

// jsonError names what made a body unusable: a name given twice, text that
// is not valid Unicode (a lone surrogate escape), or anything else.
func jsonError(err error) *apierr.Error {
	var se *jsontext.SyntacticError
	switch {
	case errors.Is(err, jsontext.ErrDuplicateName):
		return ErrDuplicateParameter
	case errors.As(err, &se) && strings.Contains(se.Err.Error(), "surrogate"):
		return ErrInvalidText
	}
	return ErrMalformedJSON
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
