package tcapi

import (
	"fmt"

	"github.com/verifyfn/verifyfn/shared/apierr"
)

// The Tencent Cloud API 3.0 common error codes that verifyfn answers with.
const (
	CodeInvalidAuthorization     = "AuthFailure.InvalidAuthorization"
	CodeSecretIDNotFound         = "AuthFailure.SecretIdNotFound"
	CodeSignatureExpire          = "AuthFailure.SignatureExpire"
	CodeSignatureFailure         = "AuthFailure.SignatureFailure"
	CodeTokenFailure             = "AuthFailure.TokenFailure"
	CodeUnauthorizedOperation    = "AuthFailure.UnauthorizedOperation"
	CodeInvalidAction            = "InvalidAction"
	CodeNoSuchVersion            = "NoSuchVersion"
	CodeMissingParameter         = "MissingParameter"
	CodeInvalidParameter         = "InvalidParameter"
	CodeInvalidParameterValue    = "InvalidParameterValue"
	CodeUnknownParameter         = "UnknownParameter"
	CodeUnsupportedProtocol      = "UnsupportedProtocol"
	CodeRequestSizeLimitExceeded = "RequestSizeLimitExceeded"
	CodeRequestLimitExceeded     = "RequestLimitExceeded"
	CodeInternalError            = "InternalError"
)

// Common errors with fixed messages.
var (
	ErrInvalidAuthorization = apierr.New(CodeInvalidAuthorization, "The Authorization header is missing or malformed. Sign the request with TC3-HMAC-SHA256 or signature v1.")
	ErrSecretIDNotFound     = apierr.New(CodeSecretIDNotFound, "The SecretId is not found, please ensure that your SecretId is correct.")
	ErrSignatureExpire      = apierr.New(CodeSignatureExpire, "Signature expired. Timestamp and server time cannot differ by more than five minutes.")
	ErrSignatureFailure     = apierr.New(CodeSignatureFailure, "The provided credentials could not be validated. Please check your signature is correct.")
	ErrReplay               = apierr.New(CodeSignatureFailure, "The request was already received: its signature was used before.")
	ErrTokenFailure         = apierr.New(CodeTokenFailure, "The token is invalid: this service does not issue temporary credentials.")
	ErrUnauthorized         = apierr.New(CodeUnauthorizedOperation, "The credential is not authorized to perform this operation.")
	ErrNotSubscribed        = apierr.New(CodeUnauthorizedOperation, "The account has not enabled this product.")
	ErrInvalidAction        = apierr.New(CodeInvalidAction, "The action does not exist for this service.")
	ErrNoSuchVersion        = apierr.New(CodeNoSuchVersion, "The API version does not exist for this service.")
	ErrUnsupportedProtocol  = apierr.New(CodeUnsupportedProtocol, "HTTP(S) request protocol error; only GET and POST requests are supported.")
	ErrRequestTooLarge      = apierr.New(CodeRequestSizeLimitExceeded, "The request size exceeds the limit of this action (16 KB body, 32 KB query).")
	ErrRequestLimit         = apierr.New(CodeRequestLimitExceeded, "The request rate exceeds the limit for this action. Please reduce the frequency of calls.")
	ErrInternal             = apierr.New(CodeInternalError, "An internal error occurred. Retry the request; if it persists, contact the service operator with the RequestId.")
	ErrMalformedJSON        = apierr.New(CodeInvalidParameter, "The request body is not a valid JSON object.")
	ErrDuplicateParameter   = apierr.New(CodeInvalidParameter, "A parameter is given more than once.")
	ErrInvalidText          = apierr.New(CodeInvalidParameter, "A parameter is not valid UTF-8 text (or holds a lone surrogate escape).")
	ErrTooManyParams        = apierr.New(CodeInvalidParameter, "The query or form carries too many parameters.")
	ErrMalformedQuery       = apierr.New(CodeInvalidParameter, "The query or form is not valid URL encoding.")
	// ErrReadBody is answered when the body cannot be read.
	ErrReadBody = apierr.New(CodeInternalError, "Failed to read the request body.")
	// ErrNoCredential is answered when a request carries no credential at all.
	ErrNoCredential = apierr.New(CodeInvalidAuthorization, "The request carries no credential. Sign it with TC3-HMAC-SHA256 or signature v1.")
)

// Internal answers an unexpected error (a store failure) with InternalError;
// the cause reaches only the log.
func Internal(err error) error { return ErrInternal.Wrap(err) }

// MissingParameter reports a required parameter that is absent.
func MissingParameter(name string) *apierr.Error {
	return apierr.New(CodeMissingParameter, fmt.Sprintf("The request is missing a required parameter `%s`.", name))
}

// InvalidParameter reports a parameter of the wrong type or form.
func InvalidParameter(name string) *apierr.Error {
	return apierr.New(CodeInvalidParameter, fmt.Sprintf("The parameter `%s` has an invalid type or format.", name))
}

// InvalidParameterValue reports a parameter whose value is not allowed.
func InvalidParameterValue(name string) *apierr.Error {
	return apierr.New(CodeInvalidParameterValue, fmt.Sprintf("The value of parameter `%s` is invalid.", name))
}

// UnknownParameter reports a parameter the action does not define.
func UnknownParameter(name string) *apierr.Error {
	return apierr.New(CodeUnknownParameter, fmt.Sprintf("The parameter `%s` is not defined for this action.", name))
}

// Common returns the common codes every action of a service may answer, one
// value per code, as the service answers them (its Overrides applied), in
// the order of the common error table: what the test kit's faults may
// answer besides an action's Documented errors.
func Common(overrides map[*apierr.Error]*apierr.Error) []*apierr.Error {
	common := []*apierr.Error{
		ErrInvalidAuthorization, ErrSecretIDNotFound, ErrSignatureExpire, ErrSignatureFailure, ErrTokenFailure,
		ErrUnauthorized, ErrInvalidAction, ErrNoSuchVersion,
		apierr.New(CodeMissingParameter, "The request is missing a required parameter."),
		apierr.New(CodeInvalidParameter, "A parameter has an invalid type or format."),
		apierr.New(CodeInvalidParameterValue, "The value of a parameter is invalid."),
		apierr.New(CodeUnknownParameter, "A parameter is not defined for this action."),
		ErrUnsupportedProtocol, ErrRequestTooLarge, ErrRequestLimit, ErrInternal,
	}
	out := make([]*apierr.Error, 0, len(common)+len(overrides))
	seen := map[string]bool{}
	add := func(e *apierr.Error) {
		if !seen[e.Code] {
			seen[e.Code] = true
			out = append(out, e)
		}
	}
	for _, e := range common {
		if o, ok := overrides[e]; ok {
			e = o
		}
		add(e)
	}
	// The codes a service answers for front-door conditions besides these
	// (domain's InternalError.JsonMarshal for a malformed body, ...).
	for _, e := range []*apierr.Error{ErrReadBody, ErrMalformedJSON, ErrDuplicateParameter, ErrInvalidText, ErrTooManyParams, ErrMalformedQuery, ErrNoCredential, ErrNotSubscribed} {
		if o, ok := overrides[e]; ok {
			add(o)
		}
	}
	return out
}
