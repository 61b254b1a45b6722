package control_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/shared/acsapi"
	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/services/cams"
	"github.com/verifyfn/verifyfn/shared/services/domain"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
	"github.com/verifyfn/verifyfn/shared/services/smh"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// declared is every action's own documented codes and its front door's
// common codes (as its service answers them), from the services themselves.
type declared struct {
	own, common map[string]bool
}

func codeSet(errs []*apierr.Error) map[string]bool {
	m := map[string]bool{}
	for _, e := range errs {
		m[e.Code] = true
	}
	return m
}

func declarations() map[string]declared {
	out := map[string]declared{}
	for _, s := range []tcapi.Service{intlpartnersmgt.New(intlpartnersmgt.Config{}), smh.New(smh.Config{}), domain.New(domain.Config{})} {
		common := codeSet(tcapi.Common(s.Overrides))
		for _, a := range s.Actions {
			out[a.Name] = declared{own: codeSet(a.Documented), common: common}
		}
	}
	s := cams.New(cams.Config{})
	common := codeSet(acsapi.Common(s.Overrides))
	for _, a := range s.Actions {
		out[a.Name] = declared{own: codeSet(a.Documented), common: common}
	}
	return out
}

var (
	backticked = regexp.MustCompile("`([^`]+)`")
	dottedCode = regexp.MustCompile(`\b[A-Z][A-Za-z]+(?:\.[A-Z][A-Za-z0-9]+)+\b`)
	braces     = regexp.MustCompile(`^([A-Za-z.]*)\{([A-Za-z,]+)\}([A-Za-z]*)$`)
)

// docCodes reads the codes an api.md cell names: the dotted codes it
// mentions, and the backticked tokens that are codes (known names a code
// set holds), with "Prefix.{A,B}Suffix" expanded and "`P.X` / `Y`" read as
// P.Y.
func docCodes(cell string, known func(string) bool) map[string]bool {
	out := map[string]bool{}
	for _, m := range dottedCode.FindAllString(cell, -1) {
		out[m] = true
	}
	prev := ""
	rest := cell
	for _, m := range backticked.FindAllStringSubmatchIndex(cell, -1) {
		tok := cell[m[2]:m[3]]
		between := rest[:max(0, m[0]-(len(cell)-len(rest)))]
		rest = cell[m[1]:]
		if b := braces.FindStringSubmatch(tok); b != nil {
			for _, part := range strings.Split(b[2], ",") {
				out[b[1]+part+b[3]] = true
			}
			continue
		}
		if !strings.Contains(tok, ".") && prev != "" && strings.TrimSpace(between) == "/" {
			tok = prev[:strings.LastIndex(prev, ".")+1] + tok
		}
		if strings.Contains(tok, ".") {
			prev = tok
		}
		if known(tok) || dottedCode.MatchString(tok) && dottedCode.FindString(tok) == tok {
			out[tok] = true
		}
	}
	return out
}

// apiRows returns docs/api.md's action table: action -> errors cell.
func apiRows(t *testing.T) (map[string]string, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) == 4 && strings.HasPrefix(cells[0], "| ") {
			rows[strings.TrimPrefix(cells[0], "| ")] = strings.TrimSuffix(cells[3], " |")
		}
	}
	return rows, string(b)
}

// Each action's declared codes are the ones docs/api.md gives for it: every
// code of its row is declared (its own or its front door's), and every code
// it declares is in its row; every common code is in api.md.
func TestDocumentedMatchesAPIDoc(t *testing.T) {
	decl := declarations()
	rows, doc := apiRows(t)
	// Rows that refer to another row for some of their codes.
	inherits := map[string]string{"VerifySmsCode": "SendSmsCode", "GetCountryCodes": "GetTradeConfigList"}
	if len(decl) != 12 {
		t.Fatalf("%d actions declared", len(decl))
	}
	for action, d := range decl {
		row, ok := rows[action]
		if !ok {
			t.Errorf("docs/api.md has no row for %s", action)
			continue
		}
		known := func(c string) bool { return d.own[c] || d.common[c] }
		inRow := docCodes(row, known)
		for c := range inRow {
			if !known(c) {
				t.Errorf("%s: docs/api.md names %s, which the action does not declare (Documented) and its front door does not answer", action, c)
			}
		}
		if from, ok := inherits[action]; ok {
			for c := range docCodes(rows[from], known) {
				inRow[c] = true
			}
		}
		for c := range d.own {
			if !inRow[c] {
				t.Errorf("%s declares %s, which its row of docs/api.md does not name", action, c)
			}
		}
		for c := range d.common {
			if !strings.Contains(doc, "`"+c+"`") && !strings.Contains(doc, "| "+c+" |") {
				t.Errorf("%s: the common code %s is not in docs/api.md", action, c)
			}
		}
	}
}

// Every error code a Pact contract pins for an action is one the action
// declares or its front door answers.
func TestDocumentedCoversContracts(t *testing.T) {
	decl := declarations()
	files, err := filepath.Glob(filepath.Join("..", "..", "contracts", "pacts", "*.json"))
	if err != nil || len(files) < 4 {
		t.Fatalf("pacts: %v %v", files, err)
	}
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var pact struct {
			Interactions []struct {
				Description string
				Request     struct {
					Headers map[string][]string
					Query   map[string][]string
				}
				Response struct {
					Body struct {
						Content json.RawMessage
					}
				}
			}
		}
		if err := json.Unmarshal(b, &pact); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, in := range pact.Interactions {
			action := first(in.Request.Headers["X-TC-Action"], in.Request.Headers["x-acs-action"], in.Request.Query["Action"])
			var body struct {
				Code     string
				Response struct{ Error struct{ Code string } }
			}
			json.Unmarshal(in.Response.Body.Content, &body)
			code := body.Response.Error.Code
			if code == "" && body.Code != "OK" {
				code = body.Code
			}
			if code == "" {
				continue
			}
			d, ok := decl[action]
			if !ok {
				continue // an action verifyfn does not serve (the front door's answer is pinned)
			}
			checked++
			if !d.own[code] && !d.common[code] {
				t.Errorf("%s: %q pins %s for %s, which it does not declare", filepath.Base(f), in.Description, code, action)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d error interactions checked", checked)
	}
}

func first(lists ...[]string) string {
	for _, l := range lists {
		if len(l) > 0 {
			return l[0]
		}
	}
	return ""
}
