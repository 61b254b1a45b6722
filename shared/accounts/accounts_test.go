package accounts_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/verifyfn/verifyfn/shared/accounts"
)

// exampleYAML is the example of the brief and the package documentation,
// verbatim.
const exampleYAML = `accounts:
  - id: "200000000001"
    credentials:
      - id: AKIDLOCAL0000000000000000000000001
        secret: local-secret-key      # or env:NAME, read from the environment
        actions: ["*"]                # or ["intlpartnersmgt:SendVerifyCode", "smh:*", ...]
    products: [smh, intlpartnersmgt, domain, cams]
    smh_instances:
      - id: n0v9tdme
        super_admin: "+8618999999999"
    cams_spaces: [cams-kei123]
`

// noEnv is a getenv with nothing set.
func noEnv(string) (string, bool) { return "", false }

// env returns a fake getenv serving m.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// cred is a comparable snapshot of a credential.
type cred struct {
	ID, Secret, Account string
	Actions             []string
}

// snapshot is a comparable snapshot of a registry.
type snapshot struct {
	Accounts    []accounts.Account
	Credentials []cred
}

// snap snapshots r, taking the credentials ids from ids.
func snap(t *testing.T, r *accounts.Registry, ids ...string) snapshot {
	t.Helper()
	var s snapshot
	for _, a := range r.Accounts() {
		s.Accounts = append(s.Accounts, *a)
	}
	for _, id := range ids {
		c, ok := r.Credential(id)
		if !ok {
			t.Fatalf("credential %q not found", id)
		}
		s.Credentials = append(s.Credentials, cred{ID: c.ID, Secret: c.Secret.Reveal(), Account: c.Account.ID, Actions: c.Actions})
	}
	return s
}

// devSnapshot is the development account.
var devSnapshot = snapshot{
	Accounts: []accounts.Account{{
		ID:           accounts.DevAccountID,
		Products:     []string{"smh", "intlpartnersmgt", "domain", "cams"},
		SMHInstances: []accounts.SMHInstance{{ID: accounts.DevInstanceID, SuperAdmin: accounts.DevSuperAdmin}},
		CAMSSpaces:   []string{accounts.DevCAMSSpace},
	}},
	Credentials: []cred{{ID: accounts.DevSecretID, Secret: accounts.DevSecretKey, Account: accounts.DevAccountID, Actions: []string{"*"}}},
}

func TestParseExample(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
	}{
		{"brief example", exampleYAML},
		{"DevYAML", accounts.DevYAML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := accounts.Parse("accounts.yaml", []byte(tc.data), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			got, want := snap(t, r, accounts.DevSecretID), devSnapshot
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDev(t *testing.T) {
	r := accounts.Dev()
	got, want := snap(t, r, accounts.DevSecretID), devSnapshot
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	c, _ := r.Credential(accounts.DevSecretID)
	a, ok := r.Account(accounts.DevAccountID)
	if !ok || c.Account != a {
		t.Errorf("the credential's account is not the registry's account")
	}
	if got, want := string(c.Secret.Bytes()), accounts.DevSecretKey; got != want {
		t.Errorf("Bytes = %q, want %q", got, want)
	}
	if r2 := accounts.Dev(); r2 == r {
		t.Errorf("Dev returned the same registry twice")
	}
}

func TestLookups(t *testing.T) {
	const data = `accounts:
  - id: "1"
    credentials:
      - id: AKIDONE
        secret: one
        actions: ["*"]
      - id: AKIDTWO
        secret: two
        actions: ["smh:*"]
    products: [smh]
    smh_instances:
      - id: inst1
        super_admin: +8613800000000
      - id: inst2
    cams_spaces: [space1, space2]
  - id: 2
    credentials:
      - id: LTAITHREE
        secret: 12345
        actions: ["cams:*"]
`
	r, err := accounts.Parse("t.yaml", []byte(data), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	one, _ := r.Account("1")
	two, _ := r.Account("2")
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"accounts in file order", len(r.Accounts()), 2},
		{"first account", r.Accounts()[0], one},
		{"unquoted numeric account id", two.ID, "2"},
		{"unknown account", lookupAccount(r, "3"), false},
		{"account id with a space", lookupAccount(r, " 1"), false},
		{"credential", lookupCred(r, "AKIDONE"), true},
		{"credential of second account", credAccount(r, "LTAITHREE"), "2"},
		{"numeric secret as written", credSecret(r, "LTAITHREE"), "12345"},
		{"credential with leading space", lookupCred(r, " AKIDONE"), false},
		{"credential with trailing space", lookupCred(r, "AKIDONE "), false},
		{"credential in another case", lookupCred(r, "akidone"), false},
		{"empty credential id", lookupCred(r, ""), false},
		{"HasProduct smh", one.HasProduct("smh"), true},
		{"HasProduct cams", one.HasProduct("cams"), false},
		{"HasProduct empty", one.HasProduct(""), false},
		{"no products", two.HasProduct("cams"), false},
		{"SMH instance with super admin", instance(one, "inst1"), accounts.SMHInstance{ID: "inst1", SuperAdmin: "+8613800000000"}},
		{"SMH instance without super admin", instance(one, "inst2"), accounts.SMHInstance{ID: "inst2"}},
		{"unknown SMH instance", instance(one, "inst3"), accounts.SMHInstance{}},
		{"SMH instance of another account", instance(two, "inst1"), accounts.SMHInstance{}},
		{"CAMS space", one.HasCAMSSpace("space2"), true},
		{"unknown CAMS space", one.HasCAMSSpace("space3"), false},
		{"CAMS space of another account", two.HasCAMSSpace("space1"), false},
		{"empty CAMS space", one.HasCAMSSpace(""), false},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}

	// Accounts returns a copy.
	list := r.Accounts()
	list[0] = nil
	if got := r.Accounts()[0]; got != one {
		t.Errorf("Accounts shares its slice with the registry")
	}
}

func lookupAccount(r *accounts.Registry, id string) bool { _, ok := r.Account(id); return ok }
func lookupCred(r *accounts.Registry, id string) bool    { _, ok := r.Credential(id); return ok }
func credAccount(r *accounts.Registry, id string) string {
	c, _ := r.Credential(id)
	return c.Account.ID
}
func credSecret(r *accounts.Registry, id string) string {
	c, _ := r.Credential(id)
	return c.Secret.Reveal()
}
func instance(a *accounts.Account, id string) accounts.SMHInstance {
	in, _ := a.SMHInstance(id)
	return in
}

func TestNilSafety(t *testing.T) {
	var r *accounts.Registry
	var c *accounts.Credential
	var a *accounts.Account
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"Registry.Credential", lookupCred(r, "x"), false},
		{"Registry.Account", lookupAccount(r, "x"), false},
		{"Registry.Accounts", len(r.Accounts()), 0},
		{"Credential.Allowed", c.Allowed("smh", "X"), false},
		{"Account.HasProduct", a.HasProduct("smh"), false},
		{"Account.SMHInstance", instance(a, "x"), accounts.SMHInstance{}},
		{"Account.HasCAMSSpace", a.HasCAMSSpace("x"), false},
		{"zero Secret", accounts.Secret{}.Reveal(), ""},
		{"zero Secret bytes", len(accounts.Secret{}.Bytes()), 0},
		{"zero Secret IsZero", accounts.Secret{}.IsZero(), true},
		{"NewSecret IsZero", accounts.NewSecret("k").IsZero(), false},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestAllowed(t *testing.T) {
	const data = `accounts:
  - id: "1"
    credentials:
      - id: ALL
        secret: s
        actions: ["*"]
      - id: MIXED
        secret: s
        actions: ["intlpartnersmgt:SendVerifyCode", "smh:*"]
      - id: CAMS
        secret: s
        actions: ["cams:SendChatappMessage"]
      - id: ALLTOO
        secret: s
        actions: ["smh:CreateLibrary", "*"]
`
	r, err := accounts.Parse("t.yaml", []byte(data), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cred, service, action string
		want                  bool
	}{
		{"ALL", "smh", "CreateLibrary", true},
		{"ALL", "intlpartnersmgt", "SendVerifyCode", true},
		{"ALL", "cams", "Anything", true},
		{"ALL", "unknownsvc", "Anything", true},
		{"ALL", "", "SendVerifyCode", false},
		{"ALL", "smh", "", false},
		{"MIXED", "intlpartnersmgt", "SendVerifyCode", true},
		{"MIXED", "intlpartnersmgt", "CreateAccount", false},
		{"MIXED", "intlpartnersmgt", "sendverifycode", false},
		{"MIXED", "INTLPARTNERSMGT", "SendVerifyCode", false},
		{"MIXED", "intlpartnersmgt", "SendVerifyCode ", false},
		{"MIXED", "smh", "CreateLibrary", true},
		{"MIXED", "smh", "DeleteLibrary", true},
		{"MIXED", "SMH", "CreateLibrary", false},
		{"MIXED", "smhx", "CreateLibrary", false},
		{"MIXED", "domain", "CheckDomain", false},
		{"MIXED", "cams", "SendChatappMessage", false},
		{"MIXED", "smh", "*", true}, // a service wildcard covers any action name
		{"CAMS", "cams", "SendChatappMessage", true},
		{"CAMS", "cams", "SendChatappMessages", false},
		{"CAMS", "cams", "*", false}, // "*" as an action name is not a wildcard request
		{"CAMS", "smh", "SendChatappMessage", false},
		{"ALLTOO", "domain", "CheckDomain", true},
	} {
		c, _ := r.Credential(tc.cred)
		if got, want := c.Allowed(tc.service, tc.action), tc.want; got != want {
			t.Errorf("%s.Allowed(%q, %q) = %v, want %v", tc.cred, tc.service, tc.action, got, want)
		}
	}
}

func TestEnvSecrets(t *testing.T) {
	const data = `accounts:
  - id: "1"
    credentials:
      - id: FROMENV
        secret: env:VERIFYFN_KEY_1
        actions: ["*"]
      - id: LITERAL
        secret: literal-key
        actions: ["*"]
      - id: QUOTEDENV
        secret: "env:lower_case_2"
        actions: ["*"]
`
	getenv := env(map[string]string{"VERIFYFN_KEY_1": "from-the-environment", "lower_case_2": "second"})
	r, err := accounts.Parse("t.yaml", []byte(data), getenv)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ id, want string }{
		{"FROMENV", "from-the-environment"},
		{"LITERAL", "literal-key"},
		{"QUOTEDENV", "second"},
	} {
		if got, want := credSecret(r, tc.id), tc.want; got != want {
			t.Errorf("%s: secret %q, want %q", tc.id, got, want)
		}
	}

	// The environment is read only through getenv: nil is an empty one.
	_, err = accounts.Parse("t.yaml", []byte(data), nil)
	if got, want := errorText(err), `t.yaml:5: credential "FROMENV": secret: environment variable VERIFYFN_KEY_1 is not set`; !strings.Contains(got, want) {
		t.Errorf("nil getenv: got %q, want it to contain %q", got, want)
	}
}

func TestSecretBytesIsACopy(t *testing.T) {
	s := accounts.NewSecret("abc")
	b := s.Bytes()
	b[0] = 'X'
	if got, want := s.Reveal(), "abc"; got != want {
		t.Errorf("after changing Bytes, Reveal = %q, want %q", got, want)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "accounts.yaml")
	if err := os.WriteFile(good, []byte(exampleYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := accounts.Load(good, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := snap(t, r, accounts.DevSecretID), devSnapshot; !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("accounts: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = accounts.Load(bad, noEnv)
	if got, want := errorText(err), bad+":1: no accounts"; !strings.HasPrefix(got, want) {
		t.Errorf("invalid file: got %q, want it to start with %q", got, want)
	}

	missing := filepath.Join(dir, "missing.yaml")
	_, err = accounts.Load(missing, noEnv)
	if got, want := errorText(err), "cannot read the accounts file: open "+missing+": no such file or directory"; got != want {
		t.Errorf("missing file: got %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v is not fs.ErrNotExist", err)
	}

	_, err = accounts.Load(dir, noEnv)
	if got, want := errorText(err), "cannot read the accounts file"; !strings.Contains(got, want) {
		t.Errorf("directory: got %q, want it to contain %q", got, want)
	}
}

func TestConcurrentUse(t *testing.T) {
	r := accounts.Dev()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c, ok := r.Credential(accounts.DevSecretID)
				if !ok || !c.Allowed("intlpartnersmgt", "SendVerifyCode") || !c.Account.HasProduct("smh") {
					t.Error("lookup failed")
					return
				}
				_ = c.Secret.Bytes()
				_ = r.Accounts()
				if _, ok := c.Account.SMHInstance(accounts.DevInstanceID); !ok {
					t.Error("instance lookup failed")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestServices(t *testing.T) {
	s := accounts.Services()
	if got, want := s, []string{"smh", "intlpartnersmgt", "domain", "cams"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Services = %v, want %v", got, want)
	}
	s[0] = "changed"
	if got, want := accounts.Services()[0], "smh"; got != want {
		t.Errorf("Services shares its slice: %q", got)
	}
}

// errorText returns err's message, or "<nil>".
func errorText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
