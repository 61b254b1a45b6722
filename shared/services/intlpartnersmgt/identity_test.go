package intlpartnersmgt_test

import (
	"context"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
	"github.com/verifyfn/verifyfn/shared/store"
)

// The send limits, the code and the bound-number counter of a handset, and
// the mail claim of CreateAccount, are keyed on the canonical identity
// (contact.Phone.Key, contact.Email.Key); codes go to the number as given.

// twoSpellings are numbers that phonenumbers reads as two valid E.164
// numbers for one line.
var twoSpellings = []struct {
	name, cc string
	a, b     string // PhoneNum spellings
	e164A    string // where a's code is delivered
}{
	{"Argentina, mobile token", "54", "9 11 2345 6789", "11 2345 6789", "+5491123456789"},
	{"Argentina, domestic mobile prefix 15", "54", "011 15 2345 6789", "+54 11 2345 6789", "+5491123456789"},
	{"Gabon, legacy mobile", "241", "06 03 12 34", "6 03 12 34", "+24106031234"},
}

func TestHandsetSpellingsShareOneCooldown(t *testing.T) {
	for _, tt := range twoSpellings {
		t.Run(tt.name, func(t *testing.T) {
			s := apitest.Start(t)
			c := s.Tencent(tcclient.Options{})
			if err := sendCode(c, map[string]any{"CountryCode": tt.cc, "PhoneNum": tt.a}); err != nil {
				t.Fatalf("send to %s: %v", tt.a, err)
			}
			if got := sdkCode(t, sendCode(c, map[string]any{"CountryCode": tt.cc, "PhoneNum": tt.b})); got != "FailedOperation.SendVerifyCodeLimit60" {
				t.Fatalf("send to %s right after %s: %q, want FailedOperation.SendVerifyCodeLimit60", tt.b, tt.a, got)
			}
			if msgs := s.Messages(t); len(msgs) != 1 || msgs[0].To != tt.e164A {
				t.Fatalf("messages %+v, want one to %s", msgs, tt.e164A)
			}
		})
	}
}

func TestHandsetSpellingsShareOneWindow(t *testing.T) {
	s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) {
		c.Cooldown = time.Second
		c.Windows = []store.Window{{Period: time.Hour, Max: 2}}
	}))
	c := s.Tencent(tcclient.Options{})
	for i, num := range []string{"9 11 2345 6789", "11 2345 6789", "+54 11 2345 6789"} {
		s.Clock.Advance(2 * time.Second)
		got := sdkCode(t, sendCode(c, map[string]any{"CountryCode": "54", "PhoneNum": num}))
		want := ""
		if i == 2 {
			want = "FailedOperation.SendVerifyCodeLimit"
		}
		if got != want {
			t.Fatalf("send %d to %s: %q, want %q", i+1, num, got, want)
		}
	}
	// The second message went to the number as given.
	if msgs := s.Messages(t); len(msgs) != 2 || msgs[0].To != "+5491123456789" || msgs[1].To != "+541123456789" {
		t.Fatalf("messages %+v", msgs)
	}
}

func TestCreateAccountAcrossHandsetSpellings(t *testing.T) {
	s := apitest.Start(t, fast)
	c := s.Tencent(tcclient.Options{})
	if err := sendCode(c, map[string]any{"CountryCode": "54", "PhoneNum": "11 2345 6789"}); err != nil {
		t.Fatal(err)
	}
	p := accountParams("argentina@example.com", s.LastCode(t, "+541123456789"))
	p["CountryCode"], p["PhoneNum"], p["Area"] = "54", "+54 9 11 2345 6789", "AR"
	if _, err := createAccount(c, p); err != nil {
		t.Fatalf("CreateAccount under the mobile spelling with the code sent to the fixed-line one: %v", err)
	}
	// One counter for the handset, whichever spelling is used next.
	v, ok, err := s.App.Store.Get(context.Background(), intlpartnersmgt.BoundColl(accounts.DevAccountID), "+5491123456789")
	if err != nil || !ok || string(v) != "1" {
		t.Fatalf("bound count = %q, %v, %v; want 1", v, ok, err)
	}
	for range 4 {
		s.App.Store.Apply(context.Background(), []store.Op{{Kind: store.Incr, Coll: intlpartnersmgt.BoundColl(accounts.DevAccountID), Key: "+5491123456789"}})
	}
	s.Clock.Advance(2 * time.Second)
	if got := sdkCode(t, sendCode(c, map[string]any{"CountryCode": "54", "PhoneNum": "11 2345 6789"})); got != "FailedOperation.PhoneBindUpper" {
		t.Fatalf("SendVerifyCode to the other spelling of a number with 5 accounts: %q", got)
	}
}

func TestCreateAccountMailSpellingsAreOneMailbox(t *testing.T) {
	s := apitest.Start(t, fast)
	c := s.Tencent(tcclient.Options{})
	fresh := func(num string) string {
		t.Helper()
		s.Clock.Advance(2 * time.Second)
		if err := sendCode(c, map[string]any{"CountryCode": "852", "PhoneNum": num}); err != nil {
			t.Fatal(err)
		}
		return s.LastCode(t, "+852"+num)
	}
	for _, pair := range [][2]string{
		{"alice@example.com", "ALICE@example.com"},
		{"bob@example.com", "Bob@EXAMPLE.com"},
		{"carol@exämple.com", "carol@xn--exmple-cua.com"},
		{"dave@xn--exmple-cua.com", "DAVE@exa\u0308mple.com"},
		{"erin@example.org", "erin@ｅｘａｍｐｌｅ.org"},
		{"\u00e4nne@example.com", "a\u0308nne@example.com"},
		{"straße@example.com", "STRASSE@example.com"},
	} {
		p := accountParams(pair[0], fresh("51234567"))
		if _, err := createAccount(c, p); err != nil {
			t.Fatalf("CreateAccount %s: %v", pair[0], err)
		}
		q := accountParams(pair[1], fresh("61234567"))
		q["PhoneNum"] = "61234567"
		if _, err := createAccount(c, q); sdkCode(t, err) != "FailedOperation.MailIsRegistered" {
			t.Errorf("CreateAccount %s after %s: %v, want FailedOperation.MailIsRegistered", pair[1], pair[0], err)
		}
		// Keep the first number under its cap of 5 accounts.
		s.App.Store.Apply(context.Background(), []store.Op{{Kind: store.Put, Coll: intlpartnersmgt.BoundColl(accounts.DevAccountID), Key: "+85251234567", Value: []byte("0")}})
	}
}

func TestCreateAccountInvisibleMailRefused(t *testing.T) {
	s := apitest.Start(t, fast)
	c := s.Tencent(tcclient.Options{})
	for _, mail := range []string{
		"ali\u200Bce@example.com", "ali\u200Dce@example.com", "alice\u200F@example.com",
		"ali\u202Ece@example.com", "ali\u2067ce@example.com", "\uFEFFalice@example.com",
		"alice@example%relay.com", "alice@exam\u2060ple.com",
	} {
		if _, err := createAccount(c, accountParams(mail, "123456")); sdkCode(t, err) != "InvalidParameter.MailFormatIncorrect" {
			t.Errorf("Mail %q: %v, want InvalidParameter.MailFormatIncorrect", mail, err)
		}
	}
}
