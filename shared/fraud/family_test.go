package fraud_test

import (
	"testing"

	"github.com/verifyfn/verifyfn/shared/fraud"
)

func TestFamily(t *testing.T) {
	for reason, want := range map[string]string{
		fraud.ReasonNumberType: "number_type", fraud.ReasonPrefixVelocity: "prefix_velocity",
		fraud.ReasonPrefixConversion: "conversion", fraud.ReasonCountryConversion: "conversion",
		fraud.ReasonDailyBudget: "budget", fraud.ReasonMonthlyBudget: "budget", "guard": "other",
	} {
		if got := fraud.Family(reason); got != want {
			t.Errorf("Family(%s) = %s, want %s", reason, got, want)
		}
	}
}
