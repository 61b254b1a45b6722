package contact_test

import (
	"testing"

	"github.com/nyaruka/phonenumbers"

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

// TestNumberTypeIsTheKeysType checks Type, which does not parse the key
// again, against phonenumbers' type of the parsed key: for every region's
// example number of every type, and for the numbers with two spellings.
func TestNumberTypeIsTheKeysType(t *testing.T) {
	byType := map[phonenumbers.PhoneNumberType]contact.NumberType{
		phonenumbers.FIXED_LINE: contact.FixedLine, phonenumbers.MOBILE: contact.Mobile,
		phonenumbers.FIXED_LINE_OR_MOBILE: contact.FixedLineOrMobile, phonenumbers.TOLL_FREE: contact.TollFree,
		phonenumbers.PREMIUM_RATE: contact.PremiumRate, phonenumbers.SHARED_COST: contact.SharedCost,
		phonenumbers.VOIP: contact.VoIP, phonenumbers.PERSONAL_NUMBER: contact.PersonalNumber,
		phonenumbers.PAGER: contact.Pager, phonenumbers.UAN: contact.UAN, phonenumbers.VOICEMAIL: contact.Voicemail,
	}
	want := func(p contact.Phone) contact.NumberType {
		pn, err := phonenumbers.Parse(p.Key(), phonenumbers.UNKNOWN_REGION)
		if err != nil {
			t.Fatalf("%s: key does not parse: %v", p, err)
		}
		if nt, ok := byType[phonenumbers.GetNumberType(pn)]; ok {
			return nt
		}
		return contact.UnknownType
	}
	numbers := []string{"+541123456789", "+5491123456789", "+2416031234", "+24106031234", "+390612345678", "+8613800138000"}
	for region := range phonenumbers.GetSupportedRegions() {
		for pt := range byType {
			if ex := phonenumbers.GetExampleNumberForType(region, pt); ex != nil {
				numbers = append(numbers, phonenumbers.Format(ex, phonenumbers.E164))
			}
		}
	}
	checked := 0
	for _, n := range numbers {
		p, err := contact.ParsePhone("", n)
		if err != nil {
			continue // examples that are not valid numbers
		}
		checked++
		if got, w := p.Type(), want(p); got != w {
			t.Errorf("%s (key %s): Type %s, phonenumbers says %s", n, p.Key(), got, w)
		}
	}
	if checked < 1000 {
		t.Errorf("only %d numbers checked", checked)
	}
}
