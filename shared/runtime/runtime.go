// Package runtime runs one verifyfn function wherever it was deployed. Start
// picks the adapter from the environment:
//
//   - AWS_LAMBDA_RUNTIME_API set: AWS Lambda (package awslambda), for API
//     Gateway REST and HTTP APIs and function URLs;
//   - _LAMBDA_SERVER_PORT set: a Tencent SCF event function on the Go1
//     runtime (package scf), for API Gateway triggers; binaries built with
//     -tags lambda.norpc (the Lambda artifacts) leave this adapter and
//     net/rpc out, which saves cold-start time on Lambda;
//   - otherwise plain HTTP on VERIFYFN_ADDR with graceful shutdown on SIGINT
//     and SIGTERM: a local run, a container, or an SCF web function (which
//     SCF starts through scf_bootstrap and reaches on port 9000).
//
// Main is a function's whole main: it reads the configuration, builds the
// app and starts it. On a cloud platform a bad configuration never crashes
// the process (that would be a crash loop with no message); the function
// starts anyway and answers every request with an InternalError envelope and
// one log line naming the cause. Locally it exits with the message instead.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/metrics"
	"github.com/verifyfn/verifyfn/shared/runtime/awslambda"
	"github.com/verifyfn/verifyfn/shared/runtime/internal/httpevent"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// DomainHeader carries the gateway event's domain field (API Gateway
// requestContext.domainName). Only the Lambda adapter sets it, after dropping
// any value a client sent; configure VERIFYFN_TRUSTED_HOST_HEADER with this
// name to verify signatures against the event's domain instead of its Host.
const DomainHeader = httpevent.DomainHeader

// Platform is where the process runs.
type Platform int

// Platforms.
const (
	Auto   Platform = iota // Start: detect from the environment
	HTTP                   // plain HTTP: local, container, SCF web function
	Lambda                 // AWS Lambda Runtime API
	SCF                    // Tencent SCF event function (scf-go-lib net/rpc)
)

func (p Platform) String() string {
	switch p {
	case Lambda:
		return "lambda"
	case SCF:
		return "scf"
	case HTTP:
		return "http"
	}
	return "auto"
}

// Detect returns the platform the environment describes.
func Detect(getenv func(string) string) Platform {
	switch {
	case getenv("AWS_LAMBDA_RUNTIME_API") != "":
		return Lambda
	case getenv("_LAMBDA_SERVER_PORT") != "":
		return SCF
	}
	return HTTP
}

// Cloud reports whether the process runs on a serverless platform: Lambda,
// an SCF event function, or an SCF web function (TENCENTCLOUD_RUNENV=SCF).
func Cloud(getenv func(string) string) bool {
	return Detect(getenv) != HTTP || getenv("TENCENTCLOUD_RUNENV") == "SCF"
}

// Options configure Start.
type Options struct {
	Platform Platform     // Auto (the zero value): Detect(os.Getenv)
	Addr     string       // HTTP: listen address, default 127.0.0.1:9000
	Logger   *slog.Logger // HTTP: server errors; default discard
	// Ready, if not nil, is called once the HTTP server listens.
	Ready func(net.Addr)
	// Context ends the HTTP server (default: until SIGINT or SIGTERM).
	Context context.Context
	// AfterInvoke, if not nil, runs once after each Lambda invocation
	// (metrics as EMF lines).
	AfterInvoke func(ctx context.Context)
}

// Start serves h on the platform. Under Lambda and SCF it never returns. In
// HTTP mode it serves until SIGINT or SIGTERM (or Options.Context ends), shuts
// down gracefully and returns nil, or returns the listen error.
func Start(h http.Handler, o Options) error {
	if o.Platform == Auto {
		o.Platform = Detect(os.Getenv)
	}
	switch o.Platform {
	case Lambda:
		awslambda.Start(h, awslambda.Options{AfterInvoke: o.AfterInvoke})
	case SCF:
		startSCF(h)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:9000"
	}
	ctx := o.Context
	if ctx == nil {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	return app.Serve(ctx, o.Addr, h, o.Logger, o.Ready)
}

// Function is one serverless function.
type Function struct {
	// Name names the function in messages ("sendverify").
	Name string
	// New builds the app from the configuration; o carries the logger.
	New func(cfg config.Config, o app.Options) (*app.App, error)
	// Unavailable answers every request when the configuration is bad on a
	// cloud platform. Default: tcapi.Unavailable (the Tencent envelope).
	Unavailable func(cause error, logger *slog.Logger) http.Handler
}

// Main reads the configuration from the environment, builds the app and
// serves it with Start. It returns the process exit code: 2 for a bad
// configuration in a local run, 1 if the HTTP server fails, 0 after a
// graceful shutdown. Under Lambda and SCF it does not return.
func Main(f Function) int {
	ctx := context.Background()
	if Detect(os.Getenv) == HTTP {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	return f.run(ctx, os.Getenv, os.Stderr, nil)
}

// run is Main with its environment injected: ctx ends the HTTP server, ready
// (if not nil) receives its address.
func (f Function) run(ctx context.Context, getenv func(string) string, stderr io.Writer, ready func(net.Addr)) int {
	platform, cloud := Detect(getenv), Cloud(getenv)
	cfg, err := config.FromEnv(getenv)
	logger := app.NewLogger(stderr, cfg.LogLevel)
	if err == nil {
		err = check(cfg, cloud)
	}
	m := newMetrics(platform, cfg)
	var a *app.App
	if err == nil {
		a, err = f.New(cfg, app.Options{Logger: logger, Public: cloud, Metrics: m})
	}
	var h http.Handler
	switch {
	case err == nil:
		defer a.Close()
		h = a.Handler
	case cloud:
		unavailable := f.Unavailable
		if unavailable == nil {
			unavailable = tcapi.Unavailable
		}
		h = unavailable(err, logger)
	default:
		fmt.Fprintf(stderr, "%s: %v\n", f.Name, err)
		return 2
	}
	o := Options{Platform: platform, Addr: cfg.Addr, Logger: logger, Context: ctx}
	if platform == Lambda && m != nil {
		o.AfterInvoke = func(context.Context) { m.WriteEMF(os.Stdout, time.Now()) }
	}
	if platform == HTTP && m != nil && a != nil {
		mctx, stop := context.WithCancel(ctx)
		at, wait, err := app.ServeMetrics(mctx, cfg.MetricsAddr, a.MetricsHandler(logger), logger)
		if err != nil {
			stop()
			fmt.Fprintf(stderr, "%s: VERIFYFN_METRICS_ADDR=%s: %v\n", f.Name, cfg.MetricsAddr, err)
			return 1
		}
		defer func() { stop(); wait() }()
		logger.Info("metrics listening", "function", f.Name, "addr", at.String())
	}
	o.Ready = func(addr net.Addr) {
		logger.Info("listening", "function", f.Name, "addr", addr.String(), "platform", platform.String())
		if a != nil && a.DevAccount {
			fmt.Fprintf(stderr, "%s: no accounts configured; using the local development account\n"+
				"  account:   %s\n  SecretId:  %s\n  SecretKey: %s\n  endpoint:  %s (scheme http)\n",
				f.Name, accounts.DevAccountID, accounts.DevSecretID, accounts.DevSecretKey, addr)
		}
		if ready != nil {
			ready(addr)
		}
	}
	if err := Start(h, o); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", f.Name, err)
		return 1
	}
	return 0
}

// newMetrics returns the metrics a function keeps on its platform: CloudWatch
// EMF lines on Lambda (unless VERIFYFN_METRICS_ADDR is off), a Prometheus
// listener over plain HTTP when VERIFYFN_METRICS_ADDR is set, none on an SCF
// event function (whose request log lines are what it has).
func newMetrics(p Platform, cfg config.Config) *metrics.Metrics {
	switch {
	case cfg.MetricsAddr == app.MetricsOff:
	case p == Lambda:
		return metrics.New(metrics.Options{EMF: true})
	case p == HTTP && cfg.MetricsAddr != "":
		return metrics.New(metrics.Options{})
	}
	return nil
}

// check refuses configurations that are only fit for a local run: the
// well-known development account anywhere but on loopback, and, on a cloud
// platform, a per-process random code key (instances could not check each
// other's codes).
func check(cfg config.Config, cloud bool) error {
	var errs []error
	noAccounts := cfg.AccountsFile == "" && cfg.AccountsYAML == ""
	if cloud {
		if noAccounts {
			errs = append(errs, errors.New("no accounts configured: set VERIFYFN_ACCOUNTS (a file in the package) or VERIFYFN_ACCOUNTS_YAML; "+
				"the built-in development account is refused on a cloud platform"))
		}
		if cfg.CodeKey == nil {
			errs = append(errs, errors.New("VERIFYFN_CODE_KEY is required on a cloud platform: every instance must use the same key"))
		}
	} else if noAccounts && !config.Loopback(cfg.Addr) {
		errs = append(errs, fmt.Errorf("refusing to serve the built-in development account on non-loopback address %s; set VERIFYFN_ACCOUNTS", cfg.Addr))
	}
	return errors.Join(errs...)
}
