// Package control is verifyfn's control plane for tests: JSON endpoints under
// /_verifyfn/ on the same listener as the APIs that let a test read the
// messages verifyfn delivered, start from a clean state, move the clock the
// codes and limits see, and make the APIs answer documented errors on
// purpose. It is what LocalStack's internal endpoints, moto's reset and
// miniredis's FastForward are to their services; see docs/testing.md.
//
// The plane is on when VERIFYFN_ENV is development or test, and in staging
// or production only with VERIFYFN_CONTROL_TOKEN set, which every call must
// then present as "Authorization: Bearer <token>" (On decides). When it is
// off, /_verifyfn/ answers 404 and nothing else changes.
//
// It hooks into the stack at four places, each a named hook of the layer it
// touches, so that the APIs answer as always unless a test asked otherwise:
//
//   - the clock (Now) that the engine, the services, the store operations and
//     the rate limits see: the base clock plus an offset moved by
//     POST /_verifyfn/clock (signatures are still checked against the real
//     time);
//   - the front doors' Intercept hook, which answers a pending fault for the
//     call with the action's documented error before the handler runs, so
//     nothing changes (no code issued, no cooldown, no attempt spent);
//   - the sender (Sender), which records every message delivered and fails a
//     delivery on purpose;
//   - the handler (Handler), which serves /_verifyfn/ and, before every API
//     request, loads the state every instance shares.
//
// Shared state: the clock offset and the pending faults live in a State: in
// this process for the memory and file stores, in Redis (one hash, read once
// per API request) for the Redis store, so that every instance on one Redis
// sees the same clock and faults; a reset goes through the store, so every
// instance sees it too. The message list is per process: each instance lists
// what it delivered (the store keeps codes only as keyed digests, and so
// stays without them).
package control

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/config"
)

// Prefix is the path every control endpoint starts with.
const Prefix = "/_verifyfn/"

// On reports whether the control plane serves for an environment: in
// development and test unless disabled, in staging and production only with
// a token.
func On(env, token string, disabled bool) bool {
	if disabled {
		return false
	}
	switch env {
	case config.EnvStaging, config.EnvProduction:
		return token != ""
	}
	return true
}

// Resetter forgets the state the APIs wrote (store.Store's Reset).
type Resetter interface {
	Reset(ctx context.Context, account string) error
}

// Action is one API action as the control plane knows it: the errors it
// documents (the front door's common codes included, as its service answers
// them; the first value of a code is the one a fault answers) and whether it
// delivers a message.
type Action struct {
	Service, Action string
	Documented      []*apierr.Error
	Delivers        bool
}

// Config wires the control plane.
type Config struct {
	// Token, when set, must be presented by every call as a bearer token.
	Token string
	// Loopback is true when the server listens on loopback only: a call must
	// then name a loopback host (a page of another site that resolves its
	// name to 127.0.0.1 gets no answer).
	Loopback bool
	// Now is the base clock (default time.Now); the plane's Now adds the
	// offset.
	Now func() time.Time
	// Store forgets the APIs' state on reset.
	Store Resetter
	// State keeps the clock offset and the faults (default: in this
	// process; RedisState shares them through Redis).
	State State
	// MaxMessages bounds the message list (default 1000): the oldest go
	// first.
	MaxMessages int
	Logger      *slog.Logger // default: discard
}

// Plane is the control plane of one verifyfn instance.
type Plane struct {
	cfg      Config
	offset   atomic.Int64 // the clock offset, as last loaded or set
	messages *messages
	actions  atomic.Pointer[catalog]
	token    [sha256.Size]byte
}

// New returns a control plane. Set the actions with SetActions before
// serving.
func New(cfg Config) *Plane {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.State == nil {
		cfg.State = NewMemoryState()
	}
	if cfg.MaxMessages <= 0 {
		cfg.MaxMessages = 1000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Plane{cfg: cfg, messages: newMessages(cfg.MaxMessages)}
	p.token = sha256.Sum256([]byte(cfg.Token))
	p.actions.Store(newCatalog(nil))
	return p
}

// SetActions tells the plane every action the front doors serve, with its
// documented errors: what faults may name.
func (p *Plane) SetActions(actions []Action) { p.actions.Store(newCatalog(actions)) }

// Now is the time the engine, the services and the limits see: the base
// clock plus the offset.
func (p *Plane) Now() time.Time { return p.cfg.Now().Add(p.Offset()) }

// Offset is the clock offset as this instance last loaded or set it.
func (p *Plane) Offset() time.Duration { return time.Duration(p.offset.Load()) }

// snapshotKey carries the shared state loaded at the start of a request.
type snapshotKey struct{}

// Handler serves the control endpoints under Prefix and passes every other
// request to api, after loading the shared state (the clock offset and the
// faults) once for it.
func (p *Plane) Handler(api http.Handler) http.Handler {
	ctl := p.routes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isControl(r) {
			ctl.ServeHTTP(w, r)
			return
		}
		snap, err := p.cfg.State.Load(r.Context())
		if err != nil {
			// The API's own store operations will fail or succeed on
			// their own; without the state no fault applies.
			p.cfg.Logger.LogAttrs(r.Context(), slog.LevelWarn, "control: loading the shared state failed", slog.String("error", err.Error()))
		} else {
			p.offset.Store(int64(snap.Offset))
			r = r.WithContext(context.WithValue(r.Context(), snapshotKey{}, snap))
		}
		api.ServeHTTP(w, r)
	})
}

// Off answers 404 under Prefix and passes every other request to api: the
// stack without a control plane.
func Off(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isControl(r) {
			writeError(w, http.StatusNotFound, "not found")
			return
		}
		api.ServeHTTP(w, r)
	})
}

func isControl(r *http.Request) bool {
	return r.URL.Path == strings.TrimSuffix(Prefix, "/") || strings.HasPrefix(r.URL.Path, Prefix)
}

// snapshot is the shared state of a request: the one loaded for it, or the
// current one.
func (p *Plane) snapshot(ctx context.Context) Snapshot {
	if s, ok := ctx.Value(snapshotKey{}).(Snapshot); ok {
		return s
	}
	s, err := p.cfg.State.Load(ctx)
	if err != nil {
		return Snapshot{}
	}
	return s
}

// authorized checks the bearer token in constant time (hashes of equal
// length, whatever the lengths given).
func (p *Plane) authorized(r *http.Request) bool {
	if p.cfg.Token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
	return subtle.ConstantTimeCompare(sum[:], p.token[:]) == 1
}

// errNotFound is a State's answer for a fault that is no longer pending.
var errNotFound = errors.New("control: no such fault")
