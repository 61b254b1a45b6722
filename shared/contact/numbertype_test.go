package contact_test

import (
	"testing"

	"github.com/verifyfn/verifyfn/shared/contact"
)

func TestNumberType(t *testing.T) {
	for e164, want := range map[string]contact.NumberType{
		"+447400123456":   contact.Mobile,
		"+449012345678":   contact.PremiumRate,
		"+448001234567":   contact.TollFree,
		"+4918012345":     contact.SharedCost,
		"+445512345678":   contact.UAN,
		"+447640123456":   contact.Pager,
		"+49177991234567": contact.Voicemail,
		"+85221234567":    contact.FixedLine,
		"+12015550123":    contact.FixedLineOrMobile,
		"+541123456789":   contact.Mobile, // the fixed-line spelling of an Argentine mobile: typed by its handset
	} {
		p, err := contact.ParsePhone("", e164)
		if err != nil {
			t.Fatal(e164, err)
		}
		if got := p.Type(); got != want {
			t.Errorf("%s: type %s, want %s", p, got, want)
		}
	}
	if (contact.Phone{}).Type() != contact.UnknownType {
		t.Error("the zero Phone has a type")
	}
	if _, err := contact.ParseNumberTypes("mobile,premium"); err == nil {
		t.Error("an unknown type name was accepted")
	}
	if ts, err := contact.ParseNumberTypes("none"); err != nil || ts == nil || len(ts) != 0 {
		t.Errorf("none: %v %v", ts, err)
	}
}
