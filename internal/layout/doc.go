// Package layout holds the tests that keep the module's layout honest: the
// product (shared/, functions/) never imports the test and benchmark tooling
// under internal/; each function links only its own service and front door,
// the delivery providers it was built with and the modules they need, and
// nothing that stops the linker from dropping unused methods; every relative
// link in the README and docs/ resolves, and the examples of the README and
// docs/testing.md run as written.
package layout
