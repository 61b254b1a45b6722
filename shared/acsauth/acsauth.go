// Package acsauth computes and checks Alibaba Cloud OpenAPI (POP) request
// signatures on the server side, as sent by the official SDKs:
//
//   - V3, "ACS3-HMAC-SHA256": the default of darabonba-openapi/v2. The
//     signature covers the method, the query, the signed headers (always
//     host and the x-acs-* headers, content-type when a body is sent) and the
//     SHA-256 of the body, and travels in the Authorization header.
//   - The legacy RPC signature (SignatureMethod HMAC-SHA1, SignatureVersion
//     1.0): darabonba-openapi with Config.SignatureAlgorithm "v2", and
//     aliyun/alibaba-cloud-sdk-go. It covers every query and form parameter
//     except Signature, and travels in the Signature parameter.
//
// The functions are pure: the HTTP front door extracts what arrived (method,
// decoded query and form parameters, headers, host, body hash), calls them,
// and maps the errors to API error codes. Checking the timestamp, the nonce
// and which headers must be signed is left to the caller. Signatures are
// compared in constant time over their decoded bytes.
//
// The signing helpers (SignACS3Request, ACS3Request, SignRPC, RPCRequest)
// produce requests that the verifiers accept, for tests and load generators.
package acsauth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// Names and constants of the Alibaba Cloud OpenAPI signature protocols.
const (
	// AlgorithmACS3HMACSHA256 is the only V3 algorithm this package checks.
	AlgorithmACS3HMACSHA256 = "ACS3-HMAC-SHA256"

	// EmptyPayloadHash is the lowercase hex SHA-256 of an empty body, which the
	// V3 SDK sends in x-acs-content-sha256 for a request without a body.
	EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	// TimestampLayout is the time layout of x-acs-date (V3) and of the
	// Timestamp parameter (RPC): ISO 8601 in UTC, second precision.
	TimestampLayout = "2006-01-02T15:04:05Z"

	// RPCSignatureMethod is the SignatureMethod parameter of the RPC signature.
	RPCSignatureMethod = "HMAC-SHA1"
	// RPCSignatureVersion is the SignatureVersion parameter of the RPC signature.
	RPCSignatureVersion = "1.0"

	// MaxSignedHeaders bounds the SignedHeaders list of a V3 Authorization
	// header; longer lists are rejected as malformed.
	MaxSignedHeaders = 64
)

// Lowercase names of the V3 headers sent by darabonba-openapi.
const (
	HeaderAuthorization = "authorization"
	HeaderHost          = "host"
	HeaderContentType   = "content-type"
	HeaderAction        = "x-acs-action"
	HeaderVersion       = "x-acs-version"
	HeaderDate          = "x-acs-date"
	HeaderNonce         = "x-acs-signature-nonce"
	HeaderContentSHA256 = "x-acs-content-sha256"
	HeaderSecurityToken = "x-acs-security-token"
	HeaderAccessKeyID   = "x-acs-accesskey-id"
)

// Errors returned by the parsers and verifiers. Match them with errors.Is.
var (
	// ErrMalformed reports an Authorization header that is not of the form
	// "ACS3-HMAC-SHA256 Credential=<AK>,SignedHeaders=<h1;h2>,Signature=<hex>".
	ErrMalformed = errors.New("acsauth: malformed ACS3 Authorization header")

	// ErrUnsupportedAlgorithm reports a well-formed V3 header naming another
	// ACS3 algorithm (such as ACS3-HMAC-SM3 or ACS3-RSA-SHA256).
	// errors.Is(ErrUnsupportedAlgorithm, ErrMalformed) holds.
	ErrUnsupportedAlgorithm = fmt.Errorf("%w: unsupported algorithm", ErrMalformed)

	// ErrSignatureMismatch reports a signature that differs from the one
	// computed with the secret, or that cannot be decoded.
	ErrSignatureMismatch = errors.New("acsauth: signature does not match")

	// ErrMissingSignature reports an RPC request without a Signature parameter.
	ErrMissingSignature = errors.New("acsauth: missing Signature parameter")
)

// HashPayload returns the lowercase hex SHA-256 of body: the HashedPayload
// of the V3 canonical request and the value of x-acs-content-sha256.
func HashPayload(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}
