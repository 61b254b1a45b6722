// Package app assembles what every verifyfn function runs from a
// configuration: accounts, store, verification-code engine and delivery. The
// front door and its services come from Options.Front, so that a function
// links only its own: package tencentapp and alibabaapp build the two front
// doors, fn/<function> wires one function, and package all wires every
// service on one port (the local binary and the tests). Tests build the same
// stack with injected time, randomness and senders.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/control"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/setup"
	"github.com/verifyfn/verifyfn/shared/metrics"
	"github.com/verifyfn/verifyfn/shared/otp"
	"github.com/verifyfn/verifyfn/shared/password"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/storeopen"
)

// Options inject what tests and functions need to control. Zero fields take
// production defaults.
type Options struct {
	Logger   *slog.Logger
	Now      func() time.Time
	Rand     io.Reader
	Sender   delivery.Sender    // default: the outbox file named in the config
	Accounts *accounts.Registry // default: loaded from the config (or the development account)
	Services map[string]bool    // serve only these services (default: all); read by package all
	Store    Store              // default: opened from cfg.Store (VERIFYFN_STORE) and closed by Close
	// Public is true when the app is reachable beyond loopback whatever
	// cfg.Addr says (a cloud platform behind its gateway).
	Public bool
	// Passwords hashes account passwords (default: OWASP's argon2id
	// parameters, GOMAXPROCS hashes at a time). Only tests set it, to a
	// hasher with password.TestOnly parameters where the strength of the
	// hash is not under test; no configuration setting weakens it.
	Passwords *password.Hasher
	// Prices prices messages for the fraud guard's budgets (default: the
	// delivery configuration's prices; with Sender set,
	// delivery.DefaultPrices).
	Prices setup.Pricer
	// EngineNow is the clock of the engine, the limits and the embedded
	// stores (codes, cooldowns, windows, the fraud guard's windows and
	// budgets); default Now, or the test kit's clock. Tests and the pumping
	// simulation move it apart from the clock signatures are checked
	// against.
	EngineNow func() time.Time
	// OnGuardRefusal is called for every send the fraud guard refuses,
	// with its reason and the number's ISO region; with Metrics set they are
	// counted too (verifyfn_guard_refusals_total).
	OnGuardRefusal func(reason, country string)
	// Metrics, if not nil, counts requests, messages, checks and store
	// operations (see package metrics); nil counts nothing.
	Metrics *metrics.Metrics
	// Front builds the front door and its services from the parts New
	// assembled (required): a function's own (fn/<function>.Front) or every
	// service (all.Front).
	Front FrontDoor
}

// ConfigError is a configuration that cannot be served: a malformed file
// (with its name and line), a bad value, or a documented example credential
// exposed beyond loopback. Commands exit with status 2 on it.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

func configError(err error) error {
	if err == nil {
		return nil
	}
	return &ConfigError{Err: err}
}

// exposed reports whether the app is reachable beyond loopback or runs in an
// environment meant for real users.
func exposed(cfg config.Config, opt Options) bool {
	return opt.Public || !config.Loopback(cfg.Addr) || cfg.Env == "staging" || cfg.Env == "production"
}

// Store is everything the services need from a store.
type Store interface {
	otp.Store
	Allow(ctx context.Context, r store.Rate, now time.Time) (bool, error)
	Claim(ctx context.Context, key string, ttl time.Duration, now time.Time) (bool, error)
	Get(ctx context.Context, coll, key string) ([]byte, bool, error)
	List(ctx context.Context, coll string, offset, limit int) ([]store.Record, int, error)
	Apply(ctx context.Context, ops []store.Op) (int, error)
	Reset(ctx context.Context, account string) error // the test kit's control plane
}

// App is an assembled verifyfn.
type App struct {
	Handler  http.Handler
	Store    Store
	Accounts *accounts.Registry
	// DevAccount is true when the built-in development account is in use.
	DevAccount bool
	// Control is the test kit's control plane, nil when it is off.
	Control *control.Plane
	// Metrics are Options.Metrics (nil when none).
	Metrics  *metrics.Metrics
	observed *metrics.ObservedStore // the store as the app uses it, measured
	sender   delivery.Sender
	closers  []io.Closer
}

// New assembles verifyfn.
func New(cfg config.Config, opt Options) (*App, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	if opt.Front == nil {
		return nil, errors.New("app: Options.Front is required: the function's front door and services (or all.Front)")
	}
	a := &App{}
	built := false
	defer func() {
		if !built { // release what was opened (a store file's lock, the outbox)
			a.Close()
		}
	}()
	reg := opt.Accounts
	switch {
	case reg != nil:
	case cfg.AccountsFile != "":
		r, err := accounts.Load(cfg.AccountsFile, os.LookupEnv)
		if err != nil {
			return nil, configError(err)
		}
		reg = r
	case cfg.AccountsYAML != "":
		r, err := accounts.Parse("VERIFYFN_ACCOUNTS_YAML", []byte(cfg.AccountsYAML), os.LookupEnv)
		if err != nil {
			return nil, configError(err)
		}
		reg = r
	default:
		reg, a.DevAccount = accounts.Dev(), true
	}
	a.Accounts = reg
	if ids := reg.Documented(); len(ids) > 0 && exposed(cfg, opt) {
		return nil, configError(fmt.Errorf("refusing to serve credential %s with the documented example SecretId or SecretKey "+
			"(printed in the README) beyond loopback (address %s, environment %s): give it its own secret", strings.Join(ids, ", "), cfg.Addr, cfg.Env))
	}

	key := cfg.CodeKey
	if key == nil {
		key = make([]byte, 32)
		if _, err := io.ReadFull(rand.Reader, key); err != nil {
			return nil, err
		}
		opt.Logger.Warn("VERIFYFN_CODE_KEY is not set: using a random key for this process only")
	}

	st := opt.Store
	if st == nil {
		opened, err := storeopen.Open(cfg.Store)
		if err != nil {
			return nil, err
		}
		if l, ok := opened.(interface{ UseLogger(*slog.Logger) }); ok {
			l.UseLogger(opt.Logger)
		}
		a.closers = append(a.closers, opened)
		st = opened
	}
	a.Store, a.Metrics = st, opt.Metrics
	// now is the time codes, limits and records see: the test kit's clock
	// when the control plane is on. Signatures are checked against opt.Now.
	now := opt.Now
	if opt.EngineNow != nil {
		now = opt.EngineNow
	}
	ctl := newControl(cfg, opt, st) // the raw store: it resets it and reads its client
	if ctl != nil {
		now = ctl.Now
	}
	a.Control = ctl
	a.observed = opt.Metrics.Store(st) // measures nothing without metrics
	var checked func(family, outcome string)
	var deliveries delivery.Observer
	if m := opt.Metrics; m != nil { // the hooks of package metrics
		st, checked, deliveries = a.observed, m.Checked, m
	}
	// The guard prices messages as the delivery built below does.
	prices := opt.Prices
	var guard otp.Guard
	if !cfg.Guard.Off {
		g, err := newGuard(cfg, reg, func(channel, to string) int64 { return prices(channel, to) }, opt)
		if err != nil {
			return nil, configError(err)
		}
		guard = g
	}
	engine, err := otp.New(st, otp.Config{
		Key: key, TTL: cfg.CodeTTL, MaxAttempts: cfg.MaxAttempts, Cooldown: cfg.Cooldown,
		Windows: cfg.Windows, Now: now, Rand: opt.Rand, FixedCodes: cfg.Delivery.FixedCodes(),
		Checked: checked, Guard: guard,
	})
	if err != nil {
		return nil, configError(err)
	}

	// The control plane records each message as delivered: beneath the
	// templates.
	var record func(delivery.Sender) delivery.Sender
	if ctl != nil {
		provider := ""
		if opt.Sender == nil && !cfg.Delivery.Configured() {
			provider = "outbox"
		}
		record = func(s delivery.Sender) delivery.Sender { return ctl.Sender(s, provider) }
	}
	sender := opt.Sender
	if sender == nil {
		s, pr, closer, err := setup.NewPriced(cfg, setup.Options{Logger: opt.Logger, Now: now, Wrap: record, Observer: deliveries})
		if err != nil {
			return nil, configError(err)
		}
		a.closers = append(a.closers, closer)
		sender = s
		if prices == nil {
			prices = pr
		}
	} else {
		sender = delivery.Observed(sender, "custom", deliveries)
		if record != nil {
			sender = record(sender)
		}
	}
	a.sender = sender
	if prices == nil {
		prices = setup.Fixed(delivery.DefaultPrices)
	}

	front, err := opt.Front(Parts{Config: cfg, Options: opt, Now: now, Accounts: reg, Store: st, Engine: engine, Sender: sender, Control: ctl})
	if err != nil {
		return nil, err
	}
	a.Handler = front.Handler
	if ctl != nil {
		ctl.SetActions(front.Actions)
		a.Handler = ctl.Handler(a.Handler)
	} else {
		a.Handler = control.Off(a.Handler)
	}
	built = true
	return a, nil
}

// Close releases the files and the store the app opened.
func (a *App) Close() error {
	var errs []error
	for _, c := range a.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Serve listens on addr and serves h until ctx is cancelled, then shuts down
// gracefully (in-flight requests get up to 10 s). ready, if not nil, receives
// the bound address once listening.
func Serve(ctx context.Context, addr string, h http.Handler, logger *slog.Logger, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
