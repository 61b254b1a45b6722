// Package deploy_test checks the deployment descriptions against the tree:
// every directory under functions/ is one function, deployed with its
// routes, on AWS (serverless.yml, through the CloudFormation template that
// `serverless package` generates) and on Tencent SCF (tencent/serverless.yml).
package deploy_test

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// functionDirs lists functions/<name> directories that hold a main.go.
func functionDirs(t *testing.T) []string {
	t.Helper()
	mains, err := filepath.Glob("../functions/*/main.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range mains {
		names = append(names, filepath.Base(filepath.Dir(m)))
	}
	if len(names) == 0 {
		t.Fatal("no functions found")
	}
	slices.Sort(names)
	return names
}

// methods are the methods every function is routed for, at /<function>.
var methods = []string{"GET", "POST"}

func TestTencentSCF(t *testing.T) {
	b, err := os.ReadFile("tencent/serverless.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Component string
		Inputs    struct {
			Src       struct{ Src string }
			Runtime   string
			Functions map[string]struct {
				Name, Src, Handler string
			}
			Triggers []struct {
				Type       string
				Parameters struct {
					Name string
					Apis []struct {
						Path, Method string
						Function     struct {
							Name                 string
							IsIntegratedResponse bool `yaml:"isIntegratedResponse"`
						}
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Component != "multi-scf" || doc.Inputs.Runtime != "Go1" || doc.Inputs.Src.Src != "../../dist/tencent" {
		t.Errorf("component %q, runtime %q, src %q", doc.Component, doc.Inputs.Runtime, doc.Inputs.Src.Src)
	}
	want := functionDirs(t)
	var got []string
	for key, fn := range doc.Inputs.Functions {
		got = append(got, key)
		if fn.Name != key || fn.Handler != key {
			t.Errorf("function %s: name %q, handler %q; want both %q (the binary make build writes)", key, fn.Name, fn.Handler, key)
		}
		// Each function is packaged from its own directory, which holds
		// its binary only (make build-scf writes dist/tencent/<fn>/<fn>).
		if fn.Src != "./"+key {
			t.Errorf("function %s: src %q, want ./%s (its own package)", key, fn.Src, key)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("functions %v, want one per functions/ directory %v", got, want)
	}
	routes := map[string]string{} // "POST /sendverify" -> function, on the shared service
	rootRoutes := map[string]string{}
	for _, tr := range doc.Inputs.Triggers {
		if tr.Type != "apigw" {
			t.Errorf("trigger type %q", tr.Type)
			continue
		}
		for _, api := range tr.Parameters.Apis {
			if !api.Function.IsIntegratedResponse {
				t.Errorf("%s %s: isIntegratedResponse must be true (the function returns an HTTP response)", api.Method, api.Path)
			}
			switch tr.Parameters.Name {
			case "verifyfn":
				routes[api.Method+" "+api.Path] = api.Function.Name
			case "verifyfn-cams":
				rootRoutes[api.Method+" "+api.Path] = api.Function.Name
			default:
				t.Errorf("API Gateway service %q", tr.Parameters.Name)
			}
		}
	}
	checkRoutes(t, routes, want)
	// The official Alibaba client signs the path "/": chatappcode needs a
	// service of its own that routes / to it.
	if len(rootRoutes) != len(methods) || rootRoutes["POST /"] != "chatappcode" || rootRoutes["GET /"] != "chatappcode" {
		t.Errorf("verifyfn-cams routes %v, want GET and POST / to chatappcode", rootRoutes)
	}
}

// TestTencentSCFPackages checks what make build-scf wrote, when it has run
// (make package-check runs it and sets VERIFYFN_SCF_DIST): each function's
// directory holds its own binary and nothing else, and each SCF zip holds
// that binary as main and scf_bootstrap.
func TestTencentSCFPackages(t *testing.T) {
	dist := os.Getenv("VERIFYFN_SCF_DIST")
	if dist == "" {
		t.Skip("VERIFYFN_SCF_DIST is not set (make package-check sets it)")
	}
	for _, fn := range functionDirs(t) {
		entries, err := os.ReadDir(filepath.Join(dist, "tencent", fn))
		if err != nil {
			t.Errorf("%s: %v", fn, err)
			continue
		}
		if len(entries) != 1 || entries[0].Name() != fn || entries[0].IsDir() {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("dist/tencent/%s holds %v, want only its binary %s", fn, names, fn)
		}
		z, err := zip.OpenReader(filepath.Join(dist, fn, fn+"-scf-amd64.zip"))
		if err != nil {
			t.Errorf("%s: %v", fn, err)
			continue
		}
		var names []string
		for _, f := range z.File {
			names = append(names, f.Name)
		}
		z.Close()
		slices.Sort(names)
		if !slices.Equal(names, []string{"main", "scf_bootstrap"}) {
			t.Errorf("%s-scf-amd64.zip holds %v, want main and scf_bootstrap", fn, names)
		}
	}
}

func checkRoutes(t *testing.T, routes map[string]string, functions []string) {
	t.Helper()
	var wantKeys []string
	for _, fn := range functions {
		for _, m := range methods {
			key := m + " /" + fn
			wantKeys = append(wantKeys, key)
			if got := routes[key]; got != fn {
				t.Errorf("route %s goes to %q, want %q", key, got, fn)
			}
		}
	}
	for key := range routes {
		if !slices.Contains(wantKeys, key) {
			t.Errorf("unexpected route %s", key)
		}
	}
}

// TestCloudFormation checks the template `serverless package` generates; make
// package-check runs it with VERIFYFN_CFN_TEMPLATE set.
func TestCloudFormation(t *testing.T) {
	path := os.Getenv("VERIFYFN_CFN_TEMPLATE")
	if path == "" {
		t.Skip("VERIFYFN_CFN_TEMPLATE is not set; make package-check runs this after serverless package")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties json.RawMessage
		}
	}
	if err := json.Unmarshal(b, &tmpl); err != nil {
		t.Fatal(err)
	}
	lambdas := map[string]string{}      // Lambda logical id -> function (from its zip's name)
	integrations := map[string]string{} // integration logical id -> Lambda logical id
	routeTargets := map[string]string{} // route key -> integration logical id
	for id, r := range tmpl.Resources {
		switch r.Type {
		case "AWS::Lambda::Function":
			var p struct {
				FunctionName  string
				Handler       string
				Runtime       string
				Architectures []string
				Code          struct{ S3Key string }
				Environment   struct{ Variables map[string]any }
			}
			if err := json.Unmarshal(r.Properties, &p); err != nil {
				t.Fatal(err)
			}
			fn, _, _ := strings.Cut(filepath.Base(p.Code.S3Key), "-lambda-")
			lambdas[id] = fn
			if p.Handler != "bootstrap" || p.Runtime != "provided.al2023" || !slices.Equal(p.Architectures, []string{"arm64"}) {
				t.Errorf("%s: handler %q, runtime %q, architectures %v", id, p.Handler, p.Runtime, p.Architectures)
			}
			if !strings.HasSuffix(p.Code.S3Key, "/"+fn+"-lambda-arm64.zip") {
				t.Errorf("%s: code %q, want the zip make build writes", id, p.Code.S3Key)
			}
			for _, v := range []string{"VERIFYFN_STORE", "VERIFYFN_CODE_KEY", "VERIFYFN_ACCOUNTS_YAML", "VERIFYFN_OUTBOX"} {
				if _, ok := p.Environment.Variables[v]; !ok {
					t.Errorf("%s: no %s in the environment", id, v)
				}
			}
		case "AWS::ApiGatewayV2::Integration":
			var p struct {
				IntegrationType      string
				PayloadFormatVersion string
				IntegrationUri       map[string][]string
			}
			if err := json.Unmarshal(r.Properties, &p); err != nil {
				t.Fatal(err)
			}
			if p.IntegrationType != "AWS_PROXY" || p.PayloadFormatVersion != "2.0" {
				t.Errorf("%s: %s payload %s", id, p.IntegrationType, p.PayloadFormatVersion)
			}
			if att := p.IntegrationUri["Fn::GetAtt"]; len(att) == 2 && att[1] == "Arn" {
				integrations[id] = att[0]
			} else {
				t.Errorf("%s: IntegrationUri %v", id, p.IntegrationUri)
			}
		case "AWS::ApiGatewayV2::Route":
			var p struct {
				RouteKey string
				Target   map[string][]any
			}
			if err := json.Unmarshal(r.Properties, &p); err != nil {
				t.Fatal(err)
			}
			// Target: {"Fn::Join": ["/", ["integrations", {"Ref": "<integration>"}]]}
			var target string
			if join := p.Target["Fn::Join"]; len(join) == 2 {
				if parts, ok := join[1].([]any); ok && len(parts) == 2 {
					if r, ok := parts[1].(map[string]any); ok {
						target, _ = r["Ref"].(string)
					}
				}
			}
			routeTargets[p.RouteKey] = target
		}
	}
	var got []string
	for _, fn := range lambdas {
		got = append(got, fn)
	}
	slices.Sort(got)
	want := functionDirs(t)
	if !slices.Equal(got, want) {
		t.Fatalf("Lambda functions %v, want one per functions/ directory %v", got, want)
	}
	resolved := map[string]string{}
	for key, integ := range routeTargets {
		resolved[key] = lambdas[integrations[integ]]
	}
	checkRoutes(t, resolved, want)
}
