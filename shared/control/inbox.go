package control

import (
	"embed"
	"net/http"
	"strconv"
	"strings"
)

// The dev inbox: a page that lists the messages live, served from files
// embedded here (nothing is fetched at run time).
//
//go:embed inbox/index.html inbox/inbox.css inbox/inbox.js
var inboxFiles embed.FS

// inboxCSP allows the page its own script and style and nothing else: no
// inline script, no other origin, no framing.
const inboxCSP = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// inboxAsset names the page's files by path, with their types.
var inboxAsset = map[string]struct{ file, typ string }{
	Prefix:               {"inbox/index.html", "text/html; charset=utf-8"},
	Prefix + "inbox.css": {"inbox/inbox.css", "text/css; charset=utf-8"},
	Prefix + "inbox.js":  {"inbox/inbox.js", "text/javascript; charset=utf-8"},
}

// inboxRequest reports whether r asks for one of the page's files: a GET of
// the page's script or style, or of Prefix from a browser (Accept names
// text/html; anything else gets the JSON index). The files hold no data and
// no token, so they are served without the token: the page asks for it and
// sends it with every call it makes.
func inboxRequest(r *http.Request) (string, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "", false
	}
	path := r.URL.Path
	if (path == Prefix || path == strings.TrimSuffix(Prefix, "/")) && !strings.Contains(r.Header.Get("Accept"), "text/html") {
		return "", false
	}
	if path == strings.TrimSuffix(Prefix, "/") {
		return path, true // redirected: the page's links are relative to Prefix
	}
	_, ok := inboxAsset[path]
	return path, ok
}

func serveInbox(w http.ResponseWriter, r *http.Request, path string) {
	a, ok := inboxAsset[path]
	if !ok {
		http.Redirect(w, r, Prefix, http.StatusPermanentRedirect)
		return
	}
	b, err := inboxFiles.ReadFile(a.file)
	if err != nil { // cannot happen: the files are embedded
		writeError(w, http.StatusInternalServerError, "the inbox page is missing")
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.typ)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Content-Security-Policy", inboxCSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Vary", "Accept")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}
