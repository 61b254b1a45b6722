package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Bounds of the endpoints.
const (
	maxBody = 16 << 10
	// MaxWait bounds the wait of GET /_verifyfn/messages/latest.
	MaxWait = time.Minute
	// keepAlive is how often the message stream sends a comment when
	// nothing else happens, so that proxies keep it open.
	keepAlive = 15 * time.Second
)

// endpoint is one path and the methods it answers.
type endpoint struct {
	path    string
	methods map[string]http.HandlerFunc
}

func (p *Plane) endpoints() []endpoint {
	return []endpoint{
		{Prefix, map[string]http.HandlerFunc{http.MethodGet: p.index}},
		{Prefix + "messages", map[string]http.HandlerFunc{http.MethodGet: p.listMessages, http.MethodDelete: p.clearMessages}},
		{Prefix + "messages/latest", map[string]http.HandlerFunc{http.MethodGet: p.latestMessage}},
		{Prefix + "messages/stream", map[string]http.HandlerFunc{http.MethodGet: p.streamMessages}},
		{Prefix + "reset", map[string]http.HandlerFunc{http.MethodPost: p.reset}},
		{Prefix + "clock", map[string]http.HandlerFunc{http.MethodGet: p.getClock, http.MethodPost: p.advanceClock, http.MethodDelete: p.resetClock}},
		{Prefix + "faults", map[string]http.HandlerFunc{http.MethodGet: p.listFaults, http.MethodPost: p.addFault, http.MethodDelete: p.clearFaults}},
		{Prefix + "actions", map[string]http.HandlerFunc{http.MethodGet: p.listActions}},
	}
}

// routes serves the endpoints after the checks every call passes.
func (p *Plane) routes() http.Handler {
	byPath := map[string]endpoint{}
	for _, e := range p.endpoints() {
		byPath[e.path] = e
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if path, ok := inboxRequest(r); ok {
			if status, msg := p.admitOrigin(r); status != 0 {
				writeError(w, status, msg)
				return
			}
			serveInbox(w, r, path)
			return
		}
		if status, msg := p.admit(r); status != 0 {
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="verifyfn control plane"`)
			}
			writeError(w, status, msg)
			return
		}
		path := r.URL.Path
		if path == strings.TrimSuffix(Prefix, "/") {
			path = Prefix
		}
		e, ok := byPath[strings.TrimSuffix(path, "/")]
		if !ok {
			e, ok = byPath[path]
		}
		if !ok {
			writeError(w, http.StatusNotFound, "no such endpoint: see GET "+Prefix)
			return
		}
		h, ok := e.methods[r.Method]
		if !ok {
			allow := make([]string, 0, len(e.methods))
			for m := range e.methods {
				allow = append(allow, m)
			}
			w.Header().Set("Allow", strings.Join(sorted(allow), ", "))
			writeError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed here; allowed: "+strings.Join(sorted(allow), ", "))
			return
		}
		h(w, r)
	})
}

// admit checks the token, and that the call does not come from a web page of
// another site: an Origin must be the server's own, and on a loopback
// listener the Host must be a loopback name (no DNS rebinding).
func (p *Plane) admit(r *http.Request) (int, string) {
	if !p.authorized(r) {
		return http.StatusUnauthorized, "this control plane needs Authorization: Bearer <VERIFYFN_CONTROL_TOKEN>"
	}
	return p.admitOrigin(r)
}

// admitOrigin is admit without the token.
func (p *Plane) admitOrigin(r *http.Request) (int, string) {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return http.StatusForbidden, "calls from a page of another origin are refused"
		}
	}
	if p.cfg.Loopback && !loopbackHost(r.Host) {
		return http.StatusForbidden, "the server listens on loopback: call it as localhost or 127.0.0.1"
	}
	return 0, ""
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// decode reads a JSON object body into v; an empty body leaves v as it is.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return errors.New("the body could not be read")
	}
	if len(body) > maxBody {
		return fmt.Errorf("the body exceeds %d bytes", maxBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("the body is not the JSON object this endpoint takes: %v", err)
	}
	if dec.More() {
		return errors.New("the body holds more than one JSON value")
	}
	return nil
}

func (p *Plane) index(w http.ResponseWriter, r *http.Request) {
	type ep struct {
		Path    string   `json:"path"`
		Methods []string `json:"methods"`
	}
	var out []ep
	for _, e := range p.endpoints() {
		var ms []string
		for m := range e.methods {
			ms = append(ms, m)
		}
		out = append(out, ep{Path: e.path, Methods: sorted(ms)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"endpoints": out, "docs": "docs/testing.md"})
}

// filter reads the message filters of a query.
func filter(q url.Values) (Filter, error) {
	f := Filter{To: NormalizeTo(q.Get("to")), Channel: q.Get("channel"), Account: q.Get("account"),
		Service: q.Get("service"), Action: q.Get("action")}
	for name := range q {
		switch name {
		case "to", "channel", "account", "service", "action", "after", "limit", "wait":
		default:
			return f, fmt.Errorf("unknown parameter %q; filters: to, channel, account, service, action, after, limit", truncate(name))
		}
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return f, errors.New("after must be a message id")
		}
		f.After = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, errors.New("limit must be a positive integer")
		}
		f.Limit = n
	}
	return f, nil
}

func (p *Plane) listMessages(w http.ResponseWriter, r *http.Request) {
	f, err := filter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	list, _, _ := p.messages.find(f)
	writeJSON(w, http.StatusOK, map[string]any{"messages": list})
}

func (p *Plane) clearMessages(w http.ResponseWriter, r *http.Request) {
	p.messages.clear(r.URL.Query().Get("account"))
	w.WriteHeader(http.StatusNoContent)
}

// noWriteDeadline lifts the server's write timeout for a response that
// waits (a long poll, a stream).
func noWriteDeadline(w http.ResponseWriter) {
	http.NewResponseController(w).SetWriteDeadline(time.Time{})
}

func (p *Plane) latestMessage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := filter(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		if wait, err = time.ParseDuration(v); err != nil || wait < 0 || wait > MaxWait {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("wait must be a duration from 0 to %s, such as 5s", MaxWait))
			return
		}
	}
	if wait > 0 {
		noWriteDeadline(w)
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	m, ok := p.messages.latest(ctx, f)
	if !ok {
		writeError(w, http.StatusNotFound, "no message matches")
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// streamMessages sends messages as server-sent events as they are
// delivered: "event: message" with the message as data and its id, and
// "event: clear" when the list is cleared (or reset). With after (or a
// Last-Event-ID header) it first sends the messages after that id.
func (p *Plane) streamMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("after") == "" && r.Header.Get("Last-Event-ID") != "" {
		q.Set("after", r.Header.Get("Last-Event-ID"))
	}
	replay := q.Get("after") != ""
	f, err := filter(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	f.Limit = 0
	noWriteDeadline(w)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	found, changed, cleared := p.messages.find(f)
	if !replay {
		if len(found) > 0 {
			f.After, _ = strconv.ParseInt(found[len(found)-1].ID, 10, 64)
		}
		found = nil
	}
	fmt.Fprint(w, ": verifyfn messages\n\n")
	ticker := time.NewTicker(keepAlive)
	defer ticker.Stop()
	for {
		for _, m := range found {
			b, _ := json.Marshal(m)
			fmt.Fprintf(w, "id: %s\nevent: message\ndata: %s\n\n", m.ID, b)
			f.After, _ = strconv.ParseInt(m.ID, 10, 64)
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-ticker.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case <-changed:
		}
		var c int64
		found, changed, c = p.messages.find(f)
		if c != cleared {
			cleared = c
			fmt.Fprint(w, "event: clear\ndata: {}\n\n")
		}
	}
}

// resetRequest is the body of POST /_verifyfn/reset.
type resetRequest struct {
	Account string `json:"account"`
}

func (p *Plane) reset(w http.ResponseWriter, r *http.Request) {
	var req resetRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if p.cfg.Store == nil {
		writeError(w, http.StatusConflict, "this store cannot be reset")
		return
	}
	if err := p.cfg.Store.Reset(r.Context(), req.Account); err != nil {
		p.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "control: reset failed", slog.String("error", err.Error()))
		writeError(w, http.StatusServiceUnavailable, "the store could not be reset; see the server log")
		return
	}
	p.messages.clear(req.Account)
	p.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "control: reset", slog.String("account", req.Account))
	w.WriteHeader(http.StatusNoContent)
}

// Clock is the answer of the clock endpoints.
type Clock struct {
	Now    time.Time `json:"now"`
	Offset Duration  `json:"offset"`
}

func (p *Plane) clock(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, Clock{Now: p.Now().UTC(), Offset: Duration(p.Offset())})
}

func (p *Plane) stateFailed(w http.ResponseWriter, r *http.Request, err error) {
	p.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "control: shared state failed", slog.String("error", err.Error()))
	writeError(w, http.StatusServiceUnavailable, "the shared state could not be read or written; see the server log")
}

func (p *Plane) getClock(w http.ResponseWriter, r *http.Request) {
	snap, err := p.cfg.State.Load(r.Context())
	if err != nil {
		p.stateFailed(w, r, err)
		return
	}
	p.offset.Store(int64(snap.Offset))
	p.clock(w)
}

// advanceRequest is the body of POST /_verifyfn/clock.
type advanceRequest struct {
	Advance Duration `json:"advance"`
}

func (p *Plane) advanceClock(w http.ResponseWriter, r *http.Request) {
	var req advanceRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.Advance <= 0 {
		writeError(w, http.StatusBadRequest, `advance must be a positive duration such as "11m": the clock only moves forward (DELETE returns to real time)`)
		return
	}
	offset, err := p.cfg.State.Advance(r.Context(), time.Duration(req.Advance))
	if err != nil {
		p.stateFailed(w, r, err)
		return
	}
	p.offset.Store(int64(offset))
	p.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "control: clock advanced", slog.String("by", time.Duration(req.Advance).String()),
		slog.String("offset", offset.String()))
	p.clock(w)
}

func (p *Plane) resetClock(w http.ResponseWriter, r *http.Request) {
	if err := p.cfg.State.ResetClock(r.Context()); err != nil {
		p.stateFailed(w, r, err)
		return
	}
	p.offset.Store(0)
	p.clock(w)
}

func (p *Plane) listFaults(w http.ResponseWriter, r *http.Request) {
	snap, err := p.cfg.State.Load(r.Context())
	if err != nil {
		p.stateFailed(w, r, err)
		return
	}
	faults := snap.Faults
	if faults == nil {
		faults = []Fault{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"faults": faults})
}

func (p *Plane) addFault(w http.ResponseWriter, r *http.Request) {
	var req FaultRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	f, err := p.fault(req)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if f, err = p.cfg.State.AddFault(r.Context(), f); err != nil {
		p.stateFailed(w, r, err)
		return
	}
	p.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "control: fault added", slog.String("fault", f.ID),
		slog.String("service", f.Service), slog.String("action", f.Action), slog.String("code", f.Code), slog.String("delivery", f.Delivery), slog.Int("count", f.Count))
	writeJSON(w, http.StatusCreated, f)
}

func (p *Plane) clearFaults(w http.ResponseWriter, r *http.Request) {
	if err := p.cfg.State.ClearFaults(r.Context()); err != nil {
		p.stateFailed(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ActionInfo is an action as GET /_verifyfn/actions lists it.
type ActionInfo struct {
	Service  string      `json:"service"`
	Action   string      `json:"action"`
	Delivers bool        `json:"delivers"`
	Codes    []ErrorInfo `json:"codes"`
}

// ErrorInfo is a documented error: what a fault with that code answers.
type ErrorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (p *Plane) listActions(w http.ResponseWriter, r *http.Request) {
	out := []ActionInfo{}
	for _, a := range p.actions.Load().list {
		info := ActionInfo{Service: a.Service, Action: a.Action, Delivers: a.Delivers, Codes: []ErrorInfo{}}
		for _, e := range a.Documented {
			info.Codes = append(info.Codes, ErrorInfo{Code: e.Code, Message: e.Message})
		}
		out = append(out, info)
	}
	writeJSON(w, http.StatusOK, map[string]any{"actions": out})
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}
