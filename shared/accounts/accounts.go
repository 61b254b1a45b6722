// Package accounts holds the tenants of verifyfn, their API credentials and
// what each credential may call, loaded from a YAML file.
//
// The same credentials serve Tencent Cloud callers (SecretId/SecretKey) and
// Alibaba Cloud callers (AccessKeyId/AccessKeySecret).
//
// # File format
//
//	accounts:
//	  - id: "200000000001"              # the account (AppId / account UID)
//	    credentials:
//	      - id: AKIDLOCAL0000000000000000000000001
//	        secret: local-secret-key    # or env:NAME, read from the environment
//	        actions: ["*"]              # or ["intlpartnersmgt:SendVerifyCode", "smh:*", ...]
//	    products: [smh, intlpartnersmgt, domain, cams]
//	    smh_instances:
//	      - id: n0v9tdme
//	        super_admin: "+8618999999999"
//	    cams_spaces: [cams-kei123]
//
// The file is one UTF-8 YAML document. Its only top-level key is accounts,
// a non-empty list. Each account has these keys:
//
//   - id (required): the account id, unique in the file.
//   - credentials: the account's credentials; each has
//     id (required, unique across all accounts), secret (required) and
//     actions (required, non-empty).
//   - products: the services the account subscribes to, from smh,
//     intlpartnersmgt, domain and cams. A call needs both the product on the
//     account and the action on the credential.
//   - smh_instances: the account's SMH instances; each has id (required) and
//     super_admin (optional, a phone number kept exactly as written; the SMH
//     service normalises it).
//   - cams_spaces: the ids of the account's CAMS spaces.
//   - guard: the fraud guard's allow-lists and budgets (see Guard).
//
// Any other key is an error. An empty value (key: with nothing after it)
// counts as an empty list or an empty string. Ids (of accounts,
// credentials, SMH instances and CAMS spaces) are 1 to 128 ASCII letters,
// digits, '-', '_' or '.', so they are safe in signature headers and store
// keys; numbers written without quotes are taken as written. SMH instance
// ids and CAMS space ids are unique across the whole file: an instance or a
// space belongs to one account. Duplicate products or CAMS spaces in one
// account are errors.
//
// # Secrets
//
// A secret is written as is, or as env:NAME to read it from the environment
// variable NAME (through the getenv function given to Parse or Load), so the
// file itself can be committed without keys. A literal secret therefore
// cannot begin with "env:". After resolution a secret must be non-empty and
// must not begin or end with whitespace (a trailing newline from a secret
// file is a classic cause of signatures that never match).
//
// A Secret never shows its value when printed, logged or marshalled, and no
// error from this package contains one.
//
// # Actions
//
// An action is "*" (everything), "service:*" (every action of a service) or
// "service:Action" (one action). Services and actions are compared
// case-sensitively; the action name is ASCII letters and digits.
//
// # Errors
//
// Parse and Load check the whole file and report every problem found (up to
// a limit) as *Error values joined with errors.Join, each naming the file,
// the line and the problem:
//
//	accounts.yaml:7: credential "AKIDEXAMPLE" has an empty secret
//
// YAML anchors may be set but aliases (*name) and merge keys (<<) are
// rejected, so every value is written where it applies and errors point at
// the line where it is written. Syntax errors keep the line yaml gives.
//
// A Registry is immutable after loading and safe for concurrent use. The
// Accounts and Credentials it hands out are shared: callers must not modify
// them.
package accounts

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// The documented local development account, served when no accounts file
// is given. Dev returns a registry holding exactly this account.
const (
	// DevAccountID is the development account's id (its AppId).
	DevAccountID = "200000000001"
	// DevSecretID is the development credential's SecretId / AccessKeyId.
	DevSecretID = "AKIDLOCAL0000000000000000000000001"
	// DevSecretKey is the development credential's SecretKey /
	// AccessKeySecret. It is public: never accept it off a loopback address.
	DevSecretKey = "local-secret-key"
	// DevInstanceID is the development account's SMH instance.
	DevInstanceID = "n0v9tdme"
	// DevSuperAdmin is the super administrator phone number of DevInstanceID.
	DevSuperAdmin = "+8618999999999"
	// DevCAMSSpace is the development account's CAMS space.
	DevCAMSSpace = "cams-kei123"
)

// DevYAML is the accounts file of the development account: the example of
// the package documentation, built from the Dev constants.
const DevYAML = `accounts:
  - id: "` + DevAccountID + `"
    credentials:
      - id: ` + DevSecretID + `
        secret: ` + DevSecretKey + `      # or env:NAME, read from the environment
        actions: ["*"]                # or ["intlpartnersmgt:SendVerifyCode", "smh:*", ...]
    products: [smh, intlpartnersmgt, domain, cams]
    smh_instances:
      - id: ` + DevInstanceID + `
        super_admin: "` + DevSuperAdmin + `"
    cams_spaces: [` + DevCAMSSpace + `]
`

// Dev returns a new registry holding only the development account: DevYAML,
// that is the account DevAccountID with the credential DevSecretID /
// DevSecretKey allowed every action, every product, the SMH instance
// DevInstanceID (super admin DevSuperAdmin) and the CAMS space DevCAMSSpace.
func Dev() *Registry {
	r, err := Parse("development account", []byte(DevYAML), nil)
	if err != nil {
		panic("accounts: the development account does not parse: " + err.Error())
	}
	return r
}

// Documented returns the ids of the credentials that use the documented
// development SecretId or SecretKey (printed in the README and in DevYAML),
// sorted. Such a credential is public: serve it only on loopback.
func (r *Registry) Documented() []string {
	var out []string
	for id, c := range r.creds {
		if id == DevSecretID || string(c.Secret.Bytes()) == DevSecretKey {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Services returns the service names that products and actions may name:
// smh, intlpartnersmgt, domain and cams. The slice is a fresh copy.
func Services() []string { return []string{"smh", "intlpartnersmgt", "domain", "cams"} }

// isService reports whether s is one of Services.
func isService(s string) bool {
	switch s {
	case "smh", "intlpartnersmgt", "domain", "cams":
		return true
	}
	return false
}

// Registry is the set of accounts and credentials loaded from one file. It is
// immutable after loading and safe for concurrent use.
type Registry struct {
	accounts []*Account
	byID     map[string]*Account
	creds    map[string]*Credential
}

// Account is a tenant. Callers must not modify it.
type Account struct {
	// ID is the account id (Tencent AppId, Alibaba account UID).
	ID string
	// Products are the services the account subscribes to, in file order.
	Products []string
	// SMHInstances are the account's SMH instances, in file order.
	SMHInstances []SMHInstance
	// CAMSSpaces are the ids of the account's CAMS spaces, in file order.
	CAMSSpaces []string
	// Guard holds the account's fraud-guard allow-lists and budgets.
	Guard Guard
}

// SMHInstance is an SMH instance of an account.
type SMHInstance struct {
	// ID is the instance id.
	ID string
	// SuperAdmin is the super administrator's phone number exactly as
	// written in the file (not normalised), or "" when none is set.
	SuperAdmin string
}

// Credential is an API key pair of an account with the actions it may call.
// Callers must not modify it. Printing or logging a Credential shows its
// Secret as "[redacted]".
type Credential struct {
	// ID is the SecretId / AccessKeyId.
	ID string
	// Secret is the SecretKey / AccessKeySecret.
	Secret Secret
	// Actions are the action patterns the credential may call, in file
	// order; see Allowed.
	Actions []string
	// Account is the account the credential belongs to.
	Account *Account
}

// Credential returns the credential with exactly this id. Ids with leading or
// trailing spaces, or in another case, never match.
func (r *Registry) Credential(id string) (*Credential, bool) {
	if r == nil {
		return nil, false
	}
	c, ok := r.creds[id]
	return c, ok
}

// Account returns the account with exactly this id.
func (r *Registry) Account(id string) (*Account, bool) {
	if r == nil {
		return nil, false
	}
	a, ok := r.byID[id]
	return a, ok
}

// Accounts returns the accounts in file order. The slice is a fresh copy; the
// accounts are shared.
func (r *Registry) Accounts() []*Account {
	if r == nil {
		return nil
	}
	return slices.Clone(r.accounts)
}

// String summarises the registry (counts only, never a secret).
func (r *Registry) String() string {
	if r == nil {
		return "accounts.Registry(nil)"
	}
	return fmt.Sprintf("accounts.Registry(%d accounts, %d credentials)", len(r.accounts), len(r.creds))
}

// GoString is String, for %#v.
func (r *Registry) GoString() string { return r.String() }

// LogValue logs the registry as its counts.
func (r *Registry) LogValue() slog.Value {
	if r == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.Int("accounts", len(r.accounts)), slog.Int("credentials", len(r.creds)))
}

// Allowed reports whether the credential may call action of service. An
// action pattern "*" allows everything, "service:*" every action of that
// service and "service:Action" that one action; service and action are
// compared case-sensitively. An empty service or action is never allowed,
// nor is anything on a nil credential.
//
// Allowed does not look at the account's products; see Account.HasProduct.
func (c *Credential) Allowed(service, action string) bool {
	if c == nil || service == "" || action == "" {
		return false
	}
	for _, p := range c.Actions {
		if p == "*" {
			return true
		}
		svc, act, ok := strings.Cut(p, ":")
		if ok && svc == service && (act == "*" || act == action) {
			return true
		}
	}
	return false
}

// LogValue logs the credential as its id and account id, never its secret.
func (c *Credential) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("<nil>")
	}
	attrs := []slog.Attr{slog.String("id", c.ID)}
	if c.Account != nil {
		attrs = append(attrs, slog.String("account", c.Account.ID))
	}
	return slog.GroupValue(attrs...)
}

// HasProduct reports whether the account subscribes to service.
func (a *Account) HasProduct(service string) bool {
	return a != nil && service != "" && slices.Contains(a.Products, service)
}

// SMHInstance returns the account's SMH instance with exactly this id.
func (a *Account) SMHInstance(id string) (SMHInstance, bool) {
	if a == nil || id == "" {
		return SMHInstance{}, false
	}
	for _, in := range a.SMHInstances {
		if in.ID == id {
			return in, true
		}
	}
	return SMHInstance{}, false
}

// HasCAMSSpace reports whether the CAMS space with exactly this id belongs to
// the account.
func (a *Account) HasCAMSSpace(id string) bool {
	return a != nil && id != "" && slices.Contains(a.CAMSSpaces, id)
}
