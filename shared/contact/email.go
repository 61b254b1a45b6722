package contact

import (
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
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
// Email implements fmt.Formatter, fmt.Stringer and slog.LogValuer with the
// masked form, so printing or logging it never shows the full address.
type Email struct {
	address string
}

// ParseEmail parses a bare address such as "Alice@Example.COM" (giving
// "Alice@example.com"). Surrounding white space is trimmed. It returns
// ErrEmail for a display name or angle brackets ("Name <a@b.com>"), comments,
// quoted local parts, domain literals ("a@[10.0.0.1]"), any white space
// inside, a domain without a dot, an address longer than 254 bytes or a local
// part longer than 64 bytes. Syntax is checked with net/mail.ParseAddress;
// whether the domain or mailbox exists is not.
func ParseEmail(s string) (Email, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxEmailLen {
		return Email{}, fmt.Errorf("%w: longer than %d bytes", ErrEmail, maxEmailLen)
	}
	if s == "" || strings.ContainsFunc(s, unicode.IsSpace) {
		return Email{}, fmt.Errorf("%w: empty or contains white space", ErrEmail)
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
	if strings.HasPrefix(domain, "[") || !strings.Contains(domain, ".") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return Email{}, fmt.Errorf("%w: domain is not a dotted name", ErrEmail)
	}
	return Email{address: local + "@" + strings.ToLower(domain)}, nil
}

// Address returns the address, e.g. "Alice@example.com". It is "" for the
// zero Email.
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
