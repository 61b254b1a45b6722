package layout

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/verifyfn/verifyfn"

// pkg is what `go list -json` says of a package.
type pkg struct {
	ImportPath string
	Deps       []string
}

// list runs `go list -deps=false -json` for the patterns, from the module root.
func list(t *testing.T, patterns ...string) []pkg {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-json"}, patterns...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", patterns, err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestProductDoesNotImportTooling: what a function runs (its binary's whole
// import graph) and every product package under shared/ stay clear of the
// tooling under internal/ (load generator, test harness, SDK clients, chart).
func TestProductDoesNotImportTooling(t *testing.T) {
	pkgs := list(t, "./functions/...", "./shared/...")
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, p := range pkgs {
		for _, d := range p.Deps {
			if strings.HasPrefix(d, module+"/internal/") {
				t.Errorf("%s depends on the tooling package %s", p.ImportPath, d)
			}
		}
	}
}
