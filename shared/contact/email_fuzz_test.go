package contact_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"unicode"

	"github.com/verifyfn/verifyfn/shared/contact"
)

// FuzzParseEmail: any input either fails with ErrEmail and a zero Email, or
// gives an address that is short enough, has no white space, a lowercased
// dotted domain, parses back to itself, and never prints in full.
func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{
		"alice@example.com", " Alice@Example.COM ", "a@b.co", "first.last+tag@sub.example.org",
		"Name <a@example.com>", `"quoted"@example.com`, "a@[10.0.0.1]", "a@localhost", "a@.example.com",
		"a@example..com", "a@example.com.", "@example.com", "a@", "a b@example.com", "ä@例え.jp",
		"a@b@example.com", "(comment)a@example.com", strings.Repeat("a", 65) + "@example.com",
		strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := contact.ParseEmail(s)
		if err != nil {
			if !errors.Is(err, contact.ErrEmail) {
				t.Fatalf("ParseEmail(%q): error %v does not wrap ErrEmail", s, err)
			}
			if !e.IsZero() || e.Address() != "" {
				t.Fatalf("ParseEmail(%q) returned %q with an error", s, e.Address())
			}
			return
		}
		addr := e.Address()
		if len(addr) > 254 || addr == "" || strings.ContainsFunc(addr, unicode.IsSpace) {
			t.Fatalf("ParseEmail(%q) = %q", s, addr)
		}
		at := strings.LastIndexByte(addr, '@')
		local, domain := addr[:at], addr[at+1:]
		if local == "" || len(local) > 64 || domain != strings.ToLower(domain) || domain != e.Domain() || !strings.Contains(domain, ".") {
			t.Fatalf("ParseEmail(%q) = %q: local %q, domain %q", s, addr, local, domain)
		}
		again, err := contact.ParseEmail(addr)
		if err != nil || again != e {
			t.Fatalf("ParseEmail(%q) = %q does not parse back to itself: %q, %v", s, addr, again.Address(), err)
		}
		masked := e.Masked()
		for _, out := range []string{masked, e.String(), fmt.Sprint(e), fmt.Sprintf("%v %+v %#v %s %q", e, e, e, e, e), slog.AnyValue(e).Resolve().String()} {
			if len(local) > 1 && strings.Contains(out, addr) {
				t.Fatalf("%q prints in full: %q", addr, out)
			}
		}
		if !strings.HasSuffix(masked, "@"+domain) || !strings.Contains(masked, "***") {
			t.Fatalf("Masked() = %q for %q", masked, addr)
		}
	})
}
