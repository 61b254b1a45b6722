package deploy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/verifyfn/verifyfn/shared/metrics"
)

const (
	rulesFile     = "prometheus/verifyfn-rules.yml"
	rulesTestFile = "prometheus/verifyfn-rules.test.yml"
	dashboardFile = "grafana/verifyfn-dashboard.json"
)

// verifyfnMetrics are the metrics verifyfn exports.
var verifyfnMetrics = []string{metrics.Requests, metrics.RequestDuration, metrics.Messages, metrics.Checks,
	metrics.GuardRefusals, metrics.StoreDuration, metrics.StoreErrors, metrics.ProviderDuration}

// promtool finds Prometheus's promtool: VERIFYFN_PROMTOOL (make test puts
// the one of Debian's prometheus package there), else on PATH. Without it
// the test is skipped, or fails when CI is set.
func promtool(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("VERIFYFN_PROMTOOL"); p != "" {
		return p
	}
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	msg := "promtool is not installed (make test unpacks Debian's prometheus package into .tools/; or apt-get install prometheus)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestAlertRules: the rule file passes `promtool check rules`, and its unit
// tests (each alert fires on the traffic it is for and stays quiet on
// healthy traffic) pass `promtool test rules`.
func TestAlertRules(t *testing.T) {
	bin := promtool(t)
	for _, args := range [][]string{{"check", "rules", rulesFile}, {"test", "rules", rulesTestFile}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// metricRef matches a metric name in PromQL: an identifier followed by a
// selector or a range.
var metricRef = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{\[]`)

// referenced returns the metrics an expression selects, without the
// histogram suffixes.
func referenced(expr string) []string {
	var out []string
	for _, m := range metricRef.FindAllStringSubmatch(expr, -1) {
		name := m[1]
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			if strings.HasSuffix(name, "_seconds"+suffix) {
				name = strings.TrimSuffix(name, suffix)
			}
		}
		out = append(out, name)
	}
	return out
}

// TestDashboard: the Grafana dashboard is valid JSON whose every query
// selects only verifyfn's own metrics, through the dashboard's Prometheus
// data source variable, and shows each of them.
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID        string
		Title      string
		Templating struct {
			List []struct {
				Name  string
				Type  string
				Query any
			}
		}
		Panels []struct {
			ID         int
			Type       string
			Title      string
			Datasource *struct{ Type, UID string }
			GridPos    struct{ H, W, X, Y int }
			Targets    []struct {
				Expr       string
				RefID      string `json:"refId"`
				Datasource struct{ Type, UID string }
			}
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	if dash.UID == "" || dash.Title == "" || len(dash.Panels) == 0 {
		t.Fatalf("uid %q, title %q, %d panels", dash.UID, dash.Title, len(dash.Panels))
	}
	var exprs []string
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			exprs = append(exprs, q["query"].(string))
		}
	}
	ids := map[int]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 || p.GridPos.W == 0 || p.GridPos.H == 0 {
			t.Errorf("panel %q: datasource %+v, %d targets, grid %+v", p.Title, p.Datasource, len(p.Targets), p.GridPos)
		}
		for _, q := range p.Targets {
			if q.Expr == "" || q.RefID == "" || q.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: query %+v", p.Title, q)
			}
			exprs = append(exprs, q.Expr)
		}
	}
	shown := map[string]bool{}
	for _, e := range exprs {
		refs := referenced(e)
		if len(refs) == 0 && !strings.Contains(e, "label_values(verifyfn_") {
			t.Errorf("query selects no metric: %s", e)
		}
		for _, name := range refs {
			if !slices.Contains(verifyfnMetrics, name) {
				t.Errorf("query uses %s, which verifyfn does not export: %s", name, e)
			}
			shown[name] = true
		}
	}
	for _, name := range verifyfnMetrics {
		if !shown[name] {
			t.Errorf("no panel shows %s", name)
		}
	}
}

// TestRulesUseOnlyVerifyfnMetrics: the alert rules select only metrics
// verifyfn exports.
func TestRulesUseOnlyVerifyfnMetrics(t *testing.T) {
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			refs := referenced(r.Expr)
			if len(refs) == 0 {
				t.Errorf("%s selects no metric", r.Alert)
			}
			for _, name := range refs {
				if !slices.Contains(verifyfnMetrics, name) {
					t.Errorf("%s uses %s, which verifyfn does not export", r.Alert, name)
				}
			}
			n++
		}
	}
	if n < 3 {
		t.Fatalf("%d rules, want at least 3", n)
	}
}
