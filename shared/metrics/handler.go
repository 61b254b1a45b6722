package metrics

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// CheckTimeout bounds each readiness check.
const CheckTimeout = 2 * time.Second

// Check is one readiness check of /readyz.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Readiness is the body of /readyz: "ready" or "unready", and "ok" or
// "failed" per check.
type Readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// Handler serves the metrics listener:
//
//	GET /metrics   the registry, in the Prometheus exposition format
//	GET /healthz   200 while the process serves
//	GET /readyz    200 when every check passes, else 503; the body is a Readiness
//
// A failed check is logged at warn level with its cause; the body only says
// "failed". Other paths are 404, other methods 405.
func (m *Metrics) Handler(logger *slog.Logger, checks ...Check) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		out := Readiness{Status: "ready", Checks: make(map[string]string, len(checks))}
		code := http.StatusOK
		for _, c := range checks {
			ctx, cancel := context.WithTimeout(r.Context(), CheckTimeout)
			err := c.Run(ctx)
			cancel()
			if err != nil {
				out.Status, out.Checks[c.Name], code = "unready", "failed", http.StatusServiceUnavailable
				logger.LogAttrs(r.Context(), slog.LevelWarn, "readiness check failed",
					slog.String("check", c.Name), slog.String("error", err.Error()))
				continue
			}
			out.Checks[c.Name] = "ok"
		}
		writeJSON(w, code, out)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}
