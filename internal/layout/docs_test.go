package layout

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
)

// root is the module root, relative to this package.
const root = "../.."

// markdownFiles are the README and every document under docs/ and contracts/.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md", "contracts/README.md", "test/node/README.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		rel, _ := filepath.Rel(root, d)
		files = append(files, rel)
	}
	var out []string
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			out = append(out, f)
		}
	}
	return out
}

var (
	linkRE    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	headingRE = regexp.MustCompile("(?m)^#{1,6} +(.+)$")
	fenceRE   = regexp.MustCompile("(?s)```.*?```")
)

// slug is GitHub's anchor for a heading: lower case, punctuation dropped,
// spaces as hyphens.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

func anchors(t *testing.T, file string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range headingRE.FindAllStringSubmatch(fenceRE.ReplaceAllString(string(data), ""), -1) {
		out[slug(m[1])] = true
	}
	return out
}

// TestRelativeLinksResolve: every relative link in the README and docs/
// names a file that exists and, with a #fragment, a heading of that file.
func TestRelativeLinksResolve(t *testing.T) {
	files := markdownFiles(t)
	if len(files) < 8 {
		t.Fatalf("found only %v", files)
	}
	links := 0
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		text := fenceRE.ReplaceAllString(string(data), "")
		for _, m := range linkRE.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			links++
			path, frag, _ := strings.Cut(target, "#")
			dest := f
			if path != "" {
				dest = filepath.Join(filepath.Dir(f), path)
				if _, err := os.Stat(filepath.Join(root, dest)); err != nil {
					t.Errorf("%s: link %q: %s does not exist", f, target, dest)
					continue
				}
			}
			if frag != "" && strings.HasSuffix(dest, ".md") && !anchors(t, dest)[frag] {
				t.Errorf("%s: link %q: %s has no heading #%s", f, target, dest, frag)
			}
		}
	}
	if links < 20 {
		t.Fatalf("only %d relative links found: is the pattern right?", links)
	}
}

// TestReadmeIsShort keeps the README to what a newcomer needs first.
func TestReadmeIsShort(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\n")); n > 200 {
		t.Errorf("README.md has %d lines; keep it under 200 and move the rest to docs/", n)
	}
}

// readmeBlock returns the shell block that follows the marker
// "<!-- readme-test: NAME -->" in the README.
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var block []string
	state := 0 // 0: looking for the marker, 1: for the fence, 2: inside
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case state == 0 && strings.TrimSpace(line) == "<!-- readme-test: "+name+" -->":
			state = 1
		case state == 1 && strings.HasPrefix(line, "```"):
			state = 2
		case state == 2 && strings.HasPrefix(line, "```"):
			return strings.Join(block, "\n")
		case state == 2:
			block = append(block, line)
		}
	}
	t.Fatalf("README.md has no block marked readme-test: %s", name)
	return ""
}

// TestReadmeFirstVerification runs the README's first-verification block as
// a newcomer would, with bash, against the real verifyfn binary served from
// a fresh directory with its defaults (embedded file store, outbox): every
// call in it must succeed.
func TestReadmeFirstVerification(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	script := readmeBlock(t, "first-verification")
	dir := t.TempDir()
	bin := filepath.Join(dir, "verifyfn")
	build := exec.Command("go", "build", "-o", bin, "./cmd/verifyfn")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "VERIFYFN_ADDR=" + addr, "VERIFYFN_ENDPOINT=" + addr,
		"VERIFYFN_METRICS_ADDR=127.0.0.1:0"}
	srv := exec.Command(bin)
	srv.Dir, srv.Env = dir, env
	var logs bytes.Buffer
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the server did not listen on %s:\n%s", addr, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	script = strings.ReplaceAll(script, "go run ./cmd/verifyfn", bin)
	run := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	run.Dir, run.Env = dir, env
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's first verification failed: %v\n%s\nserver log:\n%s", err, out, logs.String())
	}
	// Each call printed its answer; the verify steps passed (exit 0), and
	// the list shows the address just verified.
	if !strings.Contains(string(out), `"Uin"`) || !strings.Contains(string(out), "bob@example.com") || !strings.Contains(string(out), `"Success": true`) {
		t.Fatalf("unexpected output:\n%s", out)
	}
}

// TestEveryVariableIsDocumented: each VERIFYFN_* variable the configuration
// reads appears in docs/configuration.md.
func TestEveryVariableIsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(root, "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	srcs, _ := filepath.Glob(filepath.Join(root, "shared", "config", "*.go"))
	vars := map[string]bool{}
	for _, src := range srcs {
		if strings.HasSuffix(src, "_test.go") {
			continue
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`"(VERIFYFN_[A-Z0-9_]+)"`).FindAllStringSubmatch(string(data), -1) {
			vars[m[1]] = true
		}
	}
	if len(vars) < 15 {
		t.Fatalf("found only %d variables in shared/config", len(vars))
	}
	for v := range vars {
		if !bytes.Contains(doc, []byte("`"+v+"`")) {
			t.Errorf("docs/configuration.md does not document %s", v)
		}
	}
}
