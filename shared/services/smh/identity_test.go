package smh_test

import (
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/services/smh"
)

// A number's limits, codes and the super-admin comparison are keyed on its
// canonical handset key (contact.Phone.Key). SMH needs a mobile, so the only
// pair ParseMobile accepts in both spellings is Gabon's legacy mobiles
// ("6 03 12 34" and "06 03 12 34", one line); Argentina's fixed-line
// spelling is refused as not mobile.

func TestHandsetSpellingsShareCooldownAndAdmin(t *testing.T) {
	s, c := start(t)
	gabon := func(purpose, number string) map[string]any { return req(purpose, number, "CountryCode", "241") }
	if got := c.send(gabon(smh.BindSuperAdmin, "06 03 12 34")); got != "" {
		t.Fatalf("SendSmsCode: %q", got)
	}
	if got := c.send(gabon(smh.BindSuperAdmin, "6 03 12 34")); got != "RequestLimitExceeded.SendSms" {
		t.Fatalf("the other spelling right after: %q, want RequestLimitExceeded.SendSms", got)
	}
	code := s.LastCode(t, "+24106031234")
	if got := c.verify(withCode(gabon(smh.BindSuperAdmin, "6031234"), code)); got != "" {
		t.Fatalf("VerifySmsCode under the other spelling: %q", got)
	}
	// The bound admin is recognised under either spelling.
	s.Clock.Advance(61 * time.Second)
	if got := c.send(gabon(smh.BindSuperAdmin, "6 03 12 34")); got != "InvalidParameterValue.NotModified" {
		t.Fatalf("binding the admin again under the other spelling: %q", got)
	}
	if got := c.send(gabon(smh.ChannelUpdateVerify, "6 03 12 34")); got != "" {
		t.Fatalf("ChannelUpdateVerify under the other spelling: %q", got)
	}
	if m := s.Messages(t); m[len(m)-1].To != "+2416031234" {
		t.Fatalf("message to %s, want the spelling given", m[len(m)-1].To)
	}
}

func TestArgentineFixedSpellingNotMobile(t *testing.T) {
	s := apitest.Start(t)
	c := caller{t, s.Tencent(tcclient.Options{})}
	p := req(smh.BindSuperAdmin, "11 2345 6789", "CountryCode", "54", "InstanceId", accounts.DevInstanceID)
	if got := c.send(p); got != "InvalidParameterValue.PhoneNumber" {
		t.Fatalf("Argentine number without the mobile token: %q", got)
	}
}
