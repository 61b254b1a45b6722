// Package hardening holds verifyfn's whole-stack security tests: brute force
// against one code over many parallel connections, uniform responses for
// known and unknown numbers (enumeration), run against the real HTTP stack
// through real TCP. It has no code of its own; see security.md sections 4
// and 6 of the project's reference notes for the requirements they check.
package hardening
