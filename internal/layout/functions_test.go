package layout

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A function's binary links its own service and front door, the delivery
// providers it was built with, and the modules those need: nothing of
// another function, no provider it was not built with, and no module outside
// the table below. The build tags are those of make build (lambda.norpc, and
// with PROVIDERS=... verifyfn_providers plus a provider_<name> tag each).

const (
	services = module + "/shared/services/"
	tencent  = module + "/shared/tcapi"  // the Tencent front door
	tc3      = module + "/shared/tcauth" // its signatures
	alibaba  = module + "/shared/acsapi" // the Alibaba front door
)

// functions maps each function to its service package and front door.
var functions = map[string]struct{ service, front string }{
	"sendverify":    {"intlpartnersmgt", tencent},
	"sendsms":       {"smh", tencent},
	"verifycontact": {"domain", tencent},
	"chatappcode":   {"cams", alibaba},
}

// providers maps each PROVIDERS name (build tag provider_<name>) to its
// package.
var providers = map[string]string{
	"tencent_sms": module + "/shared/delivery/tencentsms",
	"aliyun_sms":  module + "/shared/delivery/aliyunsms",
	"twilio":      module + "/shared/delivery/twilio",
	"smtp":        module + "/shared/delivery/email",
	"webhook":     module + "/shared/delivery/webhook",
}

// modules are the third-party modules a function may link, each with the
// verifyfn packages allowed to import it directly ("" for none: it comes in
// through another module) and why it is there.
var modules = map[string]struct {
	importers []string
	why       string
}{
	"github.com/aws/aws-lambda-go":       {[]string{"shared/runtime/awslambda"}, "the Lambda runtime"},
	"github.com/tencentyun/scf-go-lib":   {[]string{"shared/runtime/scf"}, "SCF's event and message types"},
	"github.com/redis/go-redis/v9":       {[]string{"shared/store/redisstore", "shared/control"}, "the Redis store; the control plane's state shared on Redis"},
	"github.com/cespare/xxhash/v2":       {nil, "go-redis's cluster slots"},
	"go.uber.org/atomic":                 {nil, "go-redis"},
	"go.etcd.io/bbolt":                   {[]string{"shared/store/filestore"}, "the file store"},
	"golang.org/x/sys":                   {nil, "bbolt"},
	"github.com/nyaruka/phonenumbers":    {[]string{"shared/contact", "shared/accounts", "shared/services/intlpartnersmgt", "shared/metrics"}, "libphonenumber (the guard's allow-lists in the accounts file; metrics label destinations by region)"},
	"google.golang.org/protobuf":         {[]string{"shared/contact"}, "libphonenumber's metadata and numbers"},
	"golang.org/x/text":                  {[]string{"shared/contact", "shared/services/intlpartnersmgt"}, "mailbox and handset keys (case folding, normalisation); region names (GetCountryCodes); libphonenumber; SMTP's SASL"},
	"golang.org/x/net":                   {[]string{"shared/contact"}, "IDNA for mail domains"},
	"gopkg.in/yaml.v3":                   {[]string{"shared/accounts", "shared/delivery", "shared/delivery/setup"}, "the accounts, delivery and templates files"},
	"github.com/google/uuid":             {[]string{"shared/tcapi", "shared/acsapi"}, "request ids"},
	"github.com/go-json-experiment/json": {[]string{"shared/tcapi"}, "the Tencent front door's strict JSON decoding"},
	"golang.org/x/crypto":                {[]string{"shared/password"}, "argon2id (CreateAccount's passwords); go-mail's MD4 (NTLM)"},
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common": {[]string{"shared/delivery/tencentsms"}, "the tencent_sms provider"},
	"github.com/twilio/twilio-go":                                     {[]string{"shared/delivery/twilio"}, "the twilio providers"},
	"github.com/golang/mock":                                          {nil, "twilio-go/client, whose mock client lives in the same package"},
	"github.com/pkg/errors":                                           {nil, "twilio-go/client"},
	"github.com/beevik/etree":                                         {nil, "twilio-go/twiml (twilio_voice)"},
	"github.com/prometheus/client_golang":                             {[]string{"shared/metrics"}, "Prometheus metrics"},
	"github.com/prometheus/client_model":                              {nil, "client_golang"},
	"github.com/prometheus/common":                                    {nil, "client_golang"},
	"github.com/prometheus/procfs":                                    {nil, "client_golang's process collector"},
	"github.com/beorn7/perks":                                         {nil, "client_golang's summaries"},
	"github.com/munnerz/goautoneg":                                    {nil, "client_golang's content negotiation"},
	"github.com/pandatix/go-abnf":                                     {nil, "prometheus/common"},
	"github.com/wneessen/go-mail":                                     {[]string{"shared/delivery/email"}, "the smtp provider"},
}

// neverLinked are packages whose reflection stops the linker from dropping
// unused methods anywhere in a binary (net/rpc registers methods by
// reflection; json-iterator's reflect2 calls MethodByName with computed
// names), or an SDK replaced for that reason.
var neverLinked = []string{
	"net/rpc",
	"github.com/modern-go/reflect2",
	"github.com/json-iterator/go",
	"github.com/alibabacloud-go/darabonba-openapi/v2/client",
	"github.com/tencentyun/scf-go-lib/cloudfunction",
}

type depPkg struct {
	ImportPath string
	Module     *struct{ Path string }
	Imports    []string
	Standard   bool
}

// deps is `go list -deps -tags tags ./functions/fn`.
func deps(t *testing.T, fn, tags string) map[string]depPkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Module,Imports,Standard", "-tags", tags, "./functions/"+fn)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps -tags %s ./functions/%s: %v", tags, fn, err)
	}
	pkgs := map[string]depPkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p depPkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// builds are the provider sets checked: the default (every provider), none,
// each provider alone, and a pair.
func builds() map[string][]string {
	b := map[string][]string{"": nil, "verifyfn_providers": {}}
	for name := range providers {
		b["verifyfn_providers,provider_"+name] = []string{name}
	}
	b["verifyfn_providers,provider_webhook,provider_smtp"] = []string{"webhook", "smtp"}
	return b
}

func TestFunctionsLinkOnlyWhatTheyRun(t *testing.T) {
	if _, err := os.Stat(filepath.Join(root, "functions")); err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if len(dirs) != len(functions) {
		t.Fatalf("%d functions under functions/, %d in this test's table", len(dirs), len(functions))
	}
	for fn, want := range functions {
		for extra, built := range builds() {
			tags := "lambda.norpc"
			if extra != "" {
				tags += "," + extra
			}
			pkgs := deps(t, fn, tags)
			has := func(p string) bool { _, ok := pkgs[p]; return ok }
			where := fn + " -tags " + tags
			if !has(services+want.service) || !has(want.front) {
				t.Errorf("%s: does not link its service %s and front door %s", where, want.service, want.front)
			}
			for other, o := range functions {
				if o.service != want.service && has(services+o.service) {
					t.Errorf("%s links %s's service %s", where, other, o.service)
				}
			}
			if want.front == tencent && has(alibaba) {
				t.Errorf("%s links the Alibaba front door", where)
			}
			if want.front == alibaba && (has(tencent) || has(tc3)) {
				t.Errorf("%s links the Tencent front door", where)
			}
			for name, p := range providers {
				wanted := built == nil || slices.Contains(built, name)
				if has(p) != wanted {
					t.Errorf("%s: provider %s linked %v, want %v", where, name, has(p), wanted)
				}
			}
			for _, p := range neverLinked {
				if has(p) {
					t.Errorf("%s links %s", where, p)
				}
			}
			for _, p := range pkgs {
				if p.Standard || p.Module == nil || p.Module.Path == module {
					continue
				}
				if _, ok := modules[p.Module.Path]; !ok {
					t.Errorf("%s links %s from module %s, which no function needs (or add it to this test's table, with why)", where, p.ImportPath, p.Module.Path)
				}
			}
			for _, p := range pkgs {
				if !strings.HasPrefix(p.ImportPath, module+"/") {
					continue
				}
				rel := strings.TrimPrefix(p.ImportPath, module+"/")
				for _, imp := range p.Imports {
					d, ok := pkgs[imp]
					if !ok || d.Standard || d.Module == nil || d.Module.Path == module {
						continue
					}
					if m := modules[d.Module.Path]; !slices.Contains(m.importers, rel) {
						t.Errorf("%s: %s imports %s; the table allows %s only through %v", where, rel, imp, d.Module.Path, m.importers)
					}
				}
			}
		}
	}
}

// TestLinkerDropsUnusedMethods: in a function's default build the linker
// reaches no function it marks <ReflectMethod> (a call to reflect's Method or
// MethodByName with a computed name, or reflect's method iterators). One
// such function anywhere makes the linker keep every
// exported method of every type that is ever put in an interface: that cost
// the functions 8 to 10 MB each through net/rpc, json-iterator and protobuf
// v1.36.11 under Go 1.26. It links each front door's function with every
// provider, reading the linker's dependency dump (-ldflags=-dumpdep).
func TestLinkerDropsUnusedMethods(t *testing.T) {
	if testing.Short() {
		t.Skip("links two binaries")
	}
	for _, fn := range []string{"sendverify", "chatappcode"} {
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-dumpdep", "-o", filepath.Join(t.TempDir(), fn), "./functions/"+fn)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%.2000s", fn, err, out)
		}
		if !strings.Contains(string(out), " -> ") {
			t.Fatalf("go build %s -ldflags=-dumpdep printed no dependency", fn)
		}
		var culprits []string
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "<ReflectMethod>") && len(culprits) < 10 {
				culprits = append(culprits, line)
			}
		}
		if len(culprits) > 0 {
			t.Errorf("%s: the linker keeps every exported method of every type because of:\n%s", fn, strings.Join(culprits, "\n"))
		}
	}
}
