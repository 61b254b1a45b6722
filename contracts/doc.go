//go:build contract

// Package contracts holds verifyfn's consumer-driven contracts (Pact V4).
//
// The consumer tests drive a Pact mock server with the official SDK clients
// (tencentcloud-sdk-go's common client for the Tencent APIs, darabonba for
// Alibaba's), one interaction per documented request example, response and
// error code, and write the pacts to contracts/pacts. The provider tests
// replay every pact naming a function (sendsms, sendverify, verifycontact,
// chatappcode) against the real stack on a real port: provider states seed
// the store through the real handlers, and a request filter signs each
// replayed request, because a signature cannot be pinned in a pact.
//
// Every file carries the build tag "contract": the package links
// libpact_ffi through cgo, so it builds only under `make contract`, and a
// plain `go test ./...` and the function binaries never need cgo.
package contracts
