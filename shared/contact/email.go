package contact

import (
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

const (
	// maxEmailLen is the longest address usable in SMTP (RFC 5321 path
	// limit of 256 octets minus the angle brackets).
	maxEmailLen = 254
	// maxLocalLen is RFC 5321's limit on the local part.
	maxLocalLen = 64
)

// Email is a syntactically valid email address with its domain lowercased;
// the local part keeps its case, since only the receiving server may
// interpret it. The zero value is "no address" (see IsZero). Emails are
// comparable with ==.
//
// An Email has two forms: Address, the address as given, which is where
// mail is delivered, and Key, the canonical mailbox that every limit, code
// and uniqueness check is keyed on (see Key).
//
// Email implements fmt.Formatter, fmt.Stringer and slog.LogValuer with the
// masked form, so printing or logging it never shows the full address.
type Email struct {
	address string
	key     string
}

// ParseEmail parses a bare address such as "Alice@Example.COM" (giving
// "Alice@example.com"). Surrounding white space is trimmed. It returns
// ErrEmail for a display name or angle brackets ("Name <a@b.com>"), comments,
// quoted local parts, domain literals ("a@[10.0.0.1]"), any white space
// inside, a domain without a dot, an address longer than 254 bytes or a local
// part longer than 64 bytes. Syntax is checked with net/mail.ParseAddress;
// whether the domain or mailbox exists is not.
//
// It also returns ErrEmail for an address that could pass for another one or
// has no canonical form (see Key):
//   - a character that is not graphic or is default-ignorable, anywhere:
//     controls (C0, C1, DEL), format characters (Unicode category Cf: the
//     zero-width space, joiners and non-joiner U+200B..U+200D, the bidi
//     marks, embeddings, overrides and isolates U+200E, U+200F,
//     U+202A..U+202E, U+2066..U+2069, U+061C, the invisible operators
//     U+2060..U+2064, the byte order mark U+FEFF, the soft hyphen, tags),
//     variation selectors, Hangul fillers and other default-ignorable code
//     points, private-use and unassigned code points;
//   - "%" in the domain (the old source-routing hack, "user%host@relay");
//   - a domain that UTS #46 processing refuses (a label such as "ex_ample",
//     "-example" or "ab--cd" that is not a valid IDNA label, bad punycode,
//     a bidi label that breaks the Bidi Rule);
//   - an address whose canonical form breaks the length limits above or is
//     not itself an address (U+037E GREEK QUESTION MARK normalises to ";").
func ParseEmail(s string) (Email, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxEmailLen {
		return Email{}, fmt.Errorf("%w: longer than %d bytes", ErrEmail, maxEmailLen)
	}
	if s == "" || strings.ContainsFunc(s, unicode.IsSpace) {
		return Email{}, fmt.Errorf("%w: empty or contains white space", ErrEmail)
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, invisible) {
		return Email{}, fmt.Errorf("%w: contains an invisible, control or format character", ErrEmail)
	}
	a, err := mail.ParseAddress(s)
	// A display name, <>, comments or a quoted local part make the parsed
	// address differ from the input.
	if err != nil || a.Name != "" || a.Address != s {
		return Email{}, fmt.Errorf("%w: not a bare address", ErrEmail)
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 { // unreachable after ParseAddress, kept as a guard
		return Email{}, fmt.Errorf("%w: no @", ErrEmail)
	}
	local, domain := s[:at], s[at+1:]
	if local == "" || len(local) > maxLocalLen {
		return Email{}, fmt.Errorf("%w: local part empty or longer than %d bytes", ErrEmail, maxLocalLen)
	}
	if strings.HasPrefix(domain, "[") || !dotted(domain) {
		return Email{}, fmt.Errorf("%w: domain is not a dotted name", ErrEmail)
	}
	if strings.Contains(domain, "%") {
		return Email{}, fmt.Errorf("%w: %% in the domain", ErrEmail)
	}
	domain = strings.ToLower(domain)
	// The key is computed from the address as delivered, so that the
	// address parses back to the same key.
	keyDomain, err := emailIDNA().ToASCII(domain)
	if err != nil || !dotted(keyDomain) {
		return Email{}, fmt.Errorf("%w: domain is not a valid internationalised domain name", ErrEmail)
	}
	keyLocal := foldLocal(local)
	if len(keyLocal) > maxLocalLen || len(keyLocal)+1+len(keyDomain) > maxEmailLen {
		return Email{}, fmt.Errorf("%w: canonical form longer than the limits", ErrEmail)
	}
	key := keyLocal + "@" + keyDomain
	// Normalisation can turn an accepted character into one that is not
	// (U+037E GREEK QUESTION MARK is canonically ";"), so the key must
	// itself be an address.
	if k, err := mail.ParseAddress(key); err != nil || k.Name != "" || k.Address != key ||
		strings.ContainsFunc(key, unicode.IsSpace) || strings.ContainsFunc(key, invisible) {
		return Email{}, fmt.Errorf("%w: no canonical form", ErrEmail)
	}
	return Email{address: local + "@" + domain, key: key}, nil
}

// Key returns the canonical mailbox, e.g. "alice@example.com" for
// "Alice@Example.COM": the form every send limit, code scope and uniqueness
// check is keyed on, so that spellings of one mailbox share one cooldown, one
// send window and one registration. Mail is delivered to Address, never to
// Key. It is "" for the zero Email.
//
// The domain is converted to its ASCII form (A-labels) by UTS #46 processing
// with the lookup mapping (golang.org/x/net/idna: MapForLookup, BidiRule,
// non-transitional), which maps case and width and normalises to NFC, as a
// resolver does, so every spelling of one DNS name gives one key:
// "EXAMPLE.com" and "ｅｘａｍｐｌｅ.com" (full width) give "example.com";
// "exämple.com", "EXÄMPLE.com", "exa\u0308mple.com" (decomposed) and
// "xn--exmple-cua.com" give "xn--exmple-cua.com". IDNA2008 keeps "ß" in
// domains: "faß.de" and "fass.de" are two domains.
//
// The local part is, strictly, the receiving server's to interpret (RFC
// 5321), but mail servers compare it without regard to case and Unicode
// normalisation in practice, so case and normalisation variants would
// otherwise multiply every per-address limit (a 6-letter local part has 64
// case spellings). Key therefore applies Unicode canonical caseless matching
// (NFD, full case folding, then NFC; golang.org/x/text; see foldLocal):
// "ALICE", "Alice" and
// "alice" give "alice", "ÄLICE" and "a\u0308lice" give "älice", "Straße" and
// "STRASSE" give "strasse". Width, dots and "+tag" sub-addresses are kept:
// whether those reach one mailbox is a per-provider convention.
//
// Key is itself an address that ParseEmail accepts, and ParseEmail(Key)
// has the same Key.
func (e Email) Key() string { return e.key }

// emailIDNA is the UTS #46 profile of Key. It is pinned here rather than
// taken from idna.Lookup, whose configuration "may change over time": a
// changed key would reset every limit and registration keyed on it.
var emailIDNA = sync.OnceValue(func() *idna.Profile {
	return idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false))
})

// foldLocal returns the canonical caseless form of a local part: Unicode
// canonical caseless matching (D145: NFD, full case folding), recomposed to
// NFC. It lowercases before folding because x/text's Fold lowercases
// capital Cherokee letters, which CaseFolding.txt folds to themselves (their
// small letters fold to them), so that Fold alone maps the two cases onto
// each other and is not idempotent; after Lower, Fold sees only small
// letters and gives the capitals, as the standard does.
func foldLocal(local string) string {
	// A Caser keeps state, so each call takes its own.
	s := cases.Lower(language.Und).String(norm.NFD.String(local))
	return norm.NFC.String(cases.Fold().String(s))
}

// invisible reports whether r has no place in an address: anything that is
// not a graphic character (controls, format characters such as zero-width
// and bidi controls, private-use, surrogate and unassigned code points) and
// the default-ignorable code points that are graphic (variation selectors,
// Hangul fillers, the combining grapheme joiner, ...), since each lets two
// addresses that look alike differ.
func invisible(r rune) bool {
	return !unicode.IsGraphic(r) ||
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
		unicode.Is(unicode.Variation_Selector, r)
}

// dotted reports whether a domain has at least two labels and no empty one.
func dotted(domain string) bool {
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") &&
		!strings.HasSuffix(domain, ".") && !strings.Contains(domain, "..")
}

// Address returns the address, e.g. "Alice@example.com": the address as
// given, with the domain lowercased, and where mail is sent. It is "" for
// the zero Email.
func (e Email) Address() string { return e.address }

// Domain returns the (lowercased) domain of the address, e.g. "example.com".
func (e Email) Domain() string {
	return e.address[strings.LastIndexByte(e.address, '@')+1:]
}

// IsZero reports whether e is the zero Email.
func (e Email) IsZero() bool { return e.address == "" }

// Masked returns a form safe for logs: the first character of the local part,
// "***" and the domain, e.g. "a***@example.com" (a one-character local part
// is hidden entirely: "***@example.com"). The zero Email gives "".
func (e Email) Masked() string {
	if e.IsZero() {
		return ""
	}
	at := strings.LastIndexByte(e.address, '@')
	local := e.address[:at]
	_, n := utf8.DecodeRuneInString(local)
	if n == len(local) {
		n = 0
	}
	return local[:n] + "***" + e.address[at:]
}

// String returns the masked form, as Masked. Use Address for the address
// itself.
func (e Email) String() string { return e.Masked() }

// Format implements fmt.Formatter: every verb prints the masked form.
func (e Email) Format(f fmt.State, verb rune) { formatMasked(f, verb, e.Masked()) }

// LogValue implements slog.LogValuer with the masked form.
func (e Email) LogValue() slog.Value { return slog.StringValue(e.Masked()) }
