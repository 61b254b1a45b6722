package cams_test

import (
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
)

// A number's limits, code and registration are keyed on its canonical
// handset key (contact.Phone.Key): the two E.164 spellings that
// phonenumbers knows for one Argentine or Gabonese line are one number;
// codes are sent to the spelling given.

func TestHandsetSpellingsAreOneNumber(t *testing.T) {
	for _, tt := range []struct {
		name, method string
		a, b         string // PhoneNumber spellings
	}{
		// SMS needs a mobile, so Argentina's fixed-line spelling (without
		// the mobile token 9) is only accepted for a voice call.
		{"Argentina, voice", "voice", "5491123456789", "541123456789"},
		{"Gabon, sms", "sms", "24106031234", "2416031234"},
		{"Gabon, sms, short spelling first", "sms", "2417412345", "24107412345"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := apitest.Start(t, withTestAccounts(t))
			c := s.ACSCallers(t, fullAK, fullSecret)[0]
			want(t, "first send", c.Call(t, get, ver, getParams(tt.a, "Method", tt.method)), "")
			want(t, "other spelling in the cooldown", c.Call(t, get, ver, getParams(tt.b, "Method", tt.method)), "System.LimitControl")
			code := s.LastCode(t, "+"+tt.a)
			// The code sent to one spelling registers the other, and then
			// both are registered.
			want(t, "register the other spelling", c.Call(t, register, ver, regParams(tt.b, code)), "")
			s.Clock.Advance(61 * time.Second)
			want(t, "send after register", c.Call(t, get, ver, getParams(tt.a, "Method", tt.method)), "PhoneNumber.AlreadyRegistered")
			if n := len(s.Messages(t)); n != 1 {
				t.Fatalf("%d messages, want 1", n)
			}
		})
	}
}
