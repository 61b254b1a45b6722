package accounts_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/shared/accounts"
)

// Secret values used by the error cases; no error may contain them.
const (
	secretA   = "Zq7LiteralSecretA"
	secretB   = "Zq7LiteralSecretB"
	secretEnv = "Zq7EnvironmentSecret"
)

// errEnv serves the environment of the error cases.
var errEnv = env(map[string]string{
	"GOOD":     secretEnv,
	"EMPTY":    "",
	"SPACED":   " " + secretEnv + "\n",
	"NEWLINE":  secretEnv + "\n",
	"NOTUSED1": secretEnv,
})

// ok1 is a valid credential block for account lists (lines 3–6 when it
// follows a two-line header).
const ok1 = `    credentials:
      - id: AKIDA
        secret: ` + secretA + `
        actions: ["*"]
`

// errorCases are files with one problem each: the line and a part of the
// message expected. Every file holds secrets.
var errorCases = []struct {
	name string
	data string
	line int
	msg  string
}{
	// the file as a whole
	{"empty file", "", 1, "no accounts: the file is empty"},
	{"only a comment", "# secret: " + secretA + "\n", 1, "no accounts: the file is empty"},
	{"null document", "~\n", 1, "no accounts"},
	{"no accounts key", "# " + secretA + "\n{}\n", 2, "no accounts"},
	{"accounts empty", "accounts: []\n", 1, "no accounts: the accounts list is empty"},
	{"accounts null", "accounts:\n", 1, "no accounts: the accounts list is empty"},
	{"top level is a list", "- id: \"1\"\n  secret: " + secretA + "\n", 1, "the top level must be a mapping, not a list"},
	{"accounts is a mapping", "accounts:\n  id: \"1\"\n", 2, "accounts must be a list, not a mapping"},
	{"unknown top-level key", "accounts:\n  - id: \"1\"\n" + ok1 + "secrets: [" + secretA + "]\n", 7, `unknown key "secrets" in the top level: keys are accounts`},
	{"second document", "accounts:\n  - id: \"1\"\n" + ok1 + "---\naccounts: []\n", 8, "a second YAML document"},
	{"syntax error: tab", "accounts:\n\t- id: \"1\"\n", 2, "invalid YAML: found character that cannot start any token"},
	{"syntax error: missing colon", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret " + secretA + "\n        actions: [\"*\"]\n", 5, "invalid YAML: could not find expected ':'"},
	{"syntax error: unclosed flow", "accounts:\n  - id: \"1\"\n    credentials:\n      - {id: AKIDA, secret: " + secretA + ", actions: [\"*\"]\n", 4, "invalid YAML: did not find expected ',' or '}'"},
	{"syntax error: unclosed quote", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: \"" + secretA + "\n", 5, "invalid YAML: found unexpected end of stream"},
	{"syntax error on the first line", "accounts: b: c\n", 1, "invalid YAML: mapping values are not allowed in this context"},
	{"syntax error: dedented key", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n     actions: [\"*\"]\n", 6, "invalid YAML: did not find expected key"},
	{"syntax error: duplicate directive", "%YAML 1.1\n%YAML 1.1\n---\naccounts: []\n", 2, "invalid YAML: found duplicate %YAML directive"},
	{"invalid UTF-8", "accounts:\n  - id: \"1\"\n    cams_spaces: [\xff]\n", 3, "the file is not valid UTF-8"},
	{"control character", "accounts:\n  - id: \"1\"\n" + ok1 + "    cams_spaces: [a\x01]\n", 7, "control character U+0001 is not allowed"},

	// accounts
	{"account not a mapping", "accounts:\n  - \"1\"\n", 2, "an account must be a mapping, not a string"},
	{"account null", "accounts:\n  -\n", 2, "an account must be a mapping, not empty"},
	{"account without id", "accounts:\n  - products: [smh]\n" + ok1, 2, "account has no id"},
	{"account id empty", "accounts:\n  - id: \"\"\n" + ok1, 2, "account id is empty"},
	{"account id null", "accounts:\n  - id:\n" + ok1, 2, "account id is empty"},
	{"account id list", "accounts:\n  - id: [1]\n" + ok1, 2, "account id must be a string, not a list"},
	{"account id boolean", "accounts:\n  - id: true\n" + ok1, 2, "account id must be a string, not a boolean"},
	{"account id float", "accounts:\n  - id: 1.5\n" + ok1, 2, "account id must be a string, not a number"},
	{"account id with spaces", "accounts:\n  - id: \" 1\"\n" + ok1, 2, "account id has leading or trailing whitespace"},
	{"account id with a brace", "accounts:\n  - id: \"{1}\"\n" + ok1, 2, "account id may only contain ASCII letters, digits, '-', '_' and '.'"},
	{"account id too long", "accounts:\n  - id: " + strings.Repeat("a", 129) + "\n" + ok1, 2, "account id is longer than 128 characters"},
	{"account id repeated", "accounts:\n  - id: \"1\"\n" + ok1 + "  - id: 1\n", 7, `account "1" is already defined at line 2`},
	{"unknown account key", "accounts:\n  - id: \"1\"\n" + ok1 + "    product: [smh]\n", 7, `unknown key "product" in an account: keys are id, credentials, products, smh_instances, cams_spaces`},
	{"repeated account key", "accounts:\n  - id: \"1\"\n" + ok1 + "    id: \"2\"\n", 7, `key "id" repeated in an account (first at line 2)`},
	{"non-string key", "accounts:\n  - id: \"1\"\n" + ok1 + "    1: x\n", 7, "unknown key in an account"},
	{"merge key", "accounts:\n  - id: \"1\"\n" + ok1 + "    <<: {products: [smh]}\n", 7, "merge keys (<<) are not supported"},

	// products
	{"products a string", "accounts:\n  - id: \"1\"\n" + ok1 + "    products: smh\n", 7, `account "1" products must be a list, not a string`},
	{"unknown product", "accounts:\n  - id: \"1\"\n" + ok1 + "    products: [smh, sms]\n", 7, `account "1": product #2 is not one of smh, intlpartnersmgt, domain, cams`},
	{"product in another case", "accounts:\n  - id: \"1\"\n" + ok1 + "    products: [SMH]\n", 7, "product #1 is not one of"},
	{"product repeated", "accounts:\n  - id: \"1\"\n" + ok1 + "    products: [smh, cams, smh]\n", 7, `account "1": product "smh" is listed twice`},
	{"product a list", "accounts:\n  - id: \"1\"\n" + ok1 + "    products: [[smh]]\n", 7, `account "1" product #1 must be a string, not a list`},

	// credentials
	{"credentials a mapping", "accounts:\n  - id: \"1\"\n    credentials:\n      id: AKIDA\n      secret: " + secretA + "\n", 4, `account "1" credentials must be a list, not a mapping`},
	{"credential a string", "accounts:\n  - id: \"1\"\n    credentials: [" + secretA + "]\n", 3, "a credential must be a mapping, not a string"},
	{"credential without id", "accounts:\n  - id: \"1\"\n    credentials:\n      - secret: " + secretA + "\n        actions: [\"*\"]\n", 4, `account "1": credential has no id`},
	{"credential id empty", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: \"\"\n        secret: " + secretA + "\n        actions: [\"*\"]\n", 4, `account "1": credential id is empty`},
	{"credential id leading space", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: \" AKIDA\"\n        secret: " + secretA + "\n        actions: [\"*\"]\n", 4, "credential id has leading or trailing whitespace"},
	{"credential id trailing space", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: \"AKIDA \"\n        secret: " + secretA + "\n        actions: [\"*\"]\n", 4, "credential id has leading or trailing whitespace"},
	{"credential id with a slash", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKID/A\n        secret: " + secretA + "\n        actions: [\"*\"]\n", 4, "credential id may only contain"},
	{"credential id running into the secret", "accounts:\n  - id: \"1\"\n    credentials:\n      - secret: " + secretB + "\n        actions: [\"*\"]\n        id: AKIDA\n          " + secretA + "\n", 6, "credential id may only contain"},
	{"credential id too long", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: " + strings.Repeat("A", 129) + "\n        secret: " + secretA + "\n        actions: [\"*\"]\n", 4, "credential id is longer than 128 characters"},
	{"credential id repeated in the account", "accounts:\n  - id: \"1\"\n" + ok1 + "      - id: AKIDA\n        secret: " + secretB + "\n        actions: [\"*\"]\n", 7, `credential "AKIDA" is already defined at line 4`},
	{"credential id repeated across accounts", "accounts:\n  - id: \"1\"\n" + ok1 + "  - id: \"2\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretB + "\n        actions: [\"*\"]\n", 9, `credential "AKIDA" is already defined at line 4`},
	{"unknown credential key", "accounts:\n  - id: \"1\"\n" + ok1 + "        secert: " + secretB + "\n", 7, `unknown key "secert" in a credential: keys are id, secret, actions`},
	{"repeated secret key", "accounts:\n  - id: \"1\"\n" + ok1 + "        secret: " + secretB + "\n", 7, `key "secret" repeated in a credential (first at line 5)`},

	// secrets
	{"no secret", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        actions: [\"*\"]\n", 4, `credential "AKIDA" has no secret`},
	{"empty secret", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: \"\"\n        actions: [\"*\"]\n", 5, `credential "AKIDA" has an empty secret`},
	{"null secret", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret:\n        actions: [\"*\"]\n", 5, `credential "AKIDA" has an empty secret`},
	{"secret a list", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: [" + secretA + "]\n        actions: [\"*\"]\n", 5, `credential "AKIDA" secret must be a string, not a list`},
	{"secret a mapping", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: {" + secretA + ": " + secretB + "}\n        actions: [\"*\"]\n", 5, `credential "AKIDA" secret must be a string, not a mapping`},
	{"secret a float", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: 1.5e9\n        actions: [\"*\"]\n", 5, `credential "AKIDA" secret must be a string, not a number`},
	{"secret with a tag", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: !" + secretA + "\n        actions: [\"*\"]\n", 5, "secret must be a string, not a value with an unsupported tag"},
	{"secret with a tag and value", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: !" + secretA + " " + secretB + "\n        actions: [\"*\"]\n", 5, "secret must be a string, not a value with an unsupported tag"},
	{"secret binary", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: !!binary " + secretA + "\n        actions: [\"*\"]\n", 5, "secret must be a string, not binary data"},
	{"secret as an anchor", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: &" + secretA + "\n        actions: [\"*\"]\n", 5, `credential "AKIDA" has an empty secret`},
	{"secret read as an unknown alias", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: *" + secretA + "\n        actions: [\"*\"]\n", 5, "a value begins with '*', which YAML reads as an alias; quote it"},
	{"secret an alias", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: &x " + secretA + "\n        actions: [\"*\"]\n      - id: AKIDB\n        secret: *x\n        actions: [\"*\"]\n", 8, `credential "AKIDB" secret must be a string, not an alias (aliases are not supported)`},
	{"secret with spaces", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: \" " + secretA + "\"\n        actions: [\"*\"]\n", 5, `credential "AKIDA": secret begins or ends with whitespace`},
	{"secret with a newline", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: |\n          " + secretA + "\n        actions: [\"*\"]\n", 5, `credential "AKIDA": secret begins or ends with whitespace`},
	{"env secret unset", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: env:UNSET\n        actions: [\"*\"]\n", 5, `credential "AKIDA": secret: environment variable UNSET is not set`},
	{"env secret empty", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: env:EMPTY\n        actions: [\"*\"]\n", 5, `credential "AKIDA": secret: environment variable EMPTY is empty`},
	{"env secret with spaces", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: env:SPACED\n        actions: [\"*\"]\n", 5, `credential "AKIDA": secret (from environment variable SPACED) begins or ends with whitespace`},
	{"env secret with a newline", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: env:NEWLINE\n        actions: [\"*\"]\n", 5, "(from environment variable NEWLINE) begins or ends with whitespace"},
	{"env secret without a name", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: \"env:\"\n        actions: [\"*\"]\n", 5, "secret env: needs an environment variable name"},
	{"env secret with a bad name", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: env:" + secretA + "-x\n        actions: [\"*\"]\n", 5, "secret env: needs an environment variable name"},
	{"env secret with a digit first", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: env:1" + secretA + "\n        actions: [\"*\"]\n", 5, "secret env: needs an environment variable name"},
	{"secret of a bad credential id", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: \"AKID A\"\n        secret: env:GOOD\n        actions: [\"*\"]\n", 4, "credential id may only contain"},

	// actions
	{"no actions", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n", 4, `credential "AKIDA" has no actions`},
	{"actions empty", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n        actions: []\n", 6, `credential "AKIDA" has no actions (the list is empty)`},
	{"actions null", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n        actions:\n", 6, `credential "AKIDA" has no actions (the list is empty)`},
	{"actions a string", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n        actions: \"*\"\n", 6, `credential "AKIDA" actions must be a list, not a string`},
	{"action without service", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n        actions: [SendVerifyCode]\n", 6, `credential "AKIDA": action #1 must be "*", "service:*" or "service:Action"`},
	{"action of an unknown service", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n        actions: [\"smh:*\", \"sms:SendSms\"]\n", 6, `credential "AKIDA": action #2 names an unknown service (services are smh, intlpartnersmgt, domain, cams)`},
	{"action service in another case", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n        actions: [\"SMH:*\"]\n", 6, "action #1 names an unknown service"},
	{"action service wildcard", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n        actions: [\"*:SendSms\"]\n", 6, "action #1 names an unknown service"},
	{"action name with a dash", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n        actions: [\"smh:Create-Library\"]\n", 6, "action #1 has an action name that is not only ASCII letters and digits"},
	{"action name with a wildcard suffix", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n        actions: [\"smh:Create*\"]\n", 6, "action #1 has an action name that is not only"},
	{"action name empty", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n        actions: [\"smh:\"]\n", 6, "action #1 has no action name after the colon"},
	{"action empty", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n        actions: [\"\"]\n", 6, "action #1 is empty"},
	{"action a secret", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n        actions: [" + secretB + "]\n", 6, "action #1 must be"},
	{"action a number", "accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n        actions:\n          - 1.5\n", 7, `credential "AKIDA" action #1 must be a string, not a number`},

	// SMH instances
	{"smh_instances a mapping", "accounts:\n  - id: \"1\"\n" + ok1 + "    smh_instances:\n      id: x\n", 8, `account "1" smh_instances must be a list, not a mapping`},
	{"SMH instance a string", "accounts:\n  - id: \"1\"\n" + ok1 + "    smh_instances: [inst]\n", 7, "an SMH instance must be a mapping, not a string"},
	{"SMH instance without id", "accounts:\n  - id: \"1\"\n" + ok1 + "    smh_instances:\n      - super_admin: \"+8613800000000\"\n", 8, `account "1": SMH instance has no id`},
	{"SMH instance id empty", "accounts:\n  - id: \"1\"\n" + ok1 + "    smh_instances:\n      - id: \"\"\n", 8, `account "1": SMH instance id is empty`},
	{"SMH instance id with a slash", "accounts:\n  - id: \"1\"\n" + ok1 + "    smh_instances:\n      - id: a/b\n", 8, `account "1": SMH instance id may only contain`},
	{"SMH instance repeated", "accounts:\n  - id: \"1\"\n" + ok1 + "    smh_instances:\n      - id: inst\n      - id: inst\n", 9, `account "1": SMH instance "inst" is already defined at line 8`},
	{"SMH instance in two accounts", "accounts:\n  - id: \"1\"\n" + ok1 + "    smh_instances:\n      - id: inst\n  - id: \"2\"\n    smh_instances:\n      - id: inst\n", 11, `account "2": SMH instance "inst" is already defined at line 8`},
	{"super_admin a list", "accounts:\n  - id: \"1\"\n" + ok1 + "    smh_instances:\n      - id: inst\n        super_admin: [\"+8613800000000\"]\n", 9, `account "1": super_admin of SMH instance "inst" must be a string, not a list`},
	{"unknown SMH instance key", "accounts:\n  - id: \"1\"\n" + ok1 + "    smh_instances:\n      - id: inst\n        superadmin: \"+8613800000000\"\n", 9, `unknown key "superadmin" in an SMH instance: keys are id, super_admin`},

	// CAMS spaces
	{"cams_spaces a string", "accounts:\n  - id: \"1\"\n" + ok1 + "    cams_spaces: cams-1\n", 7, `account "1" cams_spaces must be a list, not a string`},
	{"CAMS space empty", "accounts:\n  - id: \"1\"\n" + ok1 + "    cams_spaces: [cams-1, \"\"]\n", 7, `account "1": CAMS space #2 is empty`},
	{"CAMS space null", "accounts:\n  - id: \"1\"\n" + ok1 + "    cams_spaces:\n      -\n", 8, `account "1": CAMS space #1 is empty`},
	{"CAMS space a mapping", "accounts:\n  - id: \"1\"\n" + ok1 + "    cams_spaces: [{id: cams-1}]\n", 7, `account "1" CAMS space #1 must be a string, not a mapping`},
	{"CAMS space with spaces", "accounts:\n  - id: \"1\"\n" + ok1 + "    cams_spaces: [\"cams-1 \"]\n", 7, `CAMS space #1 has leading or trailing whitespace`},
	{"CAMS space repeated", "accounts:\n  - id: \"1\"\n" + ok1 + "    cams_spaces: [cams-1, cams-1]\n", 7, `account "1": CAMS space "cams-1" is already defined at line 7`},
	{"CAMS space in two accounts", "accounts:\n  - id: \"1\"\n" + ok1 + "    cams_spaces: [cams-1]\n  - id: \"2\"\n    cams_spaces:\n      - cams-1\n", 10, `account "2": CAMS space "cams-1" is already defined at line 7`},
}

// problems returns the *Errors in err.
func problems(t *testing.T, err error) []*accounts.Error {
	t.Helper()
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	var out []*accounts.Error
	for _, e := range list {
		var ae *accounts.Error
		if !errors.As(e, &ae) {
			t.Fatalf("%v (%T) is not an *accounts.Error", e, e)
		}
		out = append(out, ae)
	}
	return out
}

func TestValidationErrors(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := accounts.Parse("accounts.yaml", []byte(tc.data), errEnv)
			if err == nil {
				t.Fatalf("no error; registry %v", r)
			}
			if r != nil {
				t.Errorf("a registry came with the error")
			}
			ps := problems(t, err)
			if got, want := len(ps), 1; got != want {
				t.Fatalf("%d problems, want %d:\n%v", got, want, err)
			}
			p := ps[0]
			if got, want := p.File, "accounts.yaml"; got != want {
				t.Errorf("File = %q, want %q", got, want)
			}
			if got, want := p.Line, tc.line; got != want {
				t.Errorf("Line = %d, want %d (%v)", got, want, err)
			}
			if got, want := p.Msg, tc.msg; !strings.Contains(got, want) {
				t.Errorf("Msg = %q, want it to contain %q", got, want)
			}
			if got, want := err.Error(), fmt.Sprintf("accounts.yaml:%d: %s", p.Line, p.Msg); got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
		})
	}
}

// leakCases are more mistakes around secrets, checked only for leaks.
var leakCases = []string{
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret:" + secretA + "\n        actions: [\"*\"]\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret = " + secretA + "\n        actions: [\"*\"]\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + ": x\n        actions: [\"*\"]\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: '" + secretA + "\n        actions: [\"*\"]\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: \"" + secretA + "\\q\"\n        actions: [\"*\"]\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\n       actions: [\"*\"]\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n      secret: " + secretA + "\n        actions: [\"*\"]\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: [" + secretA + "\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: {" + secretA + "\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: !!str &a *" + secretA + "\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: %" + secretA + "\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: @" + secretA + "\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: `" + secretA + "\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: !<" + secretA + "> x\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: !" + secretA + "! x\n",
	"%TAG !" + secretA + "! tag:x\n---\naccounts: []\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\x00\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: " + secretA + "\xfe\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: \"" + secretA + "\x7f\"\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: env:GOOD\n        actions: [\"*\"]\n      - id: AKIDA\n        secret: env:GOOD\n        actions: [\"sms:*\"]\n",
	"accounts:\n  - id: \"1\"\n    credentials:\n      - id: AKIDA\n        secret: env:GOOD\n        actions: [bad]\n    products: [bad]\n  - id: \"1\"\n",
}

// TestErrorsNeverContainSecrets feeds secrets into every error path: the
// validation cases, mistakes around the secret line, and one file with many
// problems at once.
func TestErrorsNeverContainSecrets(t *testing.T) {
	files := leakCases
	for _, tc := range errorCases {
		files = append(files, tc.data)
	}
	var many strings.Builder
	many.WriteString("accounts:\n")
	for i, tc := range errorCases {
		rest, ok := strings.CutPrefix(tc.data, "accounts:\n")
		if ok && strings.HasPrefix(rest, "  -") && indented(rest) && !strings.Contains(tc.msg, "invalid YAML") && !strings.Contains(tc.msg, "UTF-8") &&
			!strings.Contains(tc.msg, "control character") && !strings.Contains(tc.msg, "second YAML document") && !strings.Contains(tc.msg, "alias") {
			// Make the ids of each case distinct so that the cases add up.
			rest = strings.ReplaceAll(rest, `id: "1"`, fmt.Sprintf(`id: "case%d"`, i))
			many.WriteString(rest)
		}
	}
	files = append(files, many.String())
	_, err := accounts.Parse("accounts.yaml", []byte(many.String()), errEnv)
	if ps := problems(t, err); len(ps) < 20 || strings.Contains(ps[0].Msg, "invalid YAML") {
		t.Fatalf("the combined file does not pile up problems: %v", err)
	}

	for i, data := range files {
		_, err := accounts.Parse("accounts.yaml", []byte(data), errEnv)
		if err == nil {
			t.Errorf("file %d: no error:\n%s", i, data)
			continue
		}
		msg := err.Error()
		for _, s := range []string{secretA, secretB, secretEnv} {
			if strings.Contains(msg, s) {
				t.Errorf("file %d: the error contains a secret:\n%s\nfile:\n%s", i, msg, data)
			}
		}
		// %+v and %#v of the error too.
		for _, verb := range []string{"%+v", "%#v"} {
			if out := fmt.Sprintf(verb, err); strings.Contains(out, secretA) || strings.Contains(out, secretEnv) {
				t.Errorf("file %d: %s of the error contains a secret: %s", i, verb, out)
			}
		}
	}
}

// indented reports whether every line of s is indented,
// so that it can be appended to an accounts list.
func indented(s string) bool {
	for line := range strings.Lines(s) {
		if !strings.HasPrefix(line, " ") {
			return false
		}
	}
	return true
}

func TestSeveralErrors(t *testing.T) {
	const data = `accounts:
  - id: "1"
    credentials:
      - id: AKIDA
        secret: ""
        actions: ["sms:*"]
    products: [sms]
    colour: blue
  - id: "1"
`
	_, err := accounts.Parse("a.yaml", []byte(data), noEnv)
	var lines []int
	for _, p := range problems(t, err) {
		lines = append(lines, p.Line)
	}
	if got, want := fmt.Sprint(lines), "[5 6 7 8 9]"; got != want {
		t.Errorf("lines %s, want %s\n%v", got, want, err)
	}
	var first *accounts.Error
	if !errors.As(err, &first) || first.Line != 5 {
		t.Errorf("errors.As gives %v, want the problem at line 5", first)
	}
	if got, want := strings.Count(err.Error(), "\n"), 4; got != want {
		t.Errorf("%d newlines in the message, want %d (one problem per line)", got, want)
	}

	var b strings.Builder
	b.WriteString("accounts:\n")
	for i := range 30 {
		fmt.Fprintf(&b, "  - id: \"%d\"\n    products: [nope]\n", i)
	}
	_, err = accounts.Parse("a.yaml", []byte(b.String()), noEnv)
	ps := problems(t, err)
	if got, want := len(ps), 21; got != want {
		t.Fatalf("%d problems, want %d", got, want)
	}
	if got, want := ps[20].Error(), "a.yaml: too many errors"; got != want {
		t.Errorf("last problem %q, want %q", got, want)
	}
}
