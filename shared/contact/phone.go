package contact

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"
)

const (
	// maxNumberLen bounds the raw number input, checked before any parsing.
	// 64 bytes leave room for a 17-digit international number written with
	// full-width digits (3 bytes each) but not for much else.
	maxNumberLen = 64
	// maxCountryCodeLen bounds the raw country code input.
	maxCountryCodeLen = 16
	// maxMaskedReveal and minMasked control Masked: at most 3+2 digits of
	// the national number are shown, and never fewer than 4 are hidden.
	maxMaskedReveal = 5
	minMasked       = 4
)

// Phone is a valid phone number in normalised form. The zero value is "no
// number" (see IsZero). Phones are comparable with ==: two Phones are equal
// exactly when their E.164 forms are.
//
// A Phone has two forms: E164, the number as given (normalised), which is
// where messages are sent, and Key, the canonical handset that every limit,
// code and uniqueness check is keyed on (see Key). They differ only for the
// few numbers one handset receives under two E.164 spellings.
//
// Phone implements fmt.Formatter, fmt.Stringer and slog.LogValuer with the
// masked form, so printing or logging it never shows the full number.
type Phone struct {
	e164        string // "+8613800138000"
	key         string // canonical handset, see Key; usually e164
	countryCode int    // 86
	national    string // "13800138000", national significant number
	region      string // "CN"; "001" for non-geographic codes such as +800
	// keyNational is the national significant number of key when key is
	// not e164 (the other spelling's), "" when it is national: what Type
	// needs, so that it does not parse key again.
	keyNational string
}

// ParsePhone normalises a number given as a separate country calling code and
// a number, as described in the package documentation.
//
// countryCode may be "", "86", "+86", "0086" or " +852 " (surrounding space
// is trimmed); a malformed or unknown code gives ErrCountryCode. When it is
// empty the number must carry its own country code (a leading + or 00, or
// digits that begin with the country code, e.g. "8613800138000").
//
// number may contain spaces, dashes, dots, parentheses, full-width digits, a
// leading + or 00 followed by the country code (which must then agree with
// countryCode when both are given), the country code without a plus when it
// is followed by a valid national number, and a national trunk prefix. A
// number that is malformed, longer than 64 bytes, or not valid for its
// country gives ErrPhoneNumber.
func ParsePhone(countryCode, number string) (Phone, error) {
	pn, err := parse(countryCode, number)
	if err != nil {
		return Phone{}, err
	}
	return newPhone(pn), nil
}

// ParseMobile is ParsePhone plus a check that the number is a mobile number
// (or, where the numbering plan cannot tell the two apart, as in the US, a
// fixed-line-or-mobile number). A valid number of any other type (fixed line,
// toll free, VoIP, pager, ...) gives ErrNotMobile.
func ParseMobile(countryCode, number string) (Phone, error) {
	pn, err := parse(countryCode, number)
	if err != nil {
		return Phone{}, err
	}
	switch phonenumbers.GetNumberType(pn) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		return newPhone(pn), nil
	default:
		return Phone{}, ErrNotMobile
	}
}

// ParseCountryCode parses a country calling code such as "852", "+852",
// "0086" or " 44 " (surrounding space is trimmed) and returns it as an int. It
// returns ErrCountryCode unless the code is one that phonenumbers knows,
// including the non-geographic codes such as 800 and 870.
func ParseCountryCode(cc string) (int, error) {
	if len(cc) > maxCountryCodeLen {
		return 0, fmt.Errorf("%w: too long", ErrCountryCode)
	}
	s := strings.TrimSpace(cc)
	plus := false
	if rest, ok := cutPlus(s); ok {
		s, plus = rest, true
	}
	if s == "" {
		return 0, fmt.Errorf("%w: no digits", ErrCountryCode)
	}
	for _, r := range s {
		if !isDigit(r) {
			return 0, fmt.Errorf("%w: not a number", ErrCountryCode)
		}
	}
	d := asciiDigits(s)
	if !plus && strings.HasPrefix(d, "00") {
		d = d[2:]
	}
	// Country calling codes have one to three digits and never start with 0.
	if d == "" || len(d) > 3 || d[0] == '0' {
		return 0, fmt.Errorf("%w: malformed", ErrCountryCode)
	}
	code, err := strconv.Atoi(d)
	if err != nil || phonenumbers.GetRegionCodeForCountryCode(code) == phonenumbers.UNKNOWN_REGION {
		return 0, fmt.Errorf("%w: unknown", ErrCountryCode)
	}
	return code, nil
}

// parse is the shared part of ParsePhone and ParseMobile: it returns a number
// that phonenumbers considers valid, or an error wrapping ErrCountryCode or
// ErrPhoneNumber.
func parse(countryCode, number string) (*phonenumbers.PhoneNumber, error) {
	if len(number) > maxNumberLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrPhoneNumber, maxNumberLen)
	}
	cc := 0
	if strings.TrimSpace(countryCode) != "" {
		var err error
		if cc, err = ParseCountryCode(countryCode); err != nil {
			return nil, err
		}
	}

	s := strings.TrimSpace(number)
	plus, ok := lex(s)
	if !ok {
		return nil, fmt.Errorf("%w: not a phone number", ErrPhoneNumber)
	}
	digits := asciiDigits(s)
	if digits == "" {
		return nil, fmt.Errorf("%w: not a phone number", ErrPhoneNumber)
	}

	// Decide how phonenumbers should read the digits: international (the
	// country code comes first) or national for the given country.
	international := plus
	if !international && strings.HasPrefix(digits, "00") {
		// 00 is the ITU-recommended international prefix and what API
		// clients send. Left to phonenumbers it would be matched against
		// the country's own prefix pattern, which goes wrong where that
		// pattern also covers carrier selection: Hong Kong's 00[126-9]?
		// reads "00852..." as 008 + 52 (Mexico), Korea's and Brazil's do
		// the same.
		international, digits = true, digits[2:]
	}
	var input, region string
	switch {
	case international || cc == 0:
		// With no country code given, bare digits must start with one.
		input, region = "+"+digits, phonenumbers.UNKNOWN_REGION
	default:
		region = phonenumbers.GetRegionCodeForCountryCode(cc)
		input = digits
		if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
			// phonenumbers cannot parse national numbers for
			// non-geographic codes (+800, +870, ...); they have no trunk
			// prefix, so the international form is equivalent.
			input, region = "+"+strconv.Itoa(cc)+digits, phonenumbers.UNKNOWN_REGION
		}
	}

	pn, err := phonenumbers.Parse(input, region)
	if err != nil {
		if cc == 0 && errors.Is(err, phonenumbers.ErrInvalidCountryCode) {
			return nil, fmt.Errorf("%w: unknown country calling code in number", ErrCountryCode)
		}
		return nil, fmt.Errorf("%w: not a phone number", ErrPhoneNumber)
	}
	if cc != 0 && int(pn.GetCountryCode()) != cc {
		return nil, fmt.Errorf("%w: country calling code in number does not match", ErrPhoneNumber)
	}
	if pn.GetExtension() != "" { // unreachable after lex, kept as a guard
		return nil, fmt.Errorf("%w: extensions are not supported", ErrPhoneNumber)
	}
	if !phonenumbers.IsValidNumber(pn) {
		return nil, fmt.Errorf("%w: not a valid number", ErrPhoneNumber)
	}
	return pn, nil
}

func newPhone(pn *phonenumbers.PhoneNumber) Phone {
	p := Phone{
		e164:        phonenumbers.Format(pn, phonenumbers.E164),
		countryCode: int(pn.GetCountryCode()),
		national:    phonenumbers.GetNationalSignificantNumber(pn),
		region:      phonenumbers.GetRegionCodeForNumber(pn),
	}
	p.key = p.e164
	if alt := otherSpelling(pn, p.national, p.region); alt != nil {
		p.key = phonenumbers.Format(alt, phonenumbers.E164)
		p.keyNational = phonenumbers.GetNationalSignificantNumber(alt)
	}
	return p
}

// otherSpelling returns the canonical spelling of pn (valid, in region) when
// phonenumbers knows pn as the other spelling of one line, or nil. nsn is
// pn's national significant number. The two cases, both read from
// phonenumbers' own data rather than from a table kept here:
//
//   - A mobile token (phonenumbers.GetCountryMobileToken; Argentina's 9,
//     dialled after +54 to reach a mobile). "+54 11 2345 6789" parses as a
//     fixed line and "+54 9 11 2345 6789" as a mobile, yet the subscriber
//     number is the same: Argentina gives fixed and mobile lines one
//     10-digit numbering space, and the 9 (15 inside the country) only
//     marks the call as one to a mobile. libphonenumber's FAQ ("Why is this
//     number from Argentina (AR) or Mexico (MX) not identified as the right
//     number type?") recommends exactly this: for a number known to be
//     mobile, such as one sent an SMS code, prepend the 9 and accept the
//     result as canonical when it is valid and mobile.
//   - A leading zero that phonenumbers keeps in some numbers of a country
//     and not in others of the same line: two valid numbers whose national
//     formats are the same digits are what a caller in the country dials
//     for one line. Gabon's legacy mobiles are the case: "+241 6 03 12 34"
//     and "+241 06 03 12 34" both format as "06 03 12 34" (the 0 became
//     part of the number and its removal was postponed; libphonenumber
//     issue 701, python-phonenumbers issue 289). The canonical spelling is
//     the one with the zero, the eight-digit form.
//
// Mexico's former mobile 1 ("+52 1 55 ...") is no case: phonenumbers v1.8.1
// no longer accepts it (the number is invalid), so it never becomes a Phone.
func otherSpelling(pn *phonenumbers.PhoneNumber, nsn, region string) *phonenumbers.PhoneNumber {
	cc := pn.GetCountryCode()
	if tok := phonenumbers.GetCountryMobileToken(int(cc)); tok != "" && !strings.HasPrefix(nsn, tok) &&
		phonenumbers.GetNumberType(pn) != phonenumbers.MOBILE {
		if n, err := strconv.ParseUint(tok+nsn, 10, 64); err == nil {
			alt := &phonenumbers.PhoneNumber{CountryCode: proto.Int32(cc), NationalNumber: proto.Uint64(n)}
			if phonenumbers.IsValidNumberForRegion(alt, region) && phonenumbers.GetNumberType(alt) == phonenumbers.MOBILE {
				return alt
			}
		}
	}
	if nsn[0] != '0' {
		// Validity first: it is cheap, and almost always false.
		alt := &phonenumbers.PhoneNumber{
			CountryCode:        proto.Int32(cc),
			NationalNumber:     proto.Uint64(pn.GetNationalNumber()),
			ItalianLeadingZero: proto.Bool(true),
		}
		if phonenumbers.IsValidNumberForRegion(alt, region) && nationalDigits(alt) == nationalDigits(pn) {
			return alt
		}
	}
	return nil
}

// nationalDigits returns the digits of pn in national format: what a caller
// inside the country dials.
func nationalDigits(pn *phonenumbers.PhoneNumber) string {
	return phonenumbers.NormalizeDigitsOnly(phonenumbers.Format(pn, phonenumbers.NATIONAL))
}

// cutPlus removes a leading plus sign (+ or full-width ＋) from s.
func cutPlus(s string) (string, bool) {
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		return rest, true
	}
	return strings.CutPrefix(s, "＋")
}

// lex reports whether s consists only of digits (see isDigit), separators and
// at most one plus sign before the first digit, with at least one digit, and
// whether it has the plus sign.
func lex(s string) (plus, ok bool) {
	digits := false
	for _, r := range s {
		switch {
		case isDigit(r):
			digits = true
		case r == '+' || r == '＋':
			if plus || digits {
				return false, false
			}
			plus = true
		case isSeparator(r):
		default:
			return false, false
		}
	}
	return plus, digits
}

// isDigit reports whether r is a decimal digit that
// phonenumbers.NormalizeDigitsOnly maps to an ASCII digit: ASCII, full-width,
// Arabic-Indic and extended Arabic-Indic digits. Other Unicode digits are
// passed through by phonenumbers unconverted, so they are rejected here.
func isDigit(r rune) bool {
	return '0' <= r && r <= '9' ||
		'０' <= r && r <= '９' ||
		'\u0660' <= r && r <= '\u0669' ||
		'\u06F0' <= r && r <= '\u06F9'
}

// isSeparator reports whether r is punctuation allowed between the digits of
// a number: a subset of phonenumbers' VALID_PUNCTUATION.
func isSeparator(r rune) bool {
	switch r {
	case ' ', '-', '.', '/', '(', ')',
		'\u00A0', '\u3000', // no-break space, ideographic space
		'\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', // hyphens, dashes, minus
		'－', '．', '／', '（', '）': // full-width - . / ( )
		return true
	}
	return false
}

// asciiDigits returns the digits of s as ASCII, converted by phonenumbers.
// s must have passed lex or contain only isDigit runes.
func asciiDigits(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		return phonenumbers.NormalizeDigitsOnly(s)
	}
	// Fast path for ASCII input, same result as NormalizeDigitsOnly.
	var buf [maxNumberLen]byte
	d := buf[:0]
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			d = append(d, s[i])
		}
	}
	return string(d)
}

// E164 returns the number in E.164 form, e.g. "+8613800138000": the number
// as given, the form to send to SMS and voice providers and to show back. It
// is "" for the zero Phone.
func (p Phone) E164() string { return p.e164 }

// Key returns the canonical handset key, an E.164 number: the form every send
// limit, code scope and uniqueness check is keyed on, so that the spellings
// of one handset share one cooldown, one send window and one registration.
// Messages are sent to E164, never to Key.
//
// Key is E164 except where phonenumbers knows two valid E.164 spellings of
// one line; then both give the same one of the two:
//
//   - Argentina: "+54 11 2345 6789" (parsed as fixed line) and
//     "+54 9 11 2345 6789" (mobile, with the mobile token 9) give
//     "+5491123456789";
//   - Gabon: "+241 6 03 12 34" and "+241 06 03 12 34" (legacy mobiles, one
//     national format "06 03 12 34") give "+24106031234".
//
// Spellings that differ only in punctuation, trunk prefix, carrier code or
// international prefix already give one E164. Key is itself a number that
// ParsePhone accepts, with the same Key. It is "" for the zero Phone.
func (p Phone) Key() string { return p.key }

// CountryCode returns the country calling code, e.g. 86.
func (p Phone) CountryCode() int { return p.countryCode }

// National returns the national significant number, digits only and without
// a trunk prefix, e.g. "13800138000". It keeps the leading zero of numbers
// that have one in E.164 (Italian fixed lines).
func (p Phone) National() string { return p.national }

// Region returns the CLDR region code of the number, e.g. "CN", "HK", or
// "CA" for a Canadian +1 number; "001" for non-geographic numbers such as
// +800 or +870.
func (p Phone) Region() string { return p.region }

// IsZero reports whether p is the zero Phone.
func (p Phone) IsZero() bool { return p.e164 == "" }

// Masked returns a form safe for logs: the country calling code, the first 3
// and last 2 digits of the national number and one * for each other digit,
// e.g. "+86 138******00". At least 4 digits are always hidden, so shorter
// national numbers show fewer digits ("+852 51****67"). The zero Phone
// gives "".
func (p Phone) Masked() string {
	if p.IsZero() {
		return ""
	}
	n := len(p.national)
	reveal := min(max(n-minMasked, 0), maxMaskedReveal)
	head, tail := (reveal+1)/2, reveal/2
	b := make([]byte, 0, 6+n)
	b = append(b, '+')
	b = strconv.AppendInt(b, int64(p.countryCode), 10)
	b = append(b, ' ')
	b = append(b, p.national[:head]...)
	for range n - reveal {
		b = append(b, '*')
	}
	b = append(b, p.national[n-tail:]...)
	return string(b)
}

// String returns the masked form, as Masked, so that printing a Phone never
// shows the full number. Use E164 for the number itself.
func (p Phone) String() string { return p.Masked() }

// Format implements fmt.Formatter: every verb, %#v and %d included, prints
// the masked form (as a string, so %q quotes it and widths apply).
func (p Phone) Format(f fmt.State, verb rune) { formatMasked(f, verb, p.Masked()) }

// LogValue implements slog.LogValuer with the masked form.
func (p Phone) LogValue() slog.Value { return slog.StringValue(p.Masked()) }

// formatMasked prints masked for any verb, keeping flags and width.
func formatMasked(f fmt.State, verb rune, masked string) {
	switch verb {
	case 'q', 'x', 'X':
	default:
		verb = 's'
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), masked)
}
