package contact

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"
)

// NumberType is libphonenumber's type of a number, by its lower-case name:
// what line it is (a mobile, a fixed line, a premium-rate service, ...)
// according to the numbering plan of its country.
type NumberType string

// The number types, as phonenumbers.GetNumberType returns them.
const (
	FixedLine         NumberType = "fixed_line"
	Mobile            NumberType = "mobile"
	FixedLineOrMobile NumberType = "fixed_line_or_mobile" // the plan cannot tell (the US, Canada, ...)
	TollFree          NumberType = "toll_free"
	PremiumRate       NumberType = "premium_rate"
	SharedCost        NumberType = "shared_cost"
	VoIP              NumberType = "voip"
	PersonalNumber    NumberType = "personal_number"
	Pager             NumberType = "pager"
	UAN               NumberType = "uan" // universal access number (a company's single number)
	Voicemail         NumberType = "voicemail"
	UnknownType       NumberType = "unknown"
)

// NumberTypes lists every NumberType.
var NumberTypes = []NumberType{
	FixedLine, Mobile, FixedLineOrMobile, TollFree, PremiumRate, SharedCost, VoIP, PersonalNumber, Pager, UAN,
	Voicemail, UnknownType,
}

var byPhonenumbers = map[phonenumbers.PhoneNumberType]NumberType{
	phonenumbers.FIXED_LINE:           FixedLine,
	phonenumbers.MOBILE:               Mobile,
	phonenumbers.FIXED_LINE_OR_MOBILE: FixedLineOrMobile,
	phonenumbers.TOLL_FREE:            TollFree,
	phonenumbers.PREMIUM_RATE:         PremiumRate,
	phonenumbers.SHARED_COST:          SharedCost,
	phonenumbers.VOIP:                 VoIP,
	phonenumbers.PERSONAL_NUMBER:      PersonalNumber,
	phonenumbers.PAGER:                Pager,
	phonenumbers.UAN:                  UAN,
	phonenumbers.VOICEMAIL:            Voicemail,
}

// Type returns the number type of p's handset (phonenumbers.GetNumberType of
// its Key, so that Argentina's fixed-line spelling of a mobile is a mobile);
// UnknownType for the zero Phone.
func (p Phone) Type() NumberType {
	if p.IsZero() {
		return UnknownType
	}
	if t, ok := byPhonenumbers[phonenumbers.GetNumberType(p.keyNumber())]; ok {
		return t
	}
	return UnknownType
}

// keyNumber returns the phonenumbers form of p's Key without parsing it
// again: its country calling code and national significant number (leading
// zeros as phonenumbers keeps them, the "Italian leading zero"), which is
// all GetNumberType reads.
func (p Phone) keyNumber() *phonenumbers.PhoneNumber {
	nsn := p.national
	if p.keyNational != "" {
		nsn = p.keyNational
	}
	n, _ := strconv.ParseUint(nsn, 10, 64)
	pn := &phonenumbers.PhoneNumber{CountryCode: proto.Int32(int32(p.countryCode)), NationalNumber: proto.Uint64(n)}
	if zeros := len(nsn) - len(strings.TrimLeft(nsn, "0")); zeros > 0 {
		pn.ItalianLeadingZero = proto.Bool(true)
		pn.NumberOfLeadingZeros = proto.Int32(int32(zeros))
	}
	return pn
}

// ParseNumberTypes reads a comma-separated list of number type names
// ("premium_rate,toll_free"); "none" or "" is the empty list.
func ParseNumberTypes(s string) ([]NumberType, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return []NumberType{}, nil
	}
	var out []NumberType
	for part := range strings.SplitSeq(s, ",") {
		t := NumberType(strings.ToLower(strings.TrimSpace(part)))
		known := false
		for _, k := range NumberTypes {
			known = known || k == t
		}
		if !known {
			return nil, fmt.Errorf("%q is not a number type (one of fixed_line, mobile, fixed_line_or_mobile, toll_free, premium_rate, shared_cost, voip, personal_number, pager, uan, voicemail, unknown)", part)
		}
		out = append(out, t)
	}
	return out, nil
}
