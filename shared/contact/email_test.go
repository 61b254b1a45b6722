package contact_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/shared/contact"
)

func TestParseEmail(t *testing.T) {
	tests := []struct {
		in         string
		want       string
		wantDomain string
		wantMasked string
	}{
		{"alice@example.com", "alice@example.com", "example.com", "a***@example.com"},
		{"Alice@Example.COM", "Alice@example.com", "example.com", "A***@example.com"},
		{"  bob@example.org\n", "bob@example.org", "example.org", "b***@example.org"},
		{"first.last+tag@mail.example.co.uk", "first.last+tag@mail.example.co.uk", "mail.example.co.uk", "f***@mail.example.co.uk"},
		{"x@example.com", "x@example.com", "example.com", "***@example.com"},
		{"o'brien_1-2@sub-domain.example.io", "o'brien_1-2@sub-domain.example.io", "sub-domain.example.io", "o***@sub-domain.example.io"},
		{"张三@例子.公司", "张三@例子.公司", "例子.公司", "张***@例子.公司"},
		{strings.Repeat("a", 64) + "@example.com", strings.Repeat("a", 64) + "@example.com", "example.com", "a***@example.com"},
		{"a@" + strings.Repeat("b", 248) + ".com", "a@" + strings.Repeat("b", 248) + ".com", strings.Repeat("b", 248) + ".com", "***@" + strings.Repeat("b", 248) + ".com"}, // 254 bytes
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := contact.ParseEmail(tt.in)
			if err != nil {
				t.Fatalf("ParseEmail(%q): %v", tt.in, err)
			}
			if got, want := e.Address(), tt.want; got != want {
				t.Errorf("Address() = %q, want %q", got, want)
			}
			if got, want := e.Domain(), tt.wantDomain; got != want {
				t.Errorf("Domain() = %q, want %q", got, want)
			}
			if got, want := e.Masked(), tt.wantMasked; got != want {
				t.Errorf("Masked() = %q, want %q", got, want)
			}
			if got, want := e.String(), tt.wantMasked; got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
			if got, want := e.LogValue().String(), tt.wantMasked; got != want {
				t.Errorf("LogValue() = %q, want %q", got, want)
			}
			if got, want := e.IsZero(), false; got != want {
				t.Errorf("IsZero() = %v, want %v", got, want)
			}
		})
	}
}

func TestParseEmailInvalid(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"spaces", "   "},
		{"display name", "Name <a@b.com>"},
		{"angle brackets", "<a@b.com>"},
		{"quoted display name", `"Name" <a@b.com>`},
		{"comment", "a@b.com (work)"},
		{"no dot in domain", "a@b"},
		{"no at", "ab.com"},
		{"empty local", "@b.com"},
		{"empty domain", "a@"},
		{"two ats", "a@b@c.com"},
		{"space in local", "a b@c.com"},
		{"tab in local", "a\tb@c.com"},
		{"ideographic space", "a\u3000b@c.com"},
		{"quoted local", `"a b"@c.com`},
		{"quoted local no space", `"ab"@c.com`},
		{"domain literal", "a@[10.0.0.1]"},
		{"leading dot domain", "a@.b.com"},
		{"trailing dot domain", "a@b.com."},
		{"double dot domain", "a@b..com"},
		{"double dot local", "a..b@c.com"},
		{"list", "a@b.com, c@d.com"},
		{"control char", "a\x00b@c.com"},
		{"invalid utf-8", "a\xff@b.com"},
		{"local 65 bytes", strings.Repeat("a", 65) + "@example.com"},
		{"255 bytes", "a@" + strings.Repeat("b", 249) + ".com"},
		{"huge", strings.Repeat("a", 1<<20) + "@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := contact.ParseEmail(tt.in)
			if got, want := err, contact.ErrEmail; !errors.Is(got, want) {
				t.Fatalf("ParseEmail(%q) = %q, %v; want error %v", tt.in, e.Address(), got, want)
			}
			if got, want := e.IsZero(), true; got != want {
				t.Errorf("IsZero() = %v, want %v", got, want)
			}
			if len(tt.in) > 3 && strings.Contains(err.Error(), tt.in) {
				t.Errorf("error %q contains the input", err)
			}
		})
	}
}

func TestEmailNeverPrintsFullAddress(t *testing.T) {
	e, err := contact.ParseEmail("alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
		if s := fmt.Sprintf(format, e); strings.Contains(s, "alice") {
			t.Errorf("Sprintf(%q) = %q contains the address", format, s)
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("sent", "email", e)
	if got := buf.String(); strings.Contains(got, "alice") || !strings.Contains(got, `"email":"a***@example.com"`) {
		t.Errorf("slog output = %s, want the masked address only", got)
	}
	if got, want := (contact.Email{}).Masked(), ""; got != want {
		t.Errorf("Email{}.Masked() = %q, want %q", got, want)
	}
	if got, want := (contact.Email{}).Domain(), ""; got != want {
		t.Errorf("Email{}.Domain() = %q, want %q", got, want)
	}
}
