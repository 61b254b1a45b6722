// Package layout holds the tests that keep the module's layout honest: the
// product (shared/, functions/) never imports the test and benchmark tooling
// under internal/, every relative link in the README and docs/ resolves, and
// the examples of the README and docs/testing.md run as written.
package layout
