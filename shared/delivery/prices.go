package delivery

import "strings"

// Prices price messages per channel and destination before they are sent,
// for the fraud guard's spend budgets: channel -> prefix of the E.164 digits
// (a country calling code such as "44", or a longer prefix such as "1876";
// "" for every other destination) -> price per message in micro-units of
// the budgets' currency (1 = 0.000001). The longest matching prefix wins.
type Prices map[Channel]map[string]int64

// DefaultPrices is the built-in table: 0.05 per SMS and 0.10 per voice call
// to anywhere (the example price of OWASP API4:2023's SMS scenario).
var DefaultPrices = Prices{
	SMS:   {"": 50_000},
	Voice: {"": 100_000},
}

// Lookup returns the price of a message on ch to the E.164 number to, and
// whether the table has one.
func (p Prices) Lookup(ch Channel, to string) (int64, bool) {
	byPrefix := p[ch]
	if byPrefix == nil {
		return 0, false
	}
	digits := strings.TrimPrefix(to, "+")
	for n := len(digits); n > 0; n-- {
		if v, ok := byPrefix[digits[:n]]; ok {
			return v, true
		}
	}
	v, ok := byPrefix[""]
	return v, ok
}
