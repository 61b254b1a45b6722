package acsapi

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/verifyfn/verifyfn/shared/apierr"
)

// ErrMisconfigured is answered by Unavailable: the function cannot serve
// because its configuration is wrong. The cause goes to the log only.
var ErrMisconfigured = apierr.New(CodeInternalError, "The service is not configured correctly and cannot serve requests. "+
	"The operator finds the cause in the function log under this RequestId.")

// Unavailable returns a handler for a function whose configuration failed at
// cold start. It answers every request with the gateway's InternalError body
// (HTTP 500, Content-Type application/json, a fresh RequestId) and writes one
// log line per request carrying the cause, so a serverless platform shows a
// clear message instead of a crash loop. cause must hold no secret
// (configuration and accounts errors never do).
func Unavailable(cause error, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	msg := "unavailable"
	if cause != nil {
		msg = cause.Error()
	}
	s := &Server{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		body := s.errorBody(r, nil, ErrMisconfigured, id)
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.WriteHeader(Status(CodeInternalError))
		w.Write(body)
		logger.LogAttrs(r.Context(), slog.LevelError, "configuration error",
			slog.String("request_id", id), slog.String("outcome", CodeInternalError), slog.String("cause", msg))
	})
}
