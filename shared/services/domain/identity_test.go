package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/store"
)

// The limits, the code and the verified record of a contact are keyed on its
// canonical identity (contact.Email.Key, contact.Phone.Key): the spellings of
// one mailbox or handset share one cooldown, one send window and one record,
// while codes are delivered to the contact as given.

const limited = "RequestLimitExceeded" // SendIntlPhoneEmailCode's cooldown and window answer

func TestEmailSpellingsShareOneCooldown(t *testing.T) {
	s := apitest.Start(t)
	c := caller{t, s.Tencent(tcclient.Options{})}
	for _, group := range [][]string{
		{"alice@example.com", "ALICE@example.com", "Alice@Example.com", "aLiCe@EXAMPLE.COM"},
		// One IDN domain: precomposed, decomposed, punycode, upper case.
		{"bob@exämple.com", "bob@exa\u0308mple.com", "bob@xn--exmple-cua.com", "BOB@XN--EXMPLE-CUA.COM", "bob@EXÄMPLE.com"},
		// Full-width letters map to ASCII in a domain.
		{"carol@example.org", "carol@ｅｘａｍｐｌｅ.org", "Carol@ＥＸＡＭＰＬＥ.ｏｒｇ"},
		// A decomposed local part is the precomposed one.
		{"\u00e4nne@example.net", "a\u0308nne@example.net", "\u00c4NNE@example.net"},
	} {
		if got := c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": group[0]}); got != "" {
			t.Fatalf("first send to %q: %q", group[0], got)
		}
		for _, variant := range group[1:] {
			if got := c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": variant}); got != limited {
				t.Errorf("send to %q right after %q: %q, want %s", variant, group[0], got, limited)
			}
		}
	}
	if got, want := len(s.Messages(t)), 4; got != want {
		t.Fatalf("%d messages sent, want %d (one per mailbox)", got, want)
	}
}

func TestEmailSpellingsShareOneWindow(t *testing.T) {
	s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) {
		c.Cooldown = time.Second
		c.Windows = []store.Window{{Period: time.Hour, Max: 3}}
	}))
	c := caller{t, s.Tencent(tcclient.Options{})}
	spellings := []string{"dave@example.com", "Dave@example.com", "DAVE@Example.com", "dave@EXAMPLE.COM"}
	for i, mail := range spellings {
		s.Clock.Advance(2 * time.Second)
		got := c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": mail})
		want := ""
		if i == 3 {
			want = limited
		}
		if got != want {
			t.Fatalf("send %d to %q: %q, want %q", i+1, mail, got, want)
		}
	}
	// Each message went to the address as given (domain lowercased).
	msgs := s.Messages(t)
	for i, want := range []string{"dave@example.com", "Dave@example.com", "DAVE@example.com"} {
		if msgs[i].To != want {
			t.Errorf("message %d to %q, want %q", i+1, msgs[i].To, want)
		}
	}
}

func TestEmailVerifiedUnderAnotherSpelling(t *testing.T) {
	s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) { c.Cooldown = time.Second }))
	c := caller{t, s.Tencent(tcclient.Options{})}
	if got := c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": "Alice@Example.com"}); got != "" {
		t.Fatalf("send: %q", got)
	}
	code := s.LastCode(t, "Alice@example.com")
	if got := c.code("CreateIntlPhoneEmail", map[string]any{"Type": 2, "Code": "alice@example.com", "VerifyCode": code}); got != "" {
		t.Fatalf("verify the code sent to Alice@Example.com as alice@example.com: %q", got)
	}
	// The other way round: sent to the lower-case spelling, registered with
	// capitals, and listed as registered, not in its canonical form.
	if got := c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": "erin@example.com"}); got != "" {
		t.Fatalf("send: %q", got)
	}
	if got := c.code("CreateIntlPhoneEmail", map[string]any{"Type": 2, "Code": "Erin@EXAMPLE.com", "VerifyCode": s.LastCode(t, "erin@example.com")}); got != "" {
		t.Fatalf("verify the code sent to erin@example.com as Erin@EXAMPLE.com: %q", got)
	}
	if l := c.list(map[string]any{"Type": 2}); l.TotalCount != 2 || l.PhoneEmailList[0].Code != "alice@example.com" || l.PhoneEmailList[1].Code != "Erin@example.com" {
		t.Fatalf("list %+v, want alice@example.com and Erin@example.com as registered", l)
	}
	// Another spelling is the same, verified contact.
	s.Clock.Advance(2 * time.Second)
	if got := c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": "ALICE@EXAMPLE.COM"}); got != "" {
		t.Fatalf("second send: %q", got)
	}
	if got := c.code("CreateIntlPhoneEmail", map[string]any{"Type": 2, "Code": "ALICE@EXAMPLE.COM", "VerifyCode": s.LastCode(t, "ALICE@example.com")}); got != "InternalError.VerifiedPhoneEmailErr" {
		t.Fatalf("verify ALICE@EXAMPLE.COM after Alice@Example.com: %q", got)
	}
	if got := c.code("DeleteIntlPhoneEmail", map[string]any{"Type": 2, "Code": "alice@EXAMPLE.com"}); got != "" {
		t.Fatalf("delete alice@EXAMPLE.com: %q", got)
	}
	if l := c.list(map[string]any{}); l.TotalCount != 1 || l.PhoneEmailList[0].Code != "Erin@example.com" {
		t.Fatalf("after delete %+v", l)
	}
}

func TestPhoneSpellingsShareOneCooldown(t *testing.T) {
	s := apitest.Start(t)
	c := caller{t, s.Tencent(tcclient.Options{})}
	for _, pair := range [][2]string{
		{"+54 9 11 2345 6789", "+54 11 2345 6789"}, // Argentina: with and without the mobile token
		{"+241 06 03 12 34", "+241 6 03 12 34"},    // Gabon: legacy mobile with and without the 0
	} {
		if got := c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 1, "Code": pair[0]}); got != "" {
			t.Fatalf("send to %s: %q", pair[0], got)
		}
		if got := c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 1, "Code": pair[1]}); got != limited {
			t.Errorf("send to %s right after %s: %q, want %s", pair[1], pair[0], got, limited)
		}
	}
	// A code sent to one spelling verifies under the other; the record keeps
	// the number as registered, and the other spelling deletes it.
	s.Clock.Advance(61 * time.Second)
	if got := c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 1, "Code": "+54 11 2345 6789"}); got != "" {
		t.Fatalf("send to the fixed-line spelling: %q", got)
	}
	code := s.LastCode(t, "+541123456789")
	if got := c.code("CreateIntlPhoneEmail", map[string]any{"Type": 1, "Code": "+5491123456789", "VerifyCode": code}); got != "" {
		t.Fatalf("verify under the mobile spelling: %q", got)
	}
	if l := c.list(map[string]any{"Type": 1}); l.TotalCount != 1 || l.PhoneEmailList[0].Code != "+5491123456789" {
		t.Fatalf("list %+v", l)
	}
	if got := c.code("DeleteIntlPhoneEmail", map[string]any{"Type": 1, "Code": "+54 11 2345 6789"}); got != "" {
		t.Fatalf("delete under the fixed-line spelling: %q", got)
	}
}

func TestInvisibleCharactersAndPercentRefused(t *testing.T) {
	s := apitest.Start(t)
	c := caller{t, s.Tencent(tcclient.Options{})}
	for _, mail := range []string{
		"ali\u200Bce@example.com",  // zero-width space
		"ali\u200Dce@example.com",  // zero-width joiner
		"alice\u200E@example.com",  // left-to-right mark
		"alice@exam\u200Fple.com",  // right-to-left mark in the domain
		"ali\u202Ece@example.com",  // right-to-left override
		"ali\u2066ce@example.com",  // left-to-right isolate
		"ali\u2060ce@example.com",  // word joiner
		"\uFEFFalice@example.com",  // byte order mark
		"ali\u00ADce@example.com",  // soft hyphen
		"alice@example%relay.com",  // % in the domain
		"alice@relay.com%evil.com", // source-routing hack
	} {
		for _, action := range []string{"SendIntlPhoneEmailCode", "CreateIntlPhoneEmail", "DeleteIntlPhoneEmail"} {
			p := map[string]any{"Type": 2, "Code": mail}
			if action == "CreateIntlPhoneEmail" {
				p["VerifyCode"] = "123456"
			}
			if got := c.code(action, p); got != "InvalidParameterValue.InvalidParameterFormat" {
				t.Errorf("%s %q: %q, want InvalidParameterValue.InvalidParameterFormat", action, mail, got)
			}
		}
	}
	if n := len(s.Messages(t)); n != 0 {
		t.Fatalf("%d messages sent to refused addresses", n)
	}
	if strings.Contains(s.Logs(), "\u202E") {
		t.Fatal("a bidi override reached the log")
	}
}
