package accounts

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"gopkg.in/yaml.v3"

	"github.com/verifyfn/verifyfn/shared/contact"
)

// Guard is an account's fraud-guard settings (the guard key of its entry):
//
//	guard:
//	  allow_countries: [GB, HK]            # ISO regions
//	  allow_prefixes: ["+4477009"]         # E.164 prefixes
//	  allow_numbers: ["+447700900123"]     # numbers, any spelling with a country code
//	  daily_budget: 50                     # in the currency of the delivery prices
//	  monthly_budget: 1000
//
// Allow-listed traffic skips the guard's velocity and conversion rules
// (allow-listed numbers its number-type rule too); the budgets apply to
// every send that costs something.
type Guard struct {
	AllowCountries []string // ISO 3166 regions, upper case
	AllowPrefixes  []string // "+" and digits
	AllowNumbers   []string // canonical handset keys (contact.Phone.Key)
	// DailyBudget and MonthlyBudget are in micro-units of the currency
	// (1 = 0.000001); 0 means no budget.
	DailyBudget, MonthlyBudget int64
}

// guardKeys are the keys of an account's guard mapping.
var guardKeys = []string{"allow_countries", "allow_prefixes", "allow_numbers", "daily_budget", "monthly_budget"}

// guard parses an account's guard mapping.
func (p *parser) guard(n *yaml.Node, label string) Guard {
	var g Guard
	if n == nil || isNull(n) {
		return g
	}
	what := label + " guard"
	m, ok := p.mapping(n, what, guardKeys...)
	if !ok {
		return g
	}
	strs := func(key string, each func(line int, s string)) {
		items, _ := p.list(m[key], what+" "+key)
		for i, it := range items {
			if s, ok := p.str(it, fmt.Sprintf("%s %s #%d", what, key, i+1)); ok {
				each(it.Line, s)
			}
		}
	}
	strs("allow_countries", func(line int, s string) {
		r := strings.ToUpper(strings.TrimSpace(s))
		if len(r) != 2 || phonenumbers.GetCountryCodeForRegion(r) == 0 {
			p.errorf(line, "%s: allow_countries: %q is not an ISO 3166 region with a calling code (GB, HK, ...)", what, short(s))
			return
		}
		if !slices.Contains(g.AllowCountries, r) {
			g.AllowCountries = append(g.AllowCountries, r)
		}
	})
	strs("allow_prefixes", func(line int, s string) {
		d, ok := strings.CutPrefix(strings.TrimSpace(s), "+")
		if !ok || len(d) < 1 || len(d) > 14 || strings.Trim(d, "0123456789") != "" || d[0] == '0' {
			p.errorf(line, "%s: allow_prefixes: %q is not an E.164 prefix (+ and 1 to 14 digits, e.g. +4477009)", what, short(s))
			return
		}
		g.AllowPrefixes = append(g.AllowPrefixes, "+"+d)
	})
	strs("allow_numbers", func(line int, s string) {
		ph, err := contact.ParsePhone("", s)
		if err != nil {
			p.errorf(line, "%s: allow_numbers: not a valid phone number with its country code", what)
			return
		}
		g.AllowNumbers = append(g.AllowNumbers, ph.Key())
	})
	g.DailyBudget = p.money(m["daily_budget"], what+" daily_budget")
	g.MonthlyBudget = p.money(m["monthly_budget"], what+" monthly_budget")
	return g
}

// money reads a non-negative amount (an integer or a decimal) as micro-units.
func (p *parser) money(n *yaml.Node, what string) int64 {
	if n == nil || isNull(n) {
		return 0
	}
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		f, err := strconv.ParseFloat(n.Value, 64)
		if err == nil && f >= 0 && f < 1e12 && !math.IsInf(f, 0) {
			return int64(math.Round(f * 1e6))
		}
	}
	p.errorf(n.Line, "%s must be a non-negative amount such as 50 or 12.5", what)
	return 0
}

func short(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
