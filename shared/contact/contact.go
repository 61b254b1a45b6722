// Package contact parses phone numbers and email addresses from untrusted
// input into normalised values that are safe to store, compare and log.
//
// Phone numbers are parsed and validated with github.com/nyaruka/phonenumbers
// (the maintained Go port of Google's libphonenumber); this package adds only
// a strict lexical front end and the rules for combining a separate country
// calling code with a number:
//
//   - The number may contain ASCII, full-width (１３８) or Arabic-Indic digits,
//     spaces, dashes, dots, slashes and parentheses (ASCII or full-width),
//     and one plus sign (+ or ＋) before the first digit. Anything else
//     (letters, extensions such as "x12" or ";ext=12", "tel:" URIs, text around
//     the number) is rejected rather than guessed at, and so is a number longer
//     than 64 bytes.
//   - A leading + or 00 marks the number as international: the country
//     calling code is read from the number and, when a country code is also
//     given, the two must agree. 00 is always read as the international
//     prefix, whatever the country's own dialling prefix (011, 010, 0011, ...).
//   - Otherwise the number is read as dialled inside the given country: the
//     national trunk prefix (0 in China, the UK, ...) is removed, and so is
//     the country code written without a plus ("8613800138000" with country
//     code 86) when what follows is a valid national number. If the digits
//     are valid both with and without the leading country code, phonenumbers
//     keeps them whole: with code 49, "4915123456789" gives +49 4915123456789,
//     not +49 15123456789. Send such numbers with a + or 00.
//   - With no country code the number must carry one: +8613800138000,
//     008613800138000, or the bare digits 8613800138000 (country code and
//     national number without a plus, as some gateways send it).
//
// A Phone is only ever built from a number that phonenumbers.IsValidNumber
// accepts; ParseMobile further requires a mobile (or fixed-line-or-mobile)
// number. Validity means the number matches the numbering plan, not that it
// is in service.
//
// Each Phone and Email has two forms: the one to deliver to (E164, Address:
// the input as given, normalised only as far as that is certain to reach the
// same line or mailbox) and a canonical identity ([Phone.Key], [Email.Key])
// on which every limit, code and uniqueness check is keyed, so that the
// spellings of one handset or one mailbox share one bucket: the two E.164
// spellings of an Argentine or Gabonese line, the case, width, Unicode
// normalisation and punycode spellings of an address.
//
// Phone and Email print masked (see [Phone.Masked] and [Email.Masked]) with
// every fmt verb and as log/slog values, so a full number or address reaches
// a log only through an explicit call to E164, National, Address or Key.
// Error messages never contain the input.
package contact

import "errors"

// Errors returned by this package. Errors are wrapped with a short reason
// (never the input), so compare them with errors.Is.
var (
	// ErrCountryCode reports a malformed or unknown country calling code,
	// given either separately or at the start of a number.
	ErrCountryCode = errors.New("contact: invalid country calling code")
	// ErrPhoneNumber reports a number that cannot be parsed, is not valid
	// for its country, or whose country calling code disagrees with the one
	// given separately.
	ErrPhoneNumber = errors.New("contact: invalid phone number")
	// ErrNotMobile reports a valid number that is not a mobile number. Only
	// ParseMobile returns it.
	ErrNotMobile = errors.New("contact: not a mobile phone number")
	// ErrEmail reports a malformed or overlong email address.
	ErrEmail = errors.New("contact: invalid email address")
)
