package contact_test

import (
	"bytes"
	"errors"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/verifyfn/verifyfn/shared/contact"
)

func TestPhoneKey(t *testing.T) {
	tests := []struct {
		cc, number string
		e164, key  string
	}{
		// Argentina: one 10-digit line, with or without the mobile token 9.
		{"54", "11 2345 6789", "+541123456789", "+5491123456789"},
		{"54", "011 2345 6789", "+541123456789", "+5491123456789"},
		{"", "+54 11 2345 6789", "+541123456789", "+5491123456789"},
		{"54", "9 11 2345 6789", "+5491123456789", "+5491123456789"},
		{"54", "011 15 2345 6789", "+5491123456789", "+5491123456789"},
		{"", "+54 9 11 2345 6789", "+5491123456789", "+5491123456789"},
		{"54", "0351 412 3456", "+543514123456", "+5493514123456"},
		{"", "+54 9 351 412 3456", "+5493514123456", "+5493514123456"},
		// Argentine numbers with no mobile spelling keep their own key.
		{"54", "0800 123 4567", "+548001234567", "+548001234567"}, // toll free
		{"54", "0810 123 4567", "+548101234567", "+548101234567"}, // shared cost
		{"54", "675 123 4567", "+546751234567", "+546751234567"},  // mobile without the token
		// Gabon: legacy mobiles, with and without the leading 0 that both
		// format nationally as 06 03 12 34.
		{"241", "6 03 12 34", "+2416031234", "+24106031234"},
		{"", "+241 6031234", "+2416031234", "+24106031234"},
		{"241", "06 03 12 34", "+24106031234", "+24106031234"},
		{"", "+241 07 41 23 45", "+24107412345", "+24107412345"},
		{"241", "7 41 23 45", "+2417412345", "+24107412345"},
		{"241", "065 12 34 56", "+24165123456", "+24165123456"}, // current 8-digit numbering
		// Everything else: Key is E164.
		{"86", "138 0013 8000", "+8613800138000", "+8613800138000"},
		{"852", "5123 4567", "+85251234567", "+85251234567"},
		{"44", "07400 123456", "+447400123456", "+447400123456"},
		{"39", "06 1234 5678", "+390612345678", "+390612345678"},
		{"39", "312 345 6789", "+393123456789", "+393123456789"},
		{"1", "(201) 555-0123", "+12015550123", "+12015550123"},
		{"52", "55 1234 5678", "+525512345678", "+525512345678"},
		{"55", "021 11 98765 4321", "+5511987654321", "+5511987654321"},
		{"378", "812345", "+3780549812345", "+3780549812345"},
		{"870", "301234567", "+870301234567", "+870301234567"},
	}
	for _, tt := range tests {
		t.Run(tt.cc+"|"+tt.number, func(t *testing.T) {
			p, err := contact.ParsePhone(tt.cc, tt.number)
			if err != nil {
				t.Fatalf("ParsePhone(%q, %q): %v", tt.cc, tt.number, err)
			}
			if got, want := p.E164(), tt.e164; got != want {
				t.Errorf("E164() = %q, want %q", got, want)
			}
			if got, want := p.Key(), tt.key; got != want {
				t.Errorf("Key() = %q, want %q", got, want)
			}
			q, err := contact.ParsePhone("", p.Key())
			if err != nil {
				t.Fatalf("ParsePhone(Key() = %q): %v", p.Key(), err)
			}
			if got, want := q.E164(), p.Key(); got != want {
				t.Errorf("ParsePhone(Key()).E164() = %q, want %q", got, want)
			}
			if got, want := q.Key(), p.Key(); got != want {
				t.Errorf("ParsePhone(Key()).Key() = %q, want %q", got, want)
			}
		})
	}
	if got, want := (contact.Phone{}).Key(), ""; got != want {
		t.Errorf("Phone{}.Key() = %q, want %q", got, want)
	}
}

// TestPhoneKeyMexicoLegacyRefused pins what phonenumbers v1.8.1 does with
// Mexico's retired mobile prefixes: it refuses them, so they cannot open a
// second bucket. If an update starts accepting them as distinct numbers,
// Key must fold them onto the current form.
func TestPhoneKeyMexicoLegacyRefused(t *testing.T) {
	for _, tt := range []struct{ cc, number string }{
		{"", "+52 1 55 1234 5678"},
		{"", "5215512345678"},
		{"52", "1 55 1234 5678"},
		{"52", "044 55 1234 5678"},
		{"52", "045 55 1234 5678"},
		{"52", "01 55 1234 5678"},
	} {
		p, err := contact.ParsePhone(tt.cc, tt.number)
		if !errors.Is(err, contact.ErrPhoneNumber) {
			t.Errorf("ParsePhone(%q, %q) = %q, %v; want ErrPhoneNumber", tt.cc, tt.number, p.E164(), err)
		}
	}
}

// TestPhoneKeySameNationalDialling checks Key against phonenumbers' own
// data for every region: a valid number and a neighbour spelling (its
// national number with the first digit dropped or one digit put in front)
// that is valid in the same region and that a caller inside the country
// dials with the same digits are one line, and must share a key. It also
// pins the regions where Key differs from E164, so that a metadata update
// that adds one is seen.
func TestPhoneKeySameNationalDialling(t *testing.T) {
	regions := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	national := func(p contact.Phone) string {
		pn, err := phonenumbers.Parse(p.E164(), "ZZ")
		if err != nil {
			t.Fatal(err)
		}
		return phonenumbers.NormalizeDigitsOnly(phonenumbers.Format(pn, phonenumbers.NATIONAL))
	}
	folded := map[string]bool{}
	for _, r := range regions {
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE, phonenumbers.FIXED_LINE} {
			ex := phonenumbers.GetExampleNumberForType(r, typ)
			if ex == nil {
				continue
			}
			cc := "+" + strconv.Itoa(int(ex.GetCountryCode()))
			nsn := phonenumbers.GetNationalSignificantNumber(ex)
			p, err := contact.ParsePhone("", cc+nsn)
			if err != nil {
				t.Fatalf("%s example %s%s: %v", r, cc, nsn, err)
			}
			if p.Key() != p.E164() {
				folded[p.Region()] = true
			}
			alts := []string{nsn[1:]}
			for d := '0'; d <= '9'; d++ {
				alts = append(alts, string(d)+nsn)
			}
			for _, a := range alts {
				q, err := contact.ParsePhone("", cc+a)
				if err != nil || q.E164() == p.E164() || q.Region() != p.Region() {
					continue
				}
				if q.Key() != q.E164() {
					folded[q.Region()] = true
				}
				if national(q) == national(p) && q.Key() != p.Key() {
					t.Errorf("%s and %s are both dialled %s in %s but have keys %s and %s",
						p.E164(), q.E164(), national(p), r, p.Key(), q.Key())
				}
			}
		}
	}
	var got []string
	for r := range folded {
		got = append(got, r)
	}
	sort.Strings(got)
	if want := []string{"AR", "GA"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("regions where Key differs from E164 = %v, want %v (check the new ones against phonenumbers' data and Key's documentation)", got, want)
	}
}

func TestPhoneKeyNeverLogged(t *testing.T) {
	p, err := contact.ParsePhone("54", "11 2345 6789")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("sent", "phone", p)
	if out := buf.String(); strings.Contains(out, "1123456789") || !strings.Contains(out, p.Masked()) {
		t.Errorf("slog output %s: want the masked number only", out)
	}
}

func TestEmailKey(t *testing.T) {
	tests := []struct {
		in, address, key string
	}{
		{"alice@example.com", "alice@example.com", "alice@example.com"},
		{"Alice@Example.com", "Alice@example.com", "alice@example.com"},
		{"ALICE@EXAMPLE.COM", "ALICE@example.com", "alice@example.com"},
		{"aLiCe@example.com", "aLiCe@example.com", "alice@example.com"},
		{"first.Last+Tag@Mail.Example.co.uk", "first.Last+Tag@mail.example.co.uk", "first.last+tag@mail.example.co.uk"},
		// Domains through UTS #46: case, width, NFC and punycode.
		{"alice@exämple.com", "alice@exämple.com", "alice@xn--exmple-cua.com"},
		{"alice@EXÄMPLE.com", "alice@exämple.com", "alice@xn--exmple-cua.com"},
		{"alice@exa\u0308mple.com", "alice@exa\u0308mple.com", "alice@xn--exmple-cua.com"},
		{"alice@xn--exmple-cua.com", "alice@xn--exmple-cua.com", "alice@xn--exmple-cua.com"},
		{"alice@XN--EXMPLE-CUA.COM", "alice@xn--exmple-cua.com", "alice@xn--exmple-cua.com"},
		{"alice@ｅｘａｍｐｌｅ.com", "alice@ｅｘａｍｐｌｅ.com", "alice@example.com"},
		{"alice@ＥＸＡＭＰＬＥ.ｃｏｍ", "alice@ｅｘａｍｐｌｅ.ｃｏｍ", "alice@example.com"},
		{"张三@例子.公司", "张三@例子.公司", "张三@xn--fsqu00a.xn--55qx5d"},
		{"faß@faß.de", "faß@faß.de", "fass@xn--fa-hia.de"}, // IDNA2008 keeps ß in domains; full case folding does not
		// Local parts: NFC and full case folding.
		{"ÄLICE@example.com", "ÄLICE@example.com", "älice@example.com"},
		{"a\u0308lice@example.com", "a\u0308lice@example.com", "älice@example.com"},
		{"A\u0308LICE@example.com", "A\u0308LICE@example.com", "älice@example.com"},
		{"Straße@example.com", "Straße@example.com", "strasse@example.com"},
		{"STRASSE@example.com", "STRASSE@example.com", "strasse@example.com"},
		{"ΣΊΣΥΦΟΣ@example.gr", "ΣΊΣΥΦΟΣ@example.gr", "σίσυφοσ@example.gr"},
		{"σίσυφος@example.gr", "σίσυφος@example.gr", "σίσυφοσ@example.gr"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := contact.ParseEmail(tt.in)
			if err != nil {
				t.Fatalf("ParseEmail(%q): %v", tt.in, err)
			}
			if got, want := e.Address(), tt.address; got != want {
				t.Errorf("Address() = %q, want %q", got, want)
			}
			if got, want := e.Key(), tt.key; got != want {
				t.Errorf("Key() = %q, want %q", got, want)
			}
			k, err := contact.ParseEmail(e.Key())
			if err != nil {
				t.Fatalf("ParseEmail(Key() = %q): %v", e.Key(), err)
			}
			if got, want := k.Key(), e.Key(); got != want {
				t.Errorf("ParseEmail(Key()).Key() = %q, want %q", got, want)
			}
		})
	}
	if got, want := (contact.Email{}).Key(), ""; got != want {
		t.Errorf("Email{}.Key() = %q, want %q", got, want)
	}
}

func TestEmailKeyRefused(t *testing.T) {
	tests := []struct{ name, in string }{
		{"zero-width space in local", "ali\u200Bce@example.com"},
		{"zero-width non-joiner", "ali\u200Cce@example.com"},
		{"zero-width joiner", "ali\u200Dce@example.com"},
		{"left-to-right mark", "alice\u200E@example.com"},
		{"right-to-left mark", "alice@exam\u200Fple.com"},
		{"LRE", "\u202Aalice@example.com"},
		{"RLE", "ali\u202Bce@example.com"},
		{"PDF", "ali\u202Cce@example.com"},
		{"LRO", "ali\u202Dce@example.com"},
		{"RLO", "ali\u202Ece@example.com"},
		{"word joiner", "ali\u2060ce@example.com"},
		{"invisible times", "ali\u2062ce@example.com"},
		{"invisible plus", "ali\u2064ce@example.com"},
		{"LRI", "ali\u2066ce@example.com"},
		{"RLI", "ali\u2067ce@example.com"},
		{"FSI", "ali\u2068ce@example.com"},
		{"PDI", "ali\u2069ce@example.com"},
		{"arabic letter mark", "ali\u061Cce@example.com"},
		{"byte order mark", "\uFEFFalice@example.com"},
		{"soft hyphen", "ali\u00ADce@example.com"},
		{"soft hyphen in domain", "alice@exam\u00ADple.com"},
		{"zero-width space in domain", "alice@exam\u200Bple.com"},
		{"mongolian vowel separator", "ali\u180Ece@example.com"},
		{"tag character", "alice\U000E0041@example.com"},
		{"variation selector", "ali\uFE0Fce@example.com"},
		{"combining grapheme joiner", "ali\u034Fce@example.com"},
		{"hangul filler", "ali\u3164ce@example.com"},
		{"C1 control", "ali\u0085ce@example.com"},
		{"DEL", "ali\x7fce@example.com"},
		{"private use", "ali\uE000ce@example.com"},
		{"unassigned", "ali\U000E0080ce@example.com"},
		{"percent in domain", "alice@example%relay.com"},
		{"percent hack", "alice@relay.com%example.com"},
		{"underscore label", "alice@ex_ample.com"},
		{"leading hyphen label", "alice@-example.com"},
		{"bad punycode", "alice@xn--zz-.com"},
		{"full stop that maps to an empty label", "alice@example．.com"},
		{"greek question mark, canonically a semicolon", "a\u037Eb@example.com"},
		{"folded local over 64 bytes", strings.Repeat("İ", 32) + "@example.com"}, // 64 bytes, folds to 96
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := contact.ParseEmail(tt.in)
			if !errors.Is(err, contact.ErrEmail) {
				t.Fatalf("ParseEmail(%q) = %q (key %q), %v; want ErrEmail", tt.in, e.Address(), e.Key(), err)
			}
			if !e.IsZero() || e.Key() != "" {
				t.Errorf("Email on error = %q, key %q", e.Address(), e.Key())
			}
		})
	}
	// "%" stays allowed in the local part, where it is only a character.
	if _, err := contact.ParseEmail("a%b@example.com"); err != nil {
		t.Errorf(`ParseEmail("a%%b@example.com"): %v`, err)
	}
}
