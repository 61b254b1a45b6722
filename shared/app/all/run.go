package all

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/metrics"
	"github.com/verifyfn/verifyfn/shared/store/storeopen"
)

// RunServer builds the app for cfg (only the named services when services is
// not nil) and serves it on cfg.Addr until ctx ends, with its metrics and
// health checks on cfg.MetricsAddr (DefaultMetricsAddr when unset, where a
// port already in use is only warned about; "off" for none). It refuses the
// built-in development account on a non-loopback address. It returns a
// process exit code and writes problems to stderr.
//
// Its log and messages go to stderr through an app.LogBuffer (a line waits
// at most 100 ms), flushed once it listens and when it returns.
func RunServer(ctx context.Context, cfg config.Config, services map[string]bool, stderr io.Writer) int {
	lb := app.NewLogBuffer(stderr, 100*time.Millisecond)
	defer lb.Close()
	stderr = lb
	logger := app.NewLogger(stderr, cfg.LogLevel)
	storeopen.SetLogger(logger)
	if cfg.AccountsFile == "" && cfg.AccountsYAML == "" && !config.Loopback(cfg.Addr) {
		fmt.Fprintf(stderr, "verifyfn: refusing to serve the built-in development account on non-loopback address %s; set VERIFYFN_ACCOUNTS\n", cfg.Addr)
		return 2
	}
	metricsAddr, optional := cfg.MetricsAddr, cfg.MetricsAddr == ""
	if optional {
		metricsAddr = app.DefaultMetricsAddr
	}
	var m *metrics.Metrics
	if metricsAddr != app.MetricsOff {
		m = metrics.New(metrics.Options{})
	}
	a, err := New(cfg, app.Options{Logger: logger, Services: services, Metrics: m})
	if err != nil {
		fmt.Fprintf(stderr, "verifyfn: %v\n", err)
		if errors.As(err, new(*app.ConfigError)) {
			return 2
		}
		return 1
	}
	defer a.Close()
	var metricsAt net.Addr
	if m != nil {
		mctx, stop := context.WithCancel(ctx)
		at, wait, err := app.ServeMetrics(mctx, metricsAddr, a.MetricsHandler(logger), logger)
		switch {
		case err == nil:
			metricsAt = at
			defer func() { stop(); wait() }()
		case optional:
			stop()
			logger.Warn("no metrics listener: set VERIFYFN_METRICS_ADDR to another address, or off",
				slog.String("addr", metricsAddr), slog.String("error", err.Error()))
		default:
			stop()
			fmt.Fprintf(stderr, "verifyfn: VERIFYFN_METRICS_ADDR=%s: %v\n", metricsAddr, err)
			return 1
		}
	}
	err = app.Serve(ctx, cfg.Addr, a.Handler, logger, func(addr net.Addr) {
		delivery := slog.String("outbox", cfg.Outbox)
		if cfg.Delivery.Configured() {
			delivery = slog.String("delivery", or(cfg.Delivery.File, "VERIFYFN_DELIVERY_YAML"))
		}
		attrs := []any{slog.String("addr", addr.String()), delivery, slog.String("store", storeopen.Redact(cfg.Store)),
			slog.Bool("control", a.Control != nil)}
		if metricsAt != nil {
			attrs = append(attrs, slog.String("metrics", metricsAt.String()))
		}
		logger.Info("listening", attrs...)
		if a.DevAccount {
			fmt.Fprintf(stderr, "verifyfn: no accounts file; using the local development account\n"+
				"  account:   %s\n  SecretId:  %s\n  SecretKey: %s\n  endpoint:  %s (scheme http)\n",
				accounts.DevAccountID, accounts.DevSecretID, accounts.DevSecretKey, addr)
			if a.Control != nil {
				fmt.Fprintf(stderr, "  control:   http://%s/_verifyfn/ (docs/testing.md)\n", addr)
			}
		}
		lb.Flush()
	})
	if err != nil {
		fmt.Fprintf(stderr, "verifyfn: %v\n", err)
		return 1
	}
	return 0
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
