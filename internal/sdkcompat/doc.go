// Package sdkcompat holds golden tests for the official cloud SDKs that
// cannot run here (Python, Java, PHP, .NET, C++ and the CLIs built on them).
// Each test rebuilds one SDK's request byte for byte as that SDK's source
// builds it (canonical request, string to sign, headers, host form, query
// encoding, content type), citing the source lines it follows as
// owner/repo@commit:path#Lnn, sends it as raw HTTP/1.1 to the real verifyfn
// stack booted by internal/apitest, and asserts the documented answer. The
// signers here are written from those sources independently of
// shared/tcauth and shared/acsauth, so a test fails when verifyfn and the SDK
// disagree. docs/compatibility.md summarises the results.
//
// The package has no non-test code.
package sdkcompat
