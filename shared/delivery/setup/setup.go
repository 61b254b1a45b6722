// Package setup builds verifyfn's delivery from the configuration: the
// providers and routes of the delivery YAML (VERIFYFN_DELIVERY, or
// VERIFYFN_DELIVERY_YAML inline), the message templates (VERIFYFN_TEMPLATES),
// or, when no providers are configured, the development outbox. It refuses
// the outbox in production unless VERIFYFN_ALLOW_OUTBOX=true, and test
// numbers in production unless VERIFYFN_ALLOW_TEST_NUMBERS=true.
//
// The delivery YAML:
//
//	providers:
//	  tencent:                          # a name of your choice
//	    type: tencent_sms               # tencent_sms, aliyun_sms, twilio_sms, twilio_voice, smtp, webhook, outbox
//	    secret_id: AKID...
//	    secret_key: env:TENCENT_SECRET_KEY
//	    ...
//	routes:
//	  sms:                              # sms, voice or email
//	    "86": [tencent, aliyun]         # country calling code: providers in failover order
//	    "*": [twilio]                   # every other destination
//	  email:
//	    "*": [mail]
//
// Secrets (secret_key, access_key_secret, auth_token, password, secret) must
// be references, "env:NAME" (an environment variable) or "file:PATH" (a file
// such as a mounted secret); any other string may be one too. Problems stop
// the start with messages that name the variable, the line and the key and
// never quote a secret. See the README for every provider's keys.
package setup

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/outbox"
	"github.com/verifyfn/verifyfn/shared/delivery/router"
)

// Options inject what tests control. Zero fields take production defaults.
type Options struct {
	Logger    *slog.Logger
	Now       func() time.Time
	LookupEnv func(string) (string, bool)  // resolves env:NAME; default os.LookupEnv
	ReadFile  func(string) ([]byte, error) // reads the YAML files and file:PATH; default os.ReadFile
	// HTTPClient is shared by the HTTP providers; default a client with a
	// transport of its own.
	HTTPClient *http.Client
	// Wrap, when set, wraps the providers (or the outbox) beneath the
	// templates, so that it sees each message as it is delivered (the test
	// kit records them).
	Wrap func(delivery.Sender) delivery.Sender
	// Observer, if not nil, is told of every provider's attempt at a
	// message (the outbox counts as provider "outbox").
	Observer delivery.Observer
}

// New builds the sender cfg describes. The closer releases files it opened.
func New(cfg config.Config, opt Options) (delivery.Sender, io.Closer, error) {
	s, _, c, err := NewPriced(cfg, opt)
	return s, c, err
}

// Pricer returns the price of one message (micro-units) on a channel to an
// E.164 number: what the first provider of its route charges (its own
// prices), else the delivery file's prices table, else
// delivery.DefaultPrices.
type Pricer func(channel, to string) int64

// NewPriced is New, and the prices of the messages the sender would send.
func NewPriced(cfg config.Config, opt Options) (delivery.Sender, Pricer, io.Closer, error) {
	s, pr, c, err := build(cfg, opt)
	if pr == nil {
		pr = Fixed(delivery.DefaultPrices)
	}
	return s, pr, c, err
}

// Fixed returns the Pricer of one table, falling back to
// delivery.DefaultPrices.
func Fixed(p delivery.Prices) Pricer {
	return func(channel, to string) int64 {
		if v, ok := p.Lookup(delivery.Channel(channel), to); ok {
			return v
		}
		v, _ := delivery.DefaultPrices.Lookup(delivery.Channel(channel), to)
		return v
	}
}

func build(cfg config.Config, opt Options) (delivery.Sender, Pricer, io.Closer, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.LookupEnv == nil {
		opt.LookupEnv = os.LookupEnv
	}
	if opt.ReadFile == nil {
		opt.ReadFile = os.ReadFile
	}
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	d := cfg.Delivery
	if cfg.Production() && len(d.TestNumbers) > 0 && !d.AllowTestNumbers {
		return nil, nil, nil, errors.New("VERIFYFN_ENV=production: VERIFYFN_TEST_NUMBERS is refused (set VERIFYFN_ALLOW_TEST_NUMBERS=true to allow it)")
	}
	var closers closers
	var sender delivery.Sender
	var pricer Pricer
	if !d.Configured() {
		if cfg.Production() && !d.AllowOutbox {
			return nil, nil, nil, errors.New("VERIFYFN_ENV=production: the development outbox is refused; " +
				"configure providers with VERIFYFN_DELIVERY (or set VERIFYFN_ALLOW_OUTBOX=true)")
		}
		ob, err := outbox.Open(cfg.Outbox)
		if err != nil {
			return nil, nil, nil, err
		}
		closers = append(closers, ob)
		sender = delivery.Observed(ob, "outbox", opt.Observer)
	} else {
		name, data := "VERIFYFN_DELIVERY_YAML", []byte(d.YAML)
		if d.File != "" {
			name = "VERIFYFN_DELIVERY (" + d.File + ")"
			b, err := opt.ReadFile(d.File)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("VERIFYFN_DELIVERY: cannot read the delivery file: %w", err)
			}
			data = b
		}
		p := &parser{name: name, cfg: cfg, opt: opt, kinds: kinds()}
		r, cl := p.parse(data)
		closers = append(closers, cl...)
		if err := p.err(); err != nil {
			closers.Close()
			return nil, nil, nil, err
		}
		sender = r
		pricer = p.pricer(r)
	}
	if opt.Wrap != nil {
		sender = opt.Wrap(sender)
	}
	if d.TemplatesFile != "" {
		b, err := opt.ReadFile(d.TemplatesFile)
		if err != nil {
			closers.Close()
			return nil, nil, nil, fmt.Errorf("VERIFYFN_TEMPLATES: cannot read the templates file: %w", err)
		}
		t, err := delivery.ParseTemplates("VERIFYFN_TEMPLATES ("+d.TemplatesFile+")", b)
		if err != nil {
			closers.Close()
			return nil, nil, nil, err
		}
		sender = delivery.WithTemplates(t, sender)
	}
	if n := len(d.TestNumbers); n > 0 {
		opt.Logger.Warn("test numbers configured: sends to them use a fixed code and deliver nothing", "count", n)
	}
	if cfg.Production() && !d.Configured() {
		opt.Logger.Warn("production is using the development outbox (VERIFYFN_ALLOW_OUTBOX=true)")
	}
	return sender, pricer, closers, nil
}

type closers []io.Closer

func (c closers) Close() error {
	var errs []error
	for _, x := range c {
		errs = append(errs, x.Close())
	}
	return errors.Join(errs...)
}

// kind is a provider type: the channels it serves and, when it is built
// into this binary, how to build it.
type kind struct {
	channels []delivery.Channel
	// build decodes the provider's node and builds it; nil when the binary
	// was built without it (the provider_*.go files).
	build builder
	// tag is the build tag that keeps it in a build with verifyfn_providers.
	tag string
}

// builder builds one provider of a type from its node. The closer is what it
// opened (the outbox file), to be closed on error too; ok is false when the
// problems were already reported.
type builder func(p *parser, where string, n *yaml.Node) (s delivery.Sender, cl io.Closer, ok bool, err error)

// kinds are the provider types, built into this binary or not.
func kinds() map[string]kind {
	sms, voice, mail := delivery.SMS, delivery.Voice, delivery.Email
	return map[string]kind{
		"tencent_sms":  {[]delivery.Channel{sms}, tencentSMSProvider(), "provider_tencent_sms"},
		"aliyun_sms":   {[]delivery.Channel{sms}, aliyunSMSProvider(), "provider_aliyun_sms"},
		"twilio_sms":   {[]delivery.Channel{sms}, twilioSMSProvider(), "provider_twilio"},
		"twilio_voice": {[]delivery.Channel{voice}, twilioVoiceProvider(), "provider_twilio"},
		"smtp":         {[]delivery.Channel{mail}, smtpProvider(), "provider_smtp"},
		"webhook":      {[]delivery.Channel{sms, voice, mail}, webhookProvider(), "provider_webhook"},
		"outbox":       {[]delivery.Channel{sms, voice, mail}, outboxProvider, ""},
	}
}

// Types lists every provider type.
func Types() []string { return typeNames(func(kind) bool { return true }) }

// Built lists the provider types built into this binary: every type, unless
// it was built with -tags verifyfn_providers, which keeps the outbox and the
// types of each provider_* tag given with it (provider_tencent_sms,
// provider_aliyun_sms, provider_twilio, provider_smtp, provider_webhook).
func Built() []string { return typeNames(func(k kind) bool { return k.build != nil }) }

func typeNames(keep func(kind) bool) []string {
	var out []string
	for name, k := range kinds() {
		if keep(k) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// maxErrors bounds the problems reported for one file.
const maxErrors = 20

type parser struct {
	name  string
	cfg   config.Config
	opt   Options
	kinds map[string]kind
	errs  []error
	// prices is the file's prices table, providerPrices each provider's own.
	prices         delivery.Prices
	providerPrices map[string]delivery.Prices
}

func (p *parser) fail(n *yaml.Node, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	msg := fmt.Sprintf(format, args...)
	if line > 0 {
		p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.name, line, msg))
	} else {
		p.errs = append(p.errs, fmt.Errorf("%s: %s", p.name, msg))
	}
}

func (p *parser) err() error { return errors.Join(p.errs...) }

// The patterns are compiled when a delivery file is first read, not at
// start (a function without one never needs them).
var nameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`) })

// parse reads the YAML and builds the router. It returns what it opened, to
// be closed on error too.
func (p *parser) parse(data []byte) (*router.Router, []io.Closer) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.fail(nil, "%s", quiet(err))
		return nil, nil
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		p.fail(&doc, "the delivery configuration must be a mapping with providers and routes")
		return nil, nil
	}
	root := doc.Content[0]
	var provNode, routeNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "providers":
			provNode = v
		case "routes":
			routeNode = v
		case "prices":
			p.prices = p.priceTable("prices", v)
		default:
			p.fail(k, "unknown key %q (want providers, routes and prices)", short(k.Value))
		}
	}
	if provNode == nil || provNode.Kind != yaml.MappingNode || len(provNode.Content) == 0 {
		p.fail(root, "providers: at least one provider is required")
		return nil, nil
	}
	if routeNode == nil || routeNode.Kind != yaml.MappingNode || len(routeNode.Content) == 0 {
		p.fail(root, "routes: at least one route is required")
		return nil, nil
	}

	type built struct {
		sender   delivery.Sender
		typ      string
		node     *yaml.Node
		used     bool
		channels []delivery.Channel
	}
	providers := map[string]*built{}
	var closers []io.Closer
	for i := 0; i+1 < len(provNode.Content); i += 2 {
		k, v := provNode.Content[i], provNode.Content[i+1]
		name := k.Value
		if !nameRE().MatchString(name) {
			p.fail(k, "providers: %q is not a provider name (letters, digits, _ . -)", short(name))
			continue
		}
		if _, dup := providers[name]; dup {
			p.fail(k, "providers.%s is defined twice", name)
			continue
		}
		v, pv := withoutKey(v, "prices")
		if pv != nil {
			if p.providerPrices == nil {
				p.providerPrices = map[string]delivery.Prices{}
			}
			p.providerPrices[name] = p.priceTable("providers."+name+".prices", pv)
		}
		s, typ, c := p.provider("providers."+name, v)
		if c != nil {
			closers = append(closers, c)
		}
		providers[name] = &built{sender: s, typ: typ, node: k, channels: p.kinds[typ].channels}
	}

	var routes []router.Route
	for i := 0; i+1 < len(routeNode.Content); i += 2 {
		k, v := routeNode.Content[i], routeNode.Content[i+1]
		ch := delivery.Channel(k.Value)
		if ch != delivery.SMS && ch != delivery.Voice && ch != delivery.Email {
			p.fail(k, "routes: unknown channel %q (want sms, voice or email)", short(k.Value))
			continue
		}
		if v.Kind != yaml.MappingNode {
			p.fail(v, "routes.%s must map country codes (or \"*\") to provider lists", ch)
			continue
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			ck, cv := v.Content[j], v.Content[j+1]
			where := "routes." + string(ch) + "." + ck.Value
			cc := strings.TrimPrefix(ck.Value, "+")
			if cc != "*" && (cc == "" || strings.Trim(cc, "0123456789") != "" || cc[0] == '0' || len(cc) > 6) {
				p.fail(ck, "routes.%s: %q is neither a country calling code such as 86 nor \"*\"", ch, short(ck.Value))
				continue
			}
			if ch == delivery.Email && cc != "*" {
				p.fail(ck, "routes.email takes only \"*\" (email has no country code)")
				continue
			}
			var names []string
			if err := cv.Decode(&names); err != nil || len(names) == 0 {
				p.fail(cv, "%s must be a non-empty list of provider names", where)
				continue
			}
			rt := router.Route{Channel: ch, CountryCode: cc}
			seen := map[string]bool{}
			for _, n := range names {
				b, ok := providers[n]
				switch {
				case !ok:
					p.fail(cv, "%s: no provider named %q", where, short(n))
					continue
				case seen[n]:
					p.fail(cv, "%s: provider %s is listed twice", where, n)
					continue
				case b.typ != "" && !contains(b.channels, ch):
					p.fail(cv, "%s: provider %s (%s) does not deliver %s", where, n, b.typ, ch)
					continue
				}
				seen[n] = true
				b.used = true
				rt.Providers = append(rt.Providers, router.Provider{Name: n, Sender: delivery.Observed(b.sender, n, p.opt.Observer)})
			}
			routes = append(routes, rt)
		}
	}
	names := make([]string, 0, len(providers))
	for n, b := range providers {
		if !b.used {
			p.fail(b.node, "providers.%s is not used by any route", n)
		}
		names = append(names, n)
	}
	if len(p.errs) > 0 {
		return nil, closers
	}
	r, err := router.New(routes, p.opt.Logger)
	if err != nil {
		p.fail(routeNode, "routes: %v", err)
		return nil, closers
	}
	sort.Strings(names)
	p.opt.Logger.Info("delivery providers", "providers", strings.Join(names, ","), "routes", len(routes))
	return r, closers
}

// provider builds one provider from its node. typ is "" when the type is
// unknown; the closer is the outbox file when one was opened.
func (p *parser) provider(where string, n *yaml.Node) (delivery.Sender, string, io.Closer) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, "%s must be a mapping", where)
		return nil, "", nil
	}
	typ := ""
	if t := value(n, "type"); t != nil {
		typ = t.Value
	}
	k, known := p.kinds[typ]
	if !known {
		p.fail(n, "%s: type %q is not one of tencent_sms, aliyun_sms, twilio_sms, twilio_voice, smtp, webhook, outbox", where, short(typ))
		return nil, "", nil
	}
	if k.build == nil {
		p.fail(n, "%s: type %s is not built into this binary, which has %s: use the default build (every provider) "+
			"or add it to the build's provider tags (-tags verifyfn_providers,%s,...; make build PROVIDERS=%s,...)",
			where, typ, strings.Join(Built(), ", "), k.tag, strings.TrimPrefix(k.tag, "provider_"))
		return nil, typ, nil
	}
	s, cl, ok, err := k.build(p, where, n)
	if !ok {
		return nil, typ, cl
	}
	if err != nil {
		// Provider errors name keys, never values.
		for _, e := range unjoin(err) {
			p.fail(n, "%s: %v", where, e)
		}
		return nil, typ, cl
	}
	return s, typ, cl
}

// outboxProvider builds the development outbox, always built in.
func outboxProvider(p *parser, where string, n *yaml.Node) (delivery.Sender, io.Closer, bool, error) {
	var sp struct {
		Type string `yaml:"type"`
		Path string `yaml:"path"`
	}
	if !p.decode(where, n, &sp) {
		return nil, nil, false, nil
	}
	if p.cfg.Production() && !p.cfg.Delivery.AllowOutbox {
		p.fail(n, "%s: the development outbox is refused with VERIFYFN_ENV=production (set VERIFYFN_ALLOW_OUTBOX=true to allow it)", where)
		return nil, nil, false, nil
	}
	path := sp.Path
	if path == "" {
		path = p.cfg.Outbox
	}
	ob, err := outbox.Open(path)
	if err != nil {
		return nil, nil, true, err
	}
	return ob, ob, true, nil
}

// decode checks n's keys against the yaml tags of out, decodes n into out
// and resolves env:/file: references in its string fields. It reports
// problems and whether out is usable.
func (p *parser) decode(where string, n *yaml.Node, out any) bool {
	v := reflect.ValueOf(out).Elem()
	t := v.Type()
	known := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		known[strings.Split(f.Tag.Get("yaml"), ",")[0]] = f
	}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if _, found := known[k.Value]; !found {
			p.fail(k, "%s: unknown key %q", where, short(k.Value))
			ok = false
		}
	}
	if !ok {
		return false
	}
	if err := n.Decode(out); err != nil {
		p.fail(n, "%s: %s", where, quiet(err))
		return false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() != reflect.String {
			continue
		}
		key := strings.Split(f.Tag.Get("yaml"), ",")[0]
		fv := v.Field(i)
		raw := fv.String()
		if raw == "" {
			continue
		}
		secret := f.Tag.Get("secret") == "true"
		val, isRef, err := p.ref(raw)
		switch {
		case secret && !isRef:
			p.fail(value(n, key), "%s.%s must be a reference, env:NAME or file:PATH: secrets are not written in the configuration", where, key)
			ok = false
		case err != nil:
			p.fail(value(n, key), "%s.%s: %v", where, key, err)
			ok = false
		default:
			fv.SetString(val)
		}
	}
	return ok
}

var envNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

// ref resolves "env:NAME" and "file:PATH"; other strings are returned as
// they are. Errors name the variable or the file, never a value.
func (p *parser) ref(s string) (val string, isRef bool, err error) {
	switch {
	case strings.HasPrefix(s, "env:"):
		name := strings.TrimPrefix(s, "env:")
		if !envNameRE().MatchString(name) {
			return "", true, fmt.Errorf("%q is not an environment variable name", short(name))
		}
		v, ok := p.opt.LookupEnv(name)
		if !ok || v == "" {
			return "", true, fmt.Errorf("environment variable %s is not set", name)
		}
		return v, true, nil
	case strings.HasPrefix(s, "file:"):
		path := strings.TrimPrefix(s, "file:")
		b, err := p.opt.ReadFile(path)
		if err != nil {
			return "", true, fmt.Errorf("cannot read %s", path)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" || len(v) > 64<<10 {
			return "", true, fmt.Errorf("%s is empty or larger than 64 KB", path)
		}
		return v, true, nil
	}
	return s, false, nil
}

// value returns the value node of key in mapping n, or n itself.
func value(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return n
}

var backquoted = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("`[^`]*`") })

// quiet removes the values a YAML error quotes (they could be secrets in
// the wrong place).
func quiet(err error) string {
	return backquoted().ReplaceAllString(err.Error(), "a value")
}

func short(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func contains(chs []delivery.Channel, ch delivery.Channel) bool {
	for _, c := range chs {
		if c == ch {
			return true
		}
	}
	return false
}
