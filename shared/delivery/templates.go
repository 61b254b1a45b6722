package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Placeholders a template text (and an email subject) may contain.
const (
	PlaceholderCode    = "{{code}}"    // the code; for voice, its digits separated by spaces
	PlaceholderMinutes = "{{minutes}}" // the code's lifetime in whole minutes, rounded up
)

// DefaultPurpose is the purpose key of the template used when a message's
// purpose has none of its own.
const DefaultPurpose = "default"

// Template is the text of one message. Subject is used by email only.
type Template struct {
	Subject string
	Text    string
}

// Templates holds message texts per channel, locale and purpose. It is
// immutable and safe for concurrent use. Build it with DefaultTemplates,
// ParseTemplates or LoadTemplates.
//
// Lookup for a message tries, in order, the message's locale as given
// (normalised to "ll" or "ll_RR"), its language alone, NormalizeLocale of it
// and finally "en"; within each locale the message's purpose, then
// "default". A channel without templates of its own uses the sms ones.
type Templates struct {
	m map[Channel]map[string]map[string]Template
}

// builtin holds the built-in texts for en, zh_CN, zh_TW and id.
var builtin = &Templates{m: map[Channel]map[string]map[string]Template{
	SMS: {
		"en":    {DefaultPurpose: {Text: "Your verification code is {{code}}. It expires in {{minutes}} minutes. Do not share it with anyone."}},
		"zh_CN": {DefaultPurpose: {Text: "您的验证码是{{code}}，{{minutes}}分钟内有效。请勿泄露给他人。"}},
		"zh_TW": {DefaultPurpose: {Text: "您的驗證碼是{{code}}，{{minutes}}分鐘內有效。請勿洩露給他人。"}},
		"id":    {DefaultPurpose: {Text: "Kode verifikasi Anda adalah {{code}}. Berlaku selama {{minutes}} menit. Jangan bagikan kepada siapa pun."}},
	},
	Voice: {
		"en":    {DefaultPurpose: {Text: "Your verification code is {{code}}. It expires in {{minutes}} minutes."}},
		"zh_CN": {DefaultPurpose: {Text: "您的验证码是 {{code}}，{{minutes}}分钟内有效。"}},
		"zh_TW": {DefaultPurpose: {Text: "您的驗證碼是 {{code}}，{{minutes}}分鐘內有效。"}},
		"id":    {DefaultPurpose: {Text: "Kode verifikasi Anda adalah {{code}}. Berlaku selama {{minutes}} menit."}},
	},
	Email: {
		"en": {DefaultPurpose: {
			Subject: "Your verification code",
			Text: "Your verification code is {{code}}.\n\nIt expires in {{minutes}} minutes. Do not share it with anyone.\n" +
				"If you did not ask for this code, you can ignore this email.\n",
		}},
		"zh_CN": {DefaultPurpose: {
			Subject: "您的验证码",
			Text:    "您的验证码是{{code}}。\n\n{{minutes}}分钟内有效。请勿泄露给他人。\n如果这不是您本人的操作，请忽略本邮件。\n",
		}},
		"zh_TW": {DefaultPurpose: {
			Subject: "您的驗證碼",
			Text:    "您的驗證碼是{{code}}。\n\n{{minutes}}分鐘內有效。請勿洩露給他人。\n如果這不是您本人的操作，請忽略本郵件。\n",
		}},
		"id": {DefaultPurpose: {
			Subject: "Kode verifikasi Anda",
			Text: "Kode verifikasi Anda adalah {{code}}.\n\nBerlaku selama {{minutes}} menit. Jangan bagikan kepada siapa pun.\n" +
				"Jika Anda tidak meminta kode ini, abaikan email ini.\n",
		}},
	},
}}

// DefaultTemplates returns the built-in templates: sms, voice and email
// texts in en, zh_CN, zh_TW and id.
func DefaultTemplates() *Templates { return builtin }

// Text renders the built-in SMS text for code in locale: it states the code
// and its lifetime (rounded up to whole minutes).
func Text(locale, code string, ttl time.Duration) string {
	_, text := builtin.Render(Message{Channel: SMS, Locale: locale, Code: code, TTL: ttl})
	return text
}

// Render returns the subject (email only, else "") and the text of m, from
// m.Channel, m.Locale, m.Purpose, m.Code and m.TTL.
func (t *Templates) Render(m Message) (subject, text string) {
	tpl := t.lookup(m.Channel, m.Locale, m.Purpose)
	code := m.Code
	if m.Channel == Voice {
		code = SpaceDigits(code)
	}
	minutes := strconv.Itoa(int((m.TTL + time.Minute - 1) / time.Minute))
	if m.Channel == Email {
		subject = fill(tpl.Subject, code, minutes)
	}
	return subject, fill(tpl.Text, code, minutes)
}

// fill substitutes the placeholders of a template in one pass (a Replacer
// per message would cost a dozen allocations on every send).
func fill(tpl, code, minutes string) string {
	var b strings.Builder
	b.Grow(len(tpl) + len(code) + len(minutes))
	for {
		i := strings.Index(tpl, "{{")
		if i < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		b.WriteString(tpl[:i])
		tpl = tpl[i:]
		switch {
		case strings.HasPrefix(tpl, PlaceholderCode):
			b.WriteString(code)
			tpl = tpl[len(PlaceholderCode):]
		case strings.HasPrefix(tpl, PlaceholderMinutes):
			b.WriteString(minutes)
			tpl = tpl[len(PlaceholderMinutes):]
		default:
			b.WriteString("{{")
			tpl = tpl[2:]
		}
	}
}

// SpaceDigits separates the characters of a code by spaces ("123456" gives
// "1 2 3 4 5 6"), so a text-to-speech voice reads digit by digit.
func SpaceDigits(code string) string {
	var b strings.Builder
	for i, r := range code {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (t *Templates) lookup(ch Channel, locale, purpose string) Template {
	byLocale, ok := t.m[ch]
	if !ok {
		byLocale = t.m[SMS]
	}
	for _, loc := range localeCandidates(locale) {
		byPurpose := byLocale[loc]
		if tpl, ok := byPurpose[purpose]; ok && purpose != "" {
			return tpl
		}
		if tpl, ok := byPurpose[DefaultPurpose]; ok {
			return tpl
		}
	}
	// Unreachable for templates built by this package: every channel has
	// en/default. Fall back to the built-in text rather than sending nothing.
	return builtin.m[SMS]["en"][DefaultPurpose]
}

// localeCandidates lists the locales to try for tag, most specific first.
func localeCandidates(tag string) []string {
	out := make([]string, 0, 4)
	add := func(s string) {
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	if canon, ok := canonicalLocale(tag); ok {
		add(canon)
		if lang, _, found := strings.Cut(canon, "_"); found {
			add(lang)
		}
	}
	add(NormalizeLocale(tag))
	add("en")
	return out
}

// localeRE is compiled when a templates file is first read, not at start.
var localeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z]{2,3}(_[A-Za-z0-9]{2,8})?$`) })

// canonicalLocale turns "zh-cn", "ZH_CN", "pt-BR" into "zh_CN", "pt_BR" and
// "EN" into "en"; ok is false when tag is not of that shape.
func canonicalLocale(tag string) (string, bool) {
	t := strings.ReplaceAll(strings.TrimSpace(tag), "-", "_")
	if !localeRE().MatchString(t) {
		return "", false
	}
	lang, region, found := strings.Cut(t, "_")
	if !found {
		return strings.ToLower(lang), true
	}
	if len(region) == 2 {
		region = strings.ToUpper(region)
	}
	return strings.ToLower(lang) + "_" + region, true
}

// WithTemplates returns a Sender that renders each message's subject and
// text from t (replacing what Message.Via rendered) before passing it to s.
func WithTemplates(t *Templates, s Sender) Sender {
	return SenderFunc(func(ctx context.Context, m Message) error {
		m.Subject, m.Text = t.Render(m)
		return s.Send(ctx, m)
	})
}

// Limits of a templates file.
const (
	maxTemplateText    = 2000
	maxTemplateSubject = 200
	maxPurposeLen      = 64
	maxTemplatesFile   = 1 << 20
)

// LoadTemplates reads a templates file (see ParseTemplates).
func LoadTemplates(path string) (*Templates, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the templates file: %w", err)
	}
	return ParseTemplates(path, b)
}

// ParseTemplates parses a templates file, YAML of the form
//
//	sms:                  # channel: sms, voice or email
//	  en:                 # locale: "en", "zh_CN", "pt-BR", ...
//	    default: "Your code is {{code}}, valid for {{minutes}} minutes."
//	    register: "Welcome! Your sign-up code is {{code}}."
//	email:
//	  en:
//	    default:
//	      subject: "Your code"
//	      text: "Your code is {{code}}."
//
// and returns the built-in templates overridden by it, entry by entry: an
// entry replaces the (channel, locale, purpose) it names, and an email entry
// without a subject keeps the built-in subject of its locale (English when
// the locale has none). Every text must contain {{code}}; {{code}} and
// {{minutes}} are the only placeholders. name names the file in errors,
// which give the line of each problem and never quote a text.
func ParseTemplates(name string, data []byte) (*Templates, error) {
	if len(data) > maxTemplatesFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxTemplatesFile)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return builtin, nil
		}
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	p := &tplParser{name: name}
	out := builtin.clone()
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	p.channels(root, out)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return out, nil
}

type tplParser struct {
	name string
	errs []error
}

func (p *tplParser) fail(n *yaml.Node, format string, args ...any) {
	if len(p.errs) >= 20 {
		return
	}
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.name, n.Line, fmt.Sprintf(format, args...)))
}

func (p *tplParser) mapping(n *yaml.Node, what string) bool {
	if n.Kind == yaml.MappingNode {
		return true
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return false
	}
	p.fail(n, "%s must be a mapping", what)
	return false
}

func (p *tplParser) channels(root *yaml.Node, out *Templates) {
	if !p.mapping(root, "the templates file") {
		return
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		ch := Channel(k.Value)
		if ch != SMS && ch != Voice && ch != Email {
			p.fail(k, "unknown channel %q (want sms, voice or email)", truncate(k.Value))
			continue
		}
		if !p.mapping(v, "channel "+k.Value) {
			continue
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			lk, lv := v.Content[j], v.Content[j+1]
			loc, ok := canonicalLocale(lk.Value)
			if !ok {
				p.fail(lk, "%s: %q is not a locale such as en, zh_CN or pt-BR", k.Value, truncate(lk.Value))
				continue
			}
			if !p.mapping(lv, k.Value+"."+loc) {
				continue
			}
			for x := 0; x+1 < len(lv.Content); x += 2 {
				pk, pv := lv.Content[x], lv.Content[x+1]
				where := k.Value + "." + loc + "." + pk.Value
				if pk.Value == "" || len(pk.Value) > maxPurposeLen || !utf8.ValidString(pk.Value) {
					p.fail(pk, "%s.%s: a purpose must be 1 to %d characters", k.Value, loc, maxPurposeLen)
					continue
				}
				tpl, ok := p.template(ch, where, pv)
				if !ok {
					continue
				}
				if ch == Email && tpl.Subject == "" {
					tpl.Subject = out.lookup(Email, loc, DefaultPurpose).Subject
				}
				out.set(ch, loc, pk.Value, tpl)
			}
		}
	}
}

func (p *tplParser) template(ch Channel, where string, n *yaml.Node) (Template, bool) {
	var tpl Template
	switch n.Kind {
	case yaml.ScalarNode:
		tpl.Text = n.Value
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				p.fail(v, "%s.%s must be a string", where, k.Value)
				return tpl, false
			}
			switch k.Value {
			case "text":
				tpl.Text = v.Value
			case "subject":
				if ch != Email {
					p.fail(k, "%s: only email templates have a subject", where)
					return tpl, false
				}
				tpl.Subject = v.Value
			default:
				p.fail(k, "%s: unknown key %q (want text or subject)", where, truncate(k.Value))
				return tpl, false
			}
		}
	default:
		p.fail(n, "%s must be a text or a mapping with text and subject", where)
		return tpl, false
	}
	ok := true
	if tpl.Text == "" || len(tpl.Text) > maxTemplateText || !utf8.ValidString(tpl.Text) {
		p.fail(n, "%s: the text must be 1 to %d bytes of UTF-8", where, maxTemplateText)
		ok = false
	} else if !strings.Contains(tpl.Text, PlaceholderCode) {
		p.fail(n, "%s: the text must contain %s", where, PlaceholderCode)
		ok = false
	} else if bad := unknownPlaceholder(tpl.Text); bad {
		p.fail(n, "%s: the text has a placeholder other than %s and %s", where, PlaceholderCode, PlaceholderMinutes)
		ok = false
	}
	if tpl.Subject != "" {
		if len(tpl.Subject) > maxTemplateSubject || strings.ContainsAny(tpl.Subject, "\r\n") || !utf8.ValidString(tpl.Subject) {
			p.fail(n, "%s: the subject must be one line of at most %d bytes", where, maxTemplateSubject)
			ok = false
		} else if unknownPlaceholder(tpl.Subject) {
			p.fail(n, "%s: the subject has a placeholder other than %s and %s", where, PlaceholderCode, PlaceholderMinutes)
			ok = false
		}
	}
	return tpl, ok
}

// unknownPlaceholder reports whether s has a "{{" that does not start one of
// the two placeholders.
func unknownPlaceholder(s string) bool {
	rest := strings.NewReplacer(PlaceholderCode, "", PlaceholderMinutes, "").Replace(s)
	return strings.Contains(rest, "{{") || strings.Contains(rest, "}}")
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

func (t *Templates) clone() *Templates {
	out := &Templates{m: make(map[Channel]map[string]map[string]Template, len(t.m))}
	for ch, byLocale := range t.m {
		out.m[ch] = make(map[string]map[string]Template, len(byLocale))
		for loc, byPurpose := range byLocale {
			out.m[ch][loc] = make(map[string]Template, len(byPurpose))
			for p, tpl := range byPurpose {
				out.m[ch][loc][p] = tpl
			}
		}
	}
	return out
}

func (t *Templates) set(ch Channel, loc, purpose string, tpl Template) {
	if t.m[ch] == nil {
		t.m[ch] = map[string]map[string]Template{}
	}
	if t.m[ch][loc] == nil {
		t.m[ch][loc] = map[string]Template{}
	}
	t.m[ch][loc][purpose] = tpl
}

// ByLocale picks a per-locale value (a vendor template id): the exact locale
// first, then its built-in normalised form, then def.
func ByLocale(values map[string]string, locale, def string) string {
	if v, ok := values[locale]; ok && locale != "" {
		return v
	}
	if v, ok := values[NormalizeLocale(locale)]; ok {
		return v
	}
	return def
}
