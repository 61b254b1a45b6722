package accounts_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/shared/accounts"
)

func TestGuardSettings(t *testing.T) {
	reg, err := accounts.Parse("a.yaml", []byte(accounts.DevYAML+`    guard:
      allow_countries: [gb, HK, GB]
      allow_prefixes: ["+4477009"]
      allow_numbers: ["+44 7400 123456", "+54 11 2345 6789"]
      daily_budget: 12.5
      monthly_budget: 300
`), os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := reg.Account(accounts.DevAccountID)
	g := a.Guard
	if !slices.Equal(g.AllowCountries, []string{"GB", "HK"}) || !slices.Equal(g.AllowPrefixes, []string{"+4477009"}) ||
		!slices.Equal(g.AllowNumbers, []string{"+447400123456", "+5491123456789"}) || g.DailyBudget != 12_500_000 || g.MonthlyBudget != 300_000_000 {
		t.Fatalf("guard = %+v", g)
	}
}

func TestGuardErrors(t *testing.T) {
	for guard, want := range map[string]string{
		"allow_countries: [XX]":      `a.yaml:13: account "200000000001" guard: allow_countries: "XX" is not an ISO 3166 region`,
		"allow_prefixes: [\"4477\"]": `allow_prefixes: "4477" is not an E.164 prefix`,
		"allow_numbers: [\"+4412\"]": `allow_numbers: not a valid phone number`,
		"daily_budget: -1":           `daily_budget must be a non-negative amount`,
		"monthly_budget: lots":       `monthly_budget must be a non-negative amount`,
		"budget: 1":                  `unknown key "budget" in account "200000000001" guard`,
	} {
		_, err := accounts.Parse("a.yaml", []byte(accounts.DevYAML+"    guard:\n      "+guard+"\n"), os.LookupEnv)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one with %q", guard, err, want)
		}
	}
}
