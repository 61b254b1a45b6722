package contact_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/verifyfn/verifyfn/shared/contact"
)

// parseTest is one ParsePhone call and the E.164 form it must give.
type parseTest struct {
	cc, number string
	want       string
}

func runParseTests(t *testing.T, tests []parseTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.cc+"|"+tt.number, func(t *testing.T) {
			p, err := contact.ParsePhone(tt.cc, tt.number)
			if err != nil {
				t.Fatalf("ParsePhone(%q, %q): %v", tt.cc, tt.number, err)
			}
			if got, want := p.E164(), tt.want; got != want {
				t.Errorf("ParsePhone(%q, %q).E164() = %q, want %q", tt.cc, tt.number, got, want)
			}
		})
	}
}

func TestParsePhoneChinaMobile(t *testing.T) {
	const want = "+8613800138000"
	runParseTests(t, []parseTest{
		{"86", "13800138000", want},
		{"+86", "13800138000", want},
		{"0086", "13800138000", want},
		{" +86 ", " 138 0013 8000 ", want},
		{"86", "138-0013-8000", want},
		{"86", "138.0013.8000", want},
		{"86", "013800138000", want},  // trunk prefix 0
		{"86", "8613800138000", want}, // country code without +
		{"86", "+8613800138000", want},
		{"+86", "008613800138000", want},
		{"86", "0086-13800138000", want},
		{"86", "１３８００１３８０００", want},        // full-width digits
		{"86", "１３８－００１３－８０００", want},      // full-width digits and dashes
		{"86", "（+86）138 0013 8000", want}, // full-width parentheses
		{"86", "\u3000138 0013 8000\u3000", want},
		{"86", "١٣٨٠٠١٣٨٠٠٠", want}, // Arabic-Indic digits
		{"", "+8613800138000", want},
		{"", "+86 138-0013-8000", want},
		{"", "(+86)138 0013 8000", want},
		{"", "+86013800138000", want}, // trunk prefix after the country code
		{"", "008613800138000", want},
		{"", "0086-13800138000", want},
		{"", "8613800138000", want}, // country code + number, no +
		{"", "＋８６１３８００１３８０００", want},
		{"+86", "+86 (138) 0013-8000", want},
	})
}

func TestParsePhoneHongKongMobile(t *testing.T) {
	const want = "+85251234567"
	runParseTests(t, []parseTest{
		{"852", "51234567", want},
		{"852", "5123 4567", want},
		{"852", "5123-4567", want},
		{"+852", "5123.4567", want},
		{"852", "+852 5123 4567", want},
		{"852", "00852 51234567", want}, // phonenumbers alone reads this as +52 (Mexico)
		{"852", "(852) 5123 4567", want},
		{"852", "852 5123 4567", want},
		{"852", "85251234567", want},
		{"852", "５１２３４５６７", want},
		{"00852", "(+852) 5123-4567", want},
		{"", "+852 5123 4567", want},
		{"", "00852 5123 4567", want},
		{"", "85251234567", want},
	})
}

func TestParsePhoneOtherCountries(t *testing.T) {
	tests := []struct {
		cc, number string
		e164       string
		countryCod int
		national   string
		region     string
	}{
		{"44", "07400 123456", "+447400123456", 44, "7400123456", "GB"},
		{"+44", "020 7946 0018", "+442079460018", 44, "2079460018", "GB"},
		{"1", "(201) 555-0123", "+12015550123", 1, "2015550123", "US"},
		{"1", "1-201-555-0123", "+12015550123", 1, "2015550123", "US"},
		{"1", "416 555 0123", "+14165550123", 1, "4165550123", "CA"},
		{"7", "8 912 345 67 89", "+79123456789", 7, "9123456789", "RU"}, // Russian trunk prefix 8
		{"7", "701 234 5678", "+77012345678", 7, "7012345678", "KZ"},
		{"380", "050 123 4567", "+380501234567", 380, "501234567", "UA"},
		{"39", "06 1234 5678", "+390612345678", 39, "0612345678", "IT"}, // leading zero is significant
		{"", "+33 6 12 34 56 78", "+33612345678", 33, "612345678", "FR"},
		{"81", "090-1234-5678", "+819012345678", 81, "9012345678", "JP"},
		{"870", "301234567", "+870301234567", 870, "301234567", "001"}, // non-geographic (Inmarsat)
		{"", "+870 301234567", "+870301234567", 870, "301234567", "001"},
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
			if got, want := p.CountryCode(), tt.countryCod; got != want {
				t.Errorf("CountryCode() = %d, want %d", got, want)
			}
			if got, want := p.National(), tt.national; got != want {
				t.Errorf("National() = %q, want %q", got, want)
			}
			if got, want := p.Region(), tt.region; got != want {
				t.Errorf("Region() = %q, want %q", got, want)
			}
		})
	}
}

func TestParsePhoneAccessors(t *testing.T) {
	p, err := contact.ParsePhone("86", "138 0013 8000")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.E164(), "+8613800138000"; got != want {
		t.Errorf("E164() = %q, want %q", got, want)
	}
	if got, want := p.CountryCode(), 86; got != want {
		t.Errorf("CountryCode() = %d, want %d", got, want)
	}
	if got, want := p.National(), "13800138000"; got != want {
		t.Errorf("National() = %q, want %q", got, want)
	}
	if got, want := p.Region(), "CN"; got != want {
		t.Errorf("Region() = %q, want %q", got, want)
	}
	if got, want := p.IsZero(), false; got != want {
		t.Errorf("IsZero() = %v, want %v", got, want)
	}
	if got, want := (contact.Phone{}).IsZero(), true; got != want {
		t.Errorf("Phone{}.IsZero() = %v, want %v", got, want)
	}
	q, err := contact.ParsePhone("", "+86 138-0013-8000")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p == q, true; got != want {
		t.Errorf("two parses of the same number compare equal = %v, want %v", got, want)
	}
}

func TestParsePhoneInvalid(t *testing.T) {
	tests := []struct {
		name, cc, number string
		want             error
	}{
		{"empty", "86", "", contact.ErrPhoneNumber},
		{"empty no cc", "", "", contact.ErrPhoneNumber},
		{"spaces", "86", "   ", contact.ErrPhoneNumber},
		{"punctuation only", "86", "(-)", contact.ErrPhoneNumber},
		{"letters", "86", "abcdefg", contact.ErrPhoneNumber},
		{"letter O for zero", "86", "138OO138OOO", contact.ErrPhoneNumber},
		{"vanity", "1", "1-800-FLOWERS", contact.ErrPhoneNumber},
		{"text around", "86", "call 13800138000 now", contact.ErrPhoneNumber},
		{"extension", "1", "201 555 0123 x12", contact.ErrPhoneNumber},
		{"rfc3966 extension", "1", "2015550123;ext=12", contact.ErrPhoneNumber},
		{"tel uri", "", "tel:+8613800138000", contact.ErrPhoneNumber},
		{"two plus signs", "", "++8613800138000", contact.ErrPhoneNumber},
		{"plus after digits", "86", "138+00138000", contact.ErrPhoneNumber},
		{"hash", "86", "13800138000#", contact.ErrPhoneNumber},
		{"newline inside", "86", "138\n00138000", contact.ErrPhoneNumber},
		{"devanagari digits", "91", "९८७६५४३२१०", contact.ErrPhoneNumber},
		{"invalid utf-8", "86", "138\xff00138000", contact.ErrPhoneNumber},
		{"33 digits", "86", strings.Repeat("1", 33), contact.ErrPhoneNumber},
		{"65 bytes", "86", "13800138000" + strings.Repeat(" ", 54), contact.ErrPhoneNumber},
		{"too short", "86", "138", contact.ErrPhoneNumber},
		{"one digit", "", "+8", contact.ErrPhoneNumber},
		{"too long for China", "86", "138001380001", contact.ErrPhoneNumber},
		{"valid nowhere", "86", "12345678901", contact.ErrPhoneNumber},
		{"valid nowhere intl", "", "+44 0000 000000", contact.ErrPhoneNumber},
		{"national form for wrong country", "852", "13800138000", contact.ErrPhoneNumber},
		{"mismatch plus", "86", "+852 5123 4567", contact.ErrPhoneNumber},
		{"mismatch 00", "852", "0086 138 0013 8000", contact.ErrPhoneNumber},
		{"mismatch unknown in number", "86", "+999 1234 5678", contact.ErrPhoneNumber},
		{"no country code", "", "13800138000", contact.ErrPhoneNumber}, // read as +1 380...
		{"unknown in number", "", "+999 1234 5678", contact.ErrCountryCode},
		{"unknown in number 00", "", "00999 1234 5678", contact.ErrCountryCode},
		{"zero in number", "", "+0 1234 5678", contact.ErrCountryCode},
		{"cc 0", "0", "13800138000", contact.ErrCountryCode},
		{"cc 999", "999", "13800138000", contact.ErrCountryCode},
		{"cc abc", "abc", "13800138000", contact.ErrCountryCode},
		{"cc plus", "+", "13800138000", contact.ErrCountryCode},
		{"cc 4 digits", "8613", "800138000", contact.ErrCountryCode},
		{"cc invalid even with bad number", "999", "", contact.ErrCountryCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := contact.ParsePhone(tt.cc, tt.number)
			if got, want := err, tt.want; !errors.Is(got, want) {
				t.Fatalf("ParsePhone(%q, %q) = %v, %v; want error %v", tt.cc, tt.number, p.E164(), got, want)
			}
			if got, want := p.IsZero(), true; got != want {
				t.Errorf("Phone on error IsZero() = %v, want %v", got, want)
			}
			if tt.number != "" && len(tt.number) > 6 && strings.Contains(err.Error(), tt.number) {
				t.Errorf("error %q contains the input", err)
			}
		})
	}
}

func TestParseMobile(t *testing.T) {
	tests := []struct {
		name, cc, number string
		want             string // E.164, or "" when want error
		wantErr          error
	}{
		{"China mobile", "86", "138 0013 8000", "+8613800138000", nil},
		{"Hong Kong mobile", "852", "5123 4567", "+85251234567", nil},
		{"UK mobile", "44", "07400 123456", "+447400123456", nil},
		{"US fixed-line-or-mobile", "1", "201-555-0123", "+12015550123", nil},
		{"Beijing landline", "86", "010 6552 9988", "", contact.ErrNotMobile},
		{"Beijing landline intl", "", "+86 10 6552 9988", "", contact.ErrNotMobile},
		{"London landline", "44", "020 7946 0018", "", contact.ErrNotMobile},
		{"Hong Kong landline", "852", "2123 4567", "", contact.ErrNotMobile},
		{"US toll free", "1", "800 234 5678", "", contact.ErrNotMobile},
		{"invalid is not ErrNotMobile", "86", "12345", "", contact.ErrPhoneNumber},
		{"bad cc is not ErrNotMobile", "999", "13800138000", "", contact.ErrCountryCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := contact.ParseMobile(tt.cc, tt.number)
			if tt.wantErr != nil {
				if got, want := err, tt.wantErr; !errors.Is(got, want) {
					t.Fatalf("ParseMobile(%q, %q) = %v, %v; want error %v", tt.cc, tt.number, p.E164(), got, want)
				}
				if tt.wantErr == contact.ErrNotMobile {
					if _, err := contact.ParsePhone(tt.cc, tt.number); err != nil {
						t.Errorf("ParsePhone(%q, %q) = %v; want the number to be valid", tt.cc, tt.number, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMobile(%q, %q): %v", tt.cc, tt.number, err)
			}
			if got, want := p.E164(), tt.want; got != want {
				t.Errorf("E164() = %q, want %q", got, want)
			}
		})
	}
}

func TestParseCountryCode(t *testing.T) {
	tests := []struct {
		in   string
		want int // 0: want ErrCountryCode
	}{
		{"86", 86},
		{"+86", 86},
		{"0086", 86},
		{" +852 ", 852},
		{"852", 852},
		{"1", 1},
		{"+1", 1},
		{"7", 7},
		{"44", 44},
		{"380", 380},
		{"800", 800},
		{"870", 870},
		{"８６", 86},
		{"＋８５２", 852},
		{"", 0},
		{"  ", 0},
		{"0", 0},
		{"00", 0},
		{"000", 0},
		{"086", 0},
		{"+0086", 0},
		{"+", 0},
		{"++86", 0},
		{"999", 0},
		{"abc", 0},
		{"8 6", 0},
		{"86a", 0},
		{"-86", 0},
		{"1234", 0},
		{"0081234", 0},
		{"९१", 0}, // Devanagari digits
		{strings.Repeat(" ", 20) + "86", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := contact.ParseCountryCode(tt.in)
			if tt.want == 0 {
				if !errors.Is(err, contact.ErrCountryCode) {
					t.Fatalf("ParseCountryCode(%q) = %d, %v; want ErrCountryCode", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCountryCode(%q): %v", tt.in, err)
			}
			if want := tt.want; got != want {
				t.Errorf("ParseCountryCode(%q) = %d, want %d", tt.in, got, want)
			}
		})
	}
}

func TestPhoneMasked(t *testing.T) {
	tests := []struct {
		cc, number string
		want       string
	}{
		{"86", "13800138000", "+86 138******00"},
		{"852", "51234567", "+852 51****67"},
		{"44", "07400 123456", "+44 740*****56"},
		{"1", "2015550123", "+1 201*****23"},
		{"33", "612345678", "+33 612****78"},
		{"290", "51234", "+290 5****"}, // Saint Helena, 5 digits
		{"690", "7290", "+690 ****"},   // Tokelau, 4 digits
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			p, err := contact.ParsePhone(tt.cc, tt.number)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := p.Masked(), tt.want; got != want {
				t.Errorf("Masked() = %q, want %q", got, want)
			}
			if got, want := p.String(), tt.want; got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
			if got, want := p.LogValue().String(), tt.want; got != want {
				t.Errorf("LogValue() = %q, want %q", got, want)
			}
			if strings.Contains(p.Masked(), p.National()) {
				t.Errorf("Masked() = %q contains the national number", p.Masked())
			}
		})
	}
	if got, want := (contact.Phone{}).Masked(), ""; got != want {
		t.Errorf("Phone{}.Masked() = %q, want %q", got, want)
	}
}

func TestPhoneNeverPrintsFullNumber(t *testing.T) {
	p, err := contact.ParsePhone("86", "13800138000")
	if err != nil {
		t.Fatal(err)
	}
	const national = "13800138000"
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%20v", "%-20s", "%T %v"} {
		s := fmt.Sprintf(format, p)
		if strings.Contains(s, national) {
			t.Errorf("Sprintf(%q) = %q contains the number", format, s)
		}
		if s2 := fmt.Sprintf(format, &p); strings.Contains(s2, national) {
			t.Errorf("Sprintf(%q, &p) = %q contains the number", format, s2)
		}
	}
	if got, want := fmt.Sprintf("%v", p), "+86 138******00"; got != want {
		t.Errorf("%%v = %q, want %q", got, want)
	}
	if got, want := fmt.Sprintf("%q", p), `"+86 138******00"`; got != want {
		t.Errorf("%%q = %q, want %q", got, want)
	}
	if got, want := fmt.Sprintf("[%17s]", p), "[  +86 138******00]"; got != want {
		t.Errorf("%%17s = %q, want %q", got, want)
	}
	if got, want := fmt.Sprintf("%v", struct{ P contact.Phone }{p}), "{+86 138******00}"; got != want {
		t.Errorf("%%v of struct = %q, want %q", got, want)
	}

	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		slog.New(h).Info("sent", "phone", p, slog.Any("ptr", &p), slog.Group("g", "phone", p))
	}
	if strings.Contains(buf.String(), national) {
		t.Errorf("slog output contains the number: %s", buf.String())
	}
	if got, want := strings.Count(buf.String(), "+86 138******00"), 6; got != want {
		t.Errorf("slog output has the masked number %d times, want %d: %s", got, want, buf.String())
	}
}

func TestParsePhoneConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				cc, number := "86", "138 0013 8000"
				if (i+j)%2 == 0 {
					cc, number = "", "00852 5123 4567"
				}
				if _, err := contact.ParseMobile(cc, number); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzParsePhone(f *testing.F) {
	seeds := [][2]string{
		{"86", "13800138000"},
		{"", "+8613800138000"},
		{"+86", "008613800138000"},
		{"", "8613800138000"},
		{"86", "+86 138-0013-8000"},
		{"86", "(+86)138 0013 8000"},
		{"", "+86013800138000"},
		{"86", "１３８００１３８０００"},
		{"852", "5123 4567"},
		{"852", "00852 51234567"},
		{"852", "(852) 5123 4567"},
		{"44", "07400 123456"},
		{"1", "(201) 555-0123"},
		{"7", "8 912 345 67 89"},
		{"39", "06 1234 5678"},
		{"870", "301234567"},
		{"690", "7290"},
		{"0", "1"},
		{"", "+999 1234 5678"},
		{"abc", "tel:+1-201-555-0123;ext=1"},
		{"", "٠٠٨٦١٣٨٠٠١٣٨٠٠٠"},
		{"86", strings.Repeat("9", 40)},
		{"54", "11 2345 6789"},
		{"", "+54 9 11 2345 6789"},
		{"241", "6 03 12 34"},
		{"", "+241 06 03 12 34"},
		{"", "+52 1 55 1234 5678"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, cc, number string) {
		p, err := contact.ParsePhone(cc, number)
		m, mErr := contact.ParseMobile(cc, number)
		if err != nil {
			if !errors.Is(err, contact.ErrPhoneNumber) && !errors.Is(err, contact.ErrCountryCode) {
				t.Fatalf("ParsePhone(%q, %q): unexpected error %v", cc, number, err)
			}
			if !p.IsZero() {
				t.Fatalf("ParsePhone(%q, %q) returned a non-zero Phone with error %v", cc, number, err)
			}
			if mErr == nil || errors.Is(mErr, contact.ErrNotMobile) {
				t.Fatalf("ParsePhone(%q, %q) = %v but ParseMobile = %v", cc, number, err, mErr)
			}
			return
		}
		if mErr == nil && m != p {
			t.Fatalf("ParseMobile(%q, %q) = %q, ParsePhone = %q", cc, number, m.E164(), p.E164())
		}
		if mErr != nil && !errors.Is(mErr, contact.ErrNotMobile) {
			t.Fatalf("ParsePhone(%q, %q) ok but ParseMobile = %v", cc, number, mErr)
		}

		ccs := strconv.Itoa(p.CountryCode())
		if got, want := p.E164(), "+"+ccs+p.National(); got != want {
			t.Fatalf("ParsePhone(%q, %q): E164() = %q, want %q", cc, number, got, want)
		}
		for _, cc2 := range []string{"", ccs} {
			q, err := contact.ParsePhone(cc2, p.E164())
			if err != nil {
				t.Fatalf("ParsePhone(%q, %q) (round trip of %q, %q): %v", cc2, p.E164(), cc, number, err)
			}
			if got, want := q.E164(), p.E164(); got != want {
				t.Fatalf("ParsePhone(%q, %q).E164() = %q, want %q", cc2, p.E164(), got, want)
			}
			if q != p {
				t.Fatalf("ParsePhone(%q, %q) = %#v differs from the first parse", cc2, p.E164(), q)
			}
		}

		// Key: an E.164 number of the same country that ParsePhone accepts
		// and keys the same; it is E164 unless phonenumbers knows another
		// spelling of the line.
		key, err := contact.ParsePhone("", p.Key())
		if err != nil {
			t.Fatalf("ParsePhone(Key() = %q) of (%q, %q): %v", p.Key(), cc, number, err)
		}
		if key.E164() != p.Key() || key.Key() != p.Key() || key.CountryCode() != p.CountryCode() {
			t.Fatalf("Key() = %q of (%q, %q) parses to %q with key %q", p.Key(), cc, number, key.E164(), key.Key())
		}
		if p.Key() != p.E164() && p.Region() != "AR" && p.Region() != "GA" {
			t.Fatalf("Key() = %q differs from E164() = %q in %s", p.Key(), p.E164(), p.Region())
		}

		// Masked: "+cc " then one character per national digit, at least
		// 4 (or all) of them hidden.
		masked, ok := strings.CutPrefix(p.Masked(), "+"+ccs+" ")
		if !ok || len(masked) != len(p.National()) {
			t.Fatalf("Masked() = %q for %q", p.Masked(), p.E164())
		}
		if got, want := strings.Count(masked, "*"), min(len(masked), max(4, len(masked)-5)); got != want {
			t.Fatalf("Masked() = %q hides %d digits, want %d", p.Masked(), got, want)
		}
	})
}

func BenchmarkParsePhone(b *testing.B) {
	for _, bb := range []struct{ name, cc, number string }{
		{"national", "86", "138 0013 8000"},
		{"international", "", "+86 138 0013 8000"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := contact.ParsePhone(bb.cc, bb.number); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
