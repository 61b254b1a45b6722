package accounts

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Error is one problem in an accounts file. Its message never contains a
// secret, nor any value that failed validation (a misplaced secret could be
// one; only the names of unknown keys are quoted): it names the line and,
// in lists, the item number instead.
type Error struct {
	// File is the name given to Parse, or the path given to Load.
	File string
	// Line is the 1-based line of the problem, or 0 when it is not known.
	Line int
	// Msg describes the problem.
	Msg string
}

// Error returns "file:line: msg", or "file: msg" when the line is not known.
func (e *Error) Error() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

// maxErrors bounds the problems reported for one file.
const maxErrors = 20

// maxIDLen bounds every id.
const maxIDLen = 128

// knownServices is Services as a sentence, for messages.
const knownServices = "smh, intlpartnersmgt, domain, cams"

// Load reads and parses the accounts file at path; see Parse. Messages name
// the file by path. When the file cannot be read the error wraps the
// os.ReadFile error (errors.Is(err, fs.ErrNotExist) for a missing file).
func Load(path string, getenv func(string) (string, bool)) (*Registry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the accounts file: %w", err)
	}
	return Parse(path, data, getenv)
}

// Parse reads an accounts file (see the package documentation for the
// format). name names the file in messages. getenv resolves "env:NAME"
// secrets: pass os.LookupEnv in production; nil means an empty environment.
//
// On failure the error lists every problem found, up to 20, each an *Error
// with its line; errors.As finds the first. The error never contains a
// secret.
func Parse(name string, data []byte, getenv func(string) (string, bool)) (*Registry, error) {
	if getenv == nil {
		getenv = func(string) (string, bool) { return "", false }
	}
	p := &parser{
		name:      name,
		getenv:    getenv,
		accounts:  map[string]int{},
		creds:     map[string]int{},
		instances: map[string]int{},
		spaces:    map[string]int{},
	}
	reg := p.parse(data)
	if err := p.err(); err != nil {
		return nil, err
	}
	return reg, nil
}

// parser walks one file, collecting problems.
type parser struct {
	name   string
	getenv func(string) (string, bool)
	errs   []*Error

	// the line where each id was first defined, for uniqueness
	accounts, creds, instances, spaces map[string]int
}

// errorf records a problem at line.
func (p *parser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.name, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// err returns the problems found, in line order: nil, one *Error, or several
// joined.
func (p *parser) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(p.errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	errs := p.errs
	if len(errs) == 1 {
		return errs[0]
	}
	more := len(errs) > maxErrors
	if more {
		errs = errs[:maxErrors]
	}
	list := make([]error, 0, len(errs)+1)
	for _, e := range errs {
		list = append(list, e)
	}
	if more {
		list = append(list, &Error{File: p.name, Msg: "too many errors"})
	}
	return errors.Join(list...)
}

// parse decodes data and builds the registry; problems go to p.errs.
func (p *parser) parse(data []byte) *Registry {
	root := p.decode(data)
	if root == nil {
		return nil
	}
	if isNull(root) {
		p.errorf(lineOf(root), "no accounts: the file needs a non-empty accounts list")
		return nil
	}
	m, ok := p.mapping(root, "the top level", "accounts")
	if !ok {
		return nil
	}
	v := m["accounts"]
	if v == nil {
		p.errorf(root.Line, "no accounts: the file needs a non-empty accounts list")
		return nil
	}
	items, ok := p.list(v, "accounts")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		p.errorf(v.Line, "no accounts: the accounts list is empty")
		return nil
	}
	reg := &Registry{byID: map[string]*Account{}, creds: map[string]*Credential{}}
	for _, it := range items {
		a, creds := p.account(it)
		if a == nil {
			continue
		}
		reg.accounts = append(reg.accounts, a)
		reg.byID[a.ID] = a
		for _, c := range creds {
			reg.creds[c.ID] = c
		}
	}
	return reg
}

// decode checks the text and decodes the single YAML document in it. It
// returns nil after recording a problem.
func (p *parser) decode(data []byte) *yaml.Node {
	if line, msg := checkText(data); msg != "" {
		p.errorf(line, "%s", msg)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(1, "no accounts: the file is empty")
		} else {
			p.yamlError(data, err)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.yamlError(data, err)
		return nil
	default:
		p.errorf(lineOf(&next), "a second YAML document: the file must hold exactly one")
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			p.errorf(1, "no accounts: the file is empty")
			return nil
		}
		root = root.Content[0]
	}
	return root
}

// lineOf returns the line of n, or 1 when yaml gave none.
func lineOf(n *yaml.Node) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	return max(n.Line, 1)
}

// yamlError records a yaml syntax error, keeping its line. yaml's syntax
// messages name positions and expectations, not values, apart from anchor
// names, which it does not echo.
func (p *parser) yamlError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		// The name is whatever followed a '*' that began a plain value, which
		// may be a secret: find its line but do not echo it.
		name = strings.TrimSuffix(name, "' referenced")
		p.errorf(aliasLine(data, name), "a value begins with '*', which YAML reads as an alias; quote it (aliases are not supported)")
		return
	}
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil && n > 0 {
				line, msg = n, text
			}
		}
	}
	switch {
	case isParserProblem(msg) && line > 0:
		// yaml.v3 reports parser (not scanner) errors with the 0-based line
		// where the enclosing collection starts, which can be far above the
		// mistake: look for the first line that makes the same error.
		line++
		if at := problemLine(data, err.Error()); at > line {
			line = at
		}
	case line == 0 && !strings.Contains(msg, "UTF") && !strings.Contains(msg, "control characters"):
		// yaml.v3 drops the line of syntax errors on the first line.
		line = 1
	}
	p.errorf(line, "invalid YAML: %s", msg)
}

// problemLine returns the first line n such that the first n lines of data
// alone fail to decode with exactly the error message want, or 0. Prefixes
// that stop before the mistake decode or fail differently; prefixes that
// include it fail as the whole file does, so a binary search finds it.
func problemLine(data []byte, want string) int {
	var ends []int // offset after each line
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	same := func(n int) bool {
		err := decodeAll(data[:ends[n-1]])
		return err != nil && err.Error() == want
	}
	lo, hi := 1, len(ends)
	if !same(hi) {
		return 0
	}
	for lo < hi {
		if mid := (lo + hi) / 2; same(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// decodeAll decodes every YAML document in data and returns the first
// error.
func decodeAll(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// isParserProblem reports whether msg comes from yaml.v3's parser (as
// opposed to its scanner), whose lines it reports 0-based.
func isParserProblem(msg string) bool {
	switch msg {
	case "did not find expected ',' or ']'",
		"did not find expected ',' or '}'",
		"did not find expected '-' indicator",
		"did not find expected <document start>",
		"did not find expected <stream-start>",
		"did not find expected key",
		"did not find expected node content",
		"found duplicate %TAG directive",
		"found duplicate %YAML directive",
		"found incompatible YAML document",
		"found undefined tag handle":
		return true
	}
	return false
}

// aliasLine returns the line of the first "*name" in data, or 0.
func aliasLine(data []byte, name string) int {
	i := bytes.Index(data, []byte("*"+name))
	if name == "" || i < 0 {
		return 0
	}
	return 1 + bytes.Count(data[:i], []byte("\n"))
}

// checkText finds what yaml would reject without a line: bytes that are not
// UTF-8 and characters YAML does not allow. It returns the line and the
// problem, or "" when the text is fine. Files starting with a UTF-16 byte
// order mark are left to yaml.
func checkText(data []byte) (int, string) {
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		return 0, ""
	}
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return line, "the file is not valid UTF-8"
		case r == '\n':
			line++
		case r == '\r':
			if i+1 >= len(data) || data[i+1] != '\n' {
				line++
			}
		case r == '\t', r >= 0x20 && r <= 0x7E, r == 0x85, r >= 0xA0 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		default:
			return line, fmt.Sprintf("control character %U is not allowed in YAML", r)
		}
		i += size
	}
	return 0, ""
}

// account parses one account and its credentials. It returns nil when the
// account is not a mapping.
func (p *parser) account(n *yaml.Node) (*Account, []*Credential) {
	m, ok := p.mapping(n, "an account", "id", "credentials", "products", "smh_instances", "cams_spaces", "guard")
	if !ok {
		return nil, nil
	}
	a := &Account{}
	label := "account"
	if v := m["id"]; v == nil {
		p.errorf(n.Line, "account has no id")
	} else if id, ok := p.str(v, "account id"); ok {
		if problem := idProblem(id); problem != "" {
			p.errorf(v.Line, "account id %s", problem)
		} else if line, dup := p.accounts[id]; dup {
			p.errorf(v.Line, "account %q is already defined at line %d", id, line)
		} else {
			p.accounts[id] = v.Line
			a.ID, label = id, fmt.Sprintf("account %q", id)
		}
	}

	products, _ := p.list(m["products"], label+" products")
	for i, it := range products {
		s, ok := p.str(it, fmt.Sprintf("%s product #%d", label, i+1))
		switch {
		case !ok:
		case !isService(s):
			p.errorf(it.Line, "%s: product #%d is not one of %s", label, i+1, knownServices)
		case slices.Contains(a.Products, s):
			p.errorf(it.Line, "%s: product %q is listed twice", label, s)
		default:
			a.Products = append(a.Products, s)
		}
	}

	instances, _ := p.list(m["smh_instances"], label+" smh_instances")
	for _, it := range instances {
		if in, ok := p.smhInstance(it, label); ok {
			a.SMHInstances = append(a.SMHInstances, in)
		}
	}

	spaces, _ := p.list(m["cams_spaces"], label+" cams_spaces")
	for i, it := range spaces {
		s, ok := p.str(it, fmt.Sprintf("%s CAMS space #%d", label, i+1))
		if !ok {
			continue
		}
		if problem := idProblem(s); problem != "" {
			p.errorf(it.Line, "%s: CAMS space #%d %s", label, i+1, problem)
		} else if line, dup := p.spaces[s]; dup {
			p.errorf(it.Line, "%s: CAMS space %q is already defined at line %d", label, s, line)
		} else {
			p.spaces[s] = it.Line
			a.CAMSSpaces = append(a.CAMSSpaces, s)
		}
	}

	a.Guard = p.guard(m["guard"], label)

	var creds []*Credential
	items, _ := p.list(m["credentials"], label+" credentials")
	for _, it := range items {
		if c := p.credential(it, a, label); c != nil {
			creds = append(creds, c)
		}
	}
	return a, creds
}

// smhInstance parses one entry of smh_instances.
func (p *parser) smhInstance(n *yaml.Node, label string) (SMHInstance, bool) {
	m, ok := p.mapping(n, "an SMH instance", "id", "super_admin")
	if !ok {
		return SMHInstance{}, false
	}
	var in SMHInstance
	ok = false
	if v := m["id"]; v == nil {
		p.errorf(n.Line, "%s: SMH instance has no id", label)
	} else if id, valid := p.str(v, label+" SMH instance id"); valid {
		if problem := idProblem(id); problem != "" {
			p.errorf(v.Line, "%s: SMH instance id %s", label, problem)
		} else if line, dup := p.instances[id]; dup {
			p.errorf(v.Line, "%s: SMH instance %q is already defined at line %d", label, id, line)
		} else {
			p.instances[id] = v.Line
			in.ID, ok = id, true
		}
	}
	if v := m["super_admin"]; v != nil {
		what := label + " SMH instance super_admin"
		if in.ID != "" {
			what = fmt.Sprintf("%s: super_admin of SMH instance %q", label, in.ID)
		}
		in.SuperAdmin, _ = p.str(v, what)
	}
	return in, ok
}

// credential parses one credential of account a. It returns nil when the
// credential has no usable id.
func (p *parser) credential(n *yaml.Node, a *Account, label string) *Credential {
	m, ok := p.mapping(n, "a credential", "id", "secret", "actions")
	if !ok {
		return nil
	}
	c := &Credential{Account: a}
	cl := label + ": credential"
	if v := m["id"]; v == nil {
		p.errorf(n.Line, "%s has no id", cl)
	} else if id, ok := p.str(v, cl+" id"); ok {
		if problem := idProblem(id); problem != "" {
			p.errorf(v.Line, "%s id %s", cl, problem)
		} else if line, dup := p.creds[id]; dup {
			p.errorf(v.Line, "credential %q is already defined at line %d", id, line)
		} else {
			p.creds[id] = v.Line
			c.ID, cl = id, fmt.Sprintf("credential %q", id)
		}
	}

	if v := m["secret"]; v == nil {
		p.errorf(n.Line, "%s has no secret", cl)
	} else if s, ok := p.str(v, cl+" secret"); ok {
		c.Secret = p.secret(v.Line, s, cl)
	}

	if v := m["actions"]; v == nil {
		p.errorf(n.Line, "%s has no actions", cl)
	} else if items, ok := p.list(v, cl+" actions"); ok {
		if len(items) == 0 {
			p.errorf(v.Line, "%s has no actions (the list is empty)", cl)
		}
		for i, it := range items {
			s, ok := p.str(it, fmt.Sprintf("%s action #%d", cl, i+1))
			if !ok {
				continue
			}
			if problem := actionProblem(s); problem != "" {
				p.errorf(it.Line, "%s: action #%d %s", cl, i+1, problem)
				continue
			}
			c.Actions = append(c.Actions, s)
		}
	}
	if c.ID == "" {
		return nil
	}
	return c
}

// secret resolves the secret s written at line for the credential cl. No
// message includes s or the resolved value.
func (p *parser) secret(line int, s, cl string) Secret {
	from := ""
	if ref, ok := strings.CutPrefix(s, "env:"); ok {
		if !validEnvName(ref) {
			p.errorf(line, "%s: secret env: needs an environment variable name (letters, digits and '_', not starting with a digit)", cl)
			return Secret{}
		}
		v, set := p.getenv(ref)
		switch {
		case !set:
			p.errorf(line, "%s: secret: environment variable %s is not set", cl, ref)
			return Secret{}
		case v == "":
			p.errorf(line, "%s: secret: environment variable %s is empty", cl, ref)
			return Secret{}
		}
		s, from = v, " (from environment variable "+ref+")"
	}
	switch {
	case s == "":
		p.errorf(line, "%s has an empty secret", cl)
		return Secret{}
	case strings.TrimSpace(s) != s:
		p.errorf(line, "%s: secret%s begins or ends with whitespace", cl, from)
		return Secret{}
	}
	return NewSecret(s)
}

// mapping checks that n is a mapping with only the given keys, each at most
// once, and returns its values by key. what names n in messages.
func (p *parser) mapping(n *yaml.Node, what string, keys ...string) (map[string]*yaml.Node, bool) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "%s must be a mapping, not %s", what, describe(n))
		return nil, false
	}
	m := make(map[string]*yaml.Node, len(keys))
	lines := make(map[string]int, len(keys))
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge":
			p.errorf(k.Line, "merge keys (<<) are not supported")
			continue
		case k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str":
			p.errorf(k.Line, "unknown key in %s: keys are %s", what, strings.Join(keys, ", "))
			continue
		case !slices.Contains(keys, k.Value):
			p.errorf(k.Line, "unknown key%s in %s: keys are %s", quoteKey(k.Value), what, strings.Join(keys, ", "))
			continue
		}
		if line, dup := lines[k.Value]; dup {
			p.errorf(k.Line, "key %q repeated in %s (first at line %d)", k.Value, what, line)
			continue
		}
		lines[k.Value], m[k.Value] = k.Line, v
	}
	return m, true
}

// list returns the items of the sequence n. An absent or null n is an empty
// list.
func (p *parser) list(n *yaml.Node, what string) ([]*yaml.Node, bool) {
	switch {
	case n == nil || isNull(n):
		return nil, true
	case n.Kind != yaml.SequenceNode:
		p.errorf(n.Line, "%s must be a list, not %s", what, describe(n))
		return nil, false
	}
	return n.Content, true
}

// str returns the text of the scalar n as written. Strings and integers are
// accepted (ids and phone numbers are often written without quotes); null is
// "".
func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str", "!!int":
			return n.Value, true
		case "!!null":
			return "", true
		}
	}
	p.errorf(n.Line, "%s must be a string, not %s", what, describe(n))
	return "", false
}

// isNull reports whether n is an explicit or empty null.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names the kind of n for messages, without its value.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias (aliases are not supported)"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "a string"
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "empty"
		case "!!timestamp":
			return "a timestamp"
		case "!!binary":
			return "binary data"
		}
		return "a value with an unsupported tag"
	}
	return "an unsupported YAML node"
}

// quoteKey returns ` "key"` when key looks like a key, and "" otherwise, so
// that a value pasted in place of a key is not echoed.
func quoteKey(key string) string {
	if key == "" || len(key) > 64 {
		return ""
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; !isAlnum(c) && c != '_' && c != '-' {
			return ""
		}
	}
	return " " + strconv.Quote(key)
}

// idProblem describes what is wrong with an id, or returns "".
func idProblem(id string) string {
	switch {
	case id == "":
		return "is empty"
	case strings.TrimSpace(id) != id:
		return "has leading or trailing whitespace"
	case len(id) > maxIDLen:
		return "is longer than " + strconv.Itoa(maxIDLen) + " characters"
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return "may only contain ASCII letters, digits, '-', '_' and '.'"
		}
	}
	return ""
}

// actionProblem describes what is wrong with an action pattern, or returns "".
func actionProblem(a string) string {
	if a == "*" {
		return ""
	}
	svc, act, ok := strings.Cut(a, ":")
	switch {
	case a == "":
		return "is empty"
	case !ok:
		return `must be "*", "service:*" or "service:Action"`
	case !isService(svc):
		return "names an unknown service (services are " + knownServices + ")"
	case act == "*":
		return ""
	case act == "":
		return "has no action name after the colon"
	}
	for i := 0; i < len(act); i++ {
		if !isAlnum(act[i]) {
			return "has an action name that is not only ASCII letters and digits"
		}
	}
	return ""
}

// validEnvName reports whether s is a portable environment variable name.
func validEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' {
			return false
		}
	}
	return true
}

// isAlnum reports whether c is an ASCII letter or digit.
func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
