// Package layout holds the tests that keep the module's layout honest: the
// product (shared/, functions/) never imports the test and benchmark tooling
// under internal/, and every relative link in the README and docs/ resolves.
package layout
