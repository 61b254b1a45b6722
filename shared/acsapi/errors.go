package acsapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/store"
)

// The Alibaba Cloud OpenAPI gateway error codes that verifyfn answers with.
const (
	CodeInvalidAccessKeyIDNotFound  = "InvalidAccessKeyId.NotFound"
	CodeIncompleteSignature         = "IncompleteSignature"
	CodeSignatureDoesNotMatch       = "SignatureDoesNotMatch"
	CodeInvalidSignatureMethod      = "InvalidSignatureMethod"
	CodeInvalidTimeStampExpired     = "InvalidTimeStamp.Expired"
	CodeInvalidTimeStampFormat      = "InvalidTimeStamp.Format"
	CodeSignatureNonceUsed          = "SignatureNonceUsed"
	CodeInvalidSecurityTokenMalform = "InvalidSecurityToken.Malformed"
	CodeMissingParameter            = "MissingParameter"
	CodeInvalidParameter            = "InvalidParameter"
	CodeInvalidActionNotFound       = "InvalidAction.NotFound"
	CodeInvalidVersion              = "InvalidVersion"
	CodeUnsupportedHTTPMethod       = "UnsupportedHTTPMethod"
	CodeRequestTooLarge             = "RequestTooLarge"
	CodeForbiddenRAM                = "Forbidden.RAM"
	CodeForbiddenNotSubscribed      = "Forbidden.NotSubscribed"
	CodeThrottlingUser              = "Throttling.User"
	CodeInternalError               = "InternalError"
	CodeServiceUnavailable          = "ServiceUnavailable"
)

// Gateway errors with fixed messages (texts as the Alibaba gateway words them
// where it has one).
var (
	ErrAccessKeyNotFound   = apierr.New(CodeInvalidAccessKeyIDNotFound, "Specified access key is not found.")
	ErrIncompleteSignature = apierr.New(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards.")
	ErrSignatureMismatch   = apierr.New(CodeSignatureDoesNotMatch, "Specified signature is not matched with our calculation.")
	ErrSignatureMethod     = apierr.New(CodeInvalidSignatureMethod, "Specified signature method is not valid. Use ACS3-HMAC-SHA256, or HMAC-SHA1 with SignatureVersion 1.0.")
	ErrTimestampExpired    = apierr.New(CodeInvalidTimeStampExpired, "Specified time stamp or date value is expired. It must be within 15 minutes of the server time.")
	ErrTimestampFormat     = apierr.New(CodeInvalidTimeStampFormat, "Specified time stamp or date value is not well formatted. Use UTC yyyy-MM-ddTHH:mm:ssZ.")
	ErrNonceUsed           = apierr.New(CodeSignatureNonceUsed, "Specified signature nonce was used already.")
	ErrSecurityToken       = apierr.New(CodeInvalidSecurityTokenMalform, "Specified SecurityToken is malformed: this service issues no temporary credentials.")
	ErrInvalidAction       = apierr.New(CodeInvalidActionNotFound, "Specified api is not found, please check your url and method.")
	ErrInvalidVersion      = apierr.New(CodeInvalidVersion, "Specified parameter Version is not valid.")
	ErrUnsupportedMethod   = apierr.New(CodeUnsupportedHTTPMethod, "The HTTP method is not supported: use GET or POST.")
	ErrRequestTooLarge     = apierr.New(CodeRequestTooLarge, "The request exceeds the size limit (16 KB body, 32 KB query).")
	ErrTooManyParams       = apierr.New(CodeInvalidParameter, "The request carries too many parameters.")
	ErrInvalidText         = apierr.New(CodeInvalidParameter, "A parameter is not valid UTF-8 text.")
	ErrUnsupportedBody     = apierr.New(CodeInvalidParameter, "The request body must be empty or application/x-www-form-urlencoded.")
	ErrPermissionDenied    = apierr.New(CodeForbiddenRAM, "You are not authorized to perform the operation.")
	ErrNotSubscribed       = apierr.New(CodeForbiddenNotSubscribed, "You have not subscribed to the specified product.")
	ErrThrottled           = apierr.New(CodeThrottlingUser, "Request was denied due to user flow control.")
	ErrInternal            = apierr.New(CodeInternalError, "The request processing has failed due to some unknown error, exception or failure. Retry; if it persists, give the operator the RequestId.")
	ErrServiceUnavailable  = apierr.New(CodeServiceUnavailable, "The request has failed due to a temporary failure of the server. Retry later.")
)

// MissingParameter reports a required parameter (or signature header) that is
// absent. verifyfn uses this one code for every missing parameter and names
// the parameter in the message, as the gateway's generic form does.
func MissingParameter(name string) *apierr.Error {
	return apierr.New(CodeMissingParameter, safeName(name)+" is mandatory for this action.")
}

// InvalidParameter reports a parameter whose value is malformed or not
// allowed.
func InvalidParameter(name string) *apierr.Error {
	return apierr.New(CodeInvalidParameter, "Specified parameter "+safeName(name)+" is not valid.")
}

// statuses maps codes to the HTTP status they are answered with; any other
// code (the services' documented errors included) is HTTP 400.
var statuses = map[string]int{
	CodeInvalidAccessKeyIDNotFound: http.StatusNotFound,
	CodeInvalidActionNotFound:      http.StatusNotFound,
	CodeRequestTooLarge:            http.StatusRequestEntityTooLarge,
	CodeForbiddenRAM:               http.StatusForbidden,
	CodeForbiddenNotSubscribed:     http.StatusForbidden,
	CodeInternalError:              http.StatusInternalServerError,
	CodeServiceUnavailable:         http.StatusServiceUnavailable,
}

// Status returns the HTTP status an error code is answered with: 404, 413,
// 403, 500 or 503 for the gateway codes that have them, 400 otherwise. Only
// InternalError and ServiceUnavailable are 5xx.
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusBadRequest
}

// classify turns any error into the documented error to answer with: an
// *apierr.Error as it is, a store failure as ServiceUnavailable and anything
// else as InternalError (the cause is kept for the log only).
func classify(err error) *apierr.Error {
	if e := apierr.As(err); e != nil {
		return e
	}
	if errors.Is(err, store.ErrUnavailable) {
		return ErrServiceUnavailable.Wrap(err)
	}
	return ErrInternal.Wrap(err)
}

// Unexpected returns the error a handler answers with for a failure it has no
// documented code for: ServiceUnavailable when err is a store failure
// (errors.Is(err, store.ErrUnavailable)), InternalError otherwise. The cause
// goes to the log only.
func Unexpected(err error) *apierr.Error { return classify(err) }

// safeName keeps a caller-supplied parameter name printable in a message.
func safeName(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	for _, c := range s {
		if !(c == '.' || c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "(unprintable name)"
		}
	}
	return s
}

// recommend is the troubleshooting link of an error, in the gateway's form.
func recommend(code, product, id string) string {
	var b strings.Builder
	b.WriteString("https://api.aliyun.com/troubleshoot?q=")
	b.WriteString(code)
	if product != "" {
		b.WriteString("&product=")
		b.WriteString(product)
	}
	b.WriteString("&requestId=")
	b.WriteString(id)
	return b.String()
}

// Common returns the gateway codes every action of a service may answer,
// one value per code, as the service answers them (its Overrides applied),
// in the order of the gateway error table: what the test kit's faults may
// answer besides an action's Documented errors.
func Common(overrides map[*apierr.Error]*apierr.Error) []*apierr.Error {
	common := []*apierr.Error{
		ErrAccessKeyNotFound, ErrIncompleteSignature, ErrSignatureMethod, ErrSignatureMismatch, ErrTimestampExpired,
		ErrTimestampFormat, ErrNonceUsed, ErrSecurityToken,
		apierr.New(CodeMissingParameter, "A required parameter is mandatory for this action."),
		apierr.New(CodeInvalidParameter, "Specified parameter is not valid."),
		ErrInvalidAction, ErrInvalidVersion, ErrUnsupportedMethod, ErrRequestTooLarge,
		ErrPermissionDenied, ErrNotSubscribed, ErrThrottled, ErrInternal, ErrServiceUnavailable,
	}
	out := make([]*apierr.Error, 0, len(common))
	seen := map[string]bool{}
	for _, e := range common {
		if o, ok := overrides[e]; ok {
			e = o
		}
		if !seen[e.Code] {
			seen[e.Code] = true
			out = append(out, e)
		}
	}
	return out
}
