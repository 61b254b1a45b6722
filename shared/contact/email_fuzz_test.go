package contact_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/verifyfn/verifyfn/shared/contact"
)

// FuzzParseEmail: any input either fails with ErrEmail and a zero Email, or
// gives an address that is short enough, has no white space, a lowercased
// dotted domain, parses back to itself, and never prints in full; and a key
// that is itself an address with an ASCII domain, that ParseEmail accepts
// and keys the same (Key is idempotent), and that is unchanged by ASCII case.
func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{
		"alice@example.com", " Alice@Example.COM ", "a@b.co", "first.last+tag@sub.example.org",
		"Name <a@example.com>", `"quoted"@example.com`, "a@[10.0.0.1]", "a@localhost", "a@.example.com",
		"a@example..com", "a@example.com.", "@example.com", "a@", "a b@example.com", "ä@例え.jp",
		"a@b@example.com", "(comment)a@example.com", strings.Repeat("a", 65) + "@example.com",
		strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com", "",
		"Alice@exämple.com", "alice@exa\u0308mple.com", "ALICE@XN--EXMPLE-CUA.COM", "alice@ｅｘａｍｐｌｅ.com",
		"ali\u200Bce@example.com", "alice@exam\u202Eple.com", "a@b%c.com", "Straße@faß.de", "ǰİß@example.com",
		"\u0345@example.com", "A\u0345\u0301@example.com", "alice@example．com", strings.Repeat("İ", 32) + "@example.com",
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
			// (A local part that is one character and asterisks looks like
			// its own mask: "**@x.y" masks as "****@x.y".)
			_, first := utf8.DecodeRuneInString(local)
			if len(local) > 1 && strings.Contains(out, addr) && strings.Trim(local[first:], "*") != "" {
				t.Fatalf("%q prints in full: %q", addr, out)
			}
		}
		if !strings.HasSuffix(masked, "@"+domain) || !strings.Contains(masked, "***") {
			t.Fatalf("Masked() = %q for %q", masked, addr)
		}
		if strings.ContainsRune(addr, '\u200B') || strings.ContainsRune(addr, '\u202E') || strings.ContainsRune(domain, '%') {
			t.Fatalf("ParseEmail(%q) = %q: invisible character or %% in the domain", s, addr)
		}

		key := e.Key()
		kat := strings.LastIndexByte(key, '@')
		if kat <= 0 || len(key[:kat]) > 64 || len(key) > 254 || strings.ContainsFunc(key[kat+1:], func(r rune) bool { return r >= 0x80 || unicode.IsUpper(r) }) {
			t.Fatalf("ParseEmail(%q).Key() = %q", s, key)
		}
		k, err := contact.ParseEmail(key)
		if err != nil {
			t.Fatalf("ParseEmail(Key() = %q) of %q: %v", key, s, err)
		}
		if k.Key() != key {
			t.Fatalf("Key is not idempotent: %q keys %q, which keys %q", s, key, k.Key())
		}
		if k.Address() != key {
			t.Fatalf("Key %q of %q does not parse to itself: %q", key, s, k.Address())
		}
		// ASCII case is the common variant. (Unicode upper-casing can
		// change more than case: U+0345 becomes a spacing capital iota.)
		upper := strings.Map(func(r rune) rune {
			if 'a' <= r && r <= 'z' {
				return r - 'a' + 'A'
			}
			return r
		}, addr)
		if u, err := contact.ParseEmail(upper); err != nil || u.Key() != key {
			t.Fatalf("ASCII upper case %q of %q keys %q, %v; want %q", upper, addr, u.Key(), err, key)
		}
	})
}
