package app

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"

	"github.com/verifyfn/verifyfn/shared/metrics"
)

// DefaultMetricsAddr is where RunServer (the local verifyfn) serves its
// metrics and health checks when VERIFYFN_METRICS_ADDR is unset: loopback,
// and not Prometheus's own port 9090.
const DefaultMetricsAddr = "127.0.0.1:9190"

// MetricsOff is the VERIFYFN_METRICS_ADDR that turns the listener off.
const MetricsOff = "off"

// errNoSender is the delivery check's failure when the app has no sender.
var errNoSender = errors.New("no delivery configured")

// Checks are the readiness checks of the metrics listener's /readyz:
// "store", the store answers a ping (measured as store op "ping"), and
// "delivery", the app has a sender (its providers are not called: that
// would send a message).
func (a *App) Checks() []metrics.Check {
	return []metrics.Check{
		{Name: "store", Run: a.observed.Ping},
		{Name: "delivery", Run: func(context.Context) error {
			if a.sender == nil {
				return errNoSender
			}
			return nil
		}},
	}
}

// MetricsHandler serves the app's metrics listener: /metrics, /healthz and
// /readyz with Checks. It is nil when the app has no metrics.
func (a *App) MetricsHandler(logger *slog.Logger) http.Handler {
	if a.Metrics == nil {
		return nil
	}
	return a.Metrics.Handler(logger, a.Checks()...)
}

// ServeMetrics listens on addr and serves h there in the background, with
// Serve's timeouts, until ctx ends. It returns once the listener is bound,
// with its address and a function that waits for the shutdown, or with the
// listen error.
func ServeMetrics(ctx context.Context, addr string, h http.Handler, logger *slog.Logger) (net.Addr, func() error, error) {
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, addr, h, logger, func(a net.Addr) { ready <- a }) }()
	select {
	case at := <-ready:
		return at, func() error { return <-done }, nil
	case err := <-done:
		return nil, nil, err
	}
}
