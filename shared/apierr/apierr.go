// Package apierr is the error type every API answers with: a documented code
// and a message that is safe to show a caller. The cause, which may hold
// internal detail, is kept for logs and never written to a response.
package apierr

import "errors"

// Error is a documented API error.
type Error struct {
	Code    string // the documented error code, e.g. "FailedOperation.SendVerifyCodeLimit60"
	Message string // safe for callers; never holds secrets, codes or full phone numbers
	cause   error
}

// New returns an error with a documented code and a safe message.
func New(code, message string) *Error { return &Error{Code: code, Message: message} }

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.cause }

// Wrap returns a copy of e that carries cause for the logs.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// Cause returns the wrapped cause, or nil.
func (e *Error) Cause() error { return e.cause }

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
