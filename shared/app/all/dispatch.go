package all

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/verifyfn/verifyfn/shared/acsapi"
)

// dispatchPeek bounds how much of a form body Dispatch reads to decide; it
// matches the form-body bound of both front doors.
const dispatchPeek = 1 << 20

// Dispatch serves the Alibaba and the Tencent front door on one port. A
// request goes to alibaba when it carries an x-acs-* header, an ACS3
// Authorization header, or AccessKeyId or SignatureNonce in its query or
// form body (acsapi.Marked); every other request goes to tencent. A form
// body read to decide is given back to the chosen handler unchanged.
func Dispatch(alibaba, tencent http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAlibaba(r) {
			alibaba.ServeHTTP(w, r)
			return
		}
		tencent.ServeHTTP(w, r)
	})
}

func isAlibaba(r *http.Request) bool {
	query, _ := url.ParseQuery(r.URL.RawQuery) // what parses is enough to decide
	if acsapi.Marked(r.Header, query) {
		return true
	}
	if r.Method != http.MethodPost || r.Body == nil || r.Body == http.NoBody {
		return false
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		return false
	}
	if r.ContentLength > dispatchPeek {
		return false
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, dispatchPeek+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	if err != nil || len(buf) > dispatchPeek {
		return false
	}
	form, _ := url.ParseQuery(string(buf))
	return acsapi.Marked(nil, form)
}
