package delivery

import (
	"context"
	"errors"
	"strings"
)

// Redacted replaces a redacted value in an error message.
const Redacted = "[redacted]"

// Redact returns an error whose message is err's with every occurrence of
// the given values (the code, a credential, a token) replaced by
// "[redacted]"; empty values are ignored. Providers pass every error they
// return through it, because the errors of HTTP and SMTP clients can quote a
// URL, a request or a server's answer, and the engine logs delivery errors.
//
// The result does not unwrap to err, whose own chain could print the values;
// errors.Is still reports context.Canceled and context.DeadlineExceeded.
// Redact(nil, ...) is nil.
func Redact(err error, values ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, v := range values {
		if v != "" {
			msg = strings.ReplaceAll(msg, v, Redacted)
		}
	}
	r := &redactedError{msg: msg}
	switch {
	case errors.Is(err, context.Canceled):
		r.kind = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		r.kind = context.DeadlineExceeded
	}
	return r
}

type redactedError struct {
	msg  string
	kind error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Unwrap() error { return e.kind }
