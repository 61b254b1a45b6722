package config_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/contact"
)

func TestGuardDefaults(t *testing.T) {
	c, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	g := c.Guard
	if g.Off || g.PrefixDigits != 4 || g.PrefixLimit != 30 || g.PrefixPer != time.Hour || g.Window != 4*time.Hour ||
		g.Bucket != 10*time.Minute || g.MinPermille != 200 || g.CountryVolume != 100 || g.PrefixVolume != 20 ||
		g.Cooloff != time.Hour || g.Trickle != 5*time.Minute ||
		!slices.Equal(g.SMSTypes, []contact.NumberType{contact.Mobile, contact.FixedLineOrMobile}) || len(g.RefusedTypes) != 6 {
		t.Fatalf("defaults: %+v", g)
	}
}

func TestGuardVariables(t *testing.T) {
	env := map[string]string{
		"VERIFYFN_GUARD_REFUSED_TYPES": "premium_rate", "VERIFYFN_GUARD_SMS_TYPES": "any", "VERIFYFN_GUARD_PREFIX_LIMIT": "off",
		"VERIFYFN_GUARD_MIN_CONVERSION": "0.35", "VERIFYFN_GUARD_COUNTRY_VOLUME": "0", "VERIFYFN_GUARD_PREFIX_DIGITS": "3",
	}
	c, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	g := c.Guard
	if len(g.SMSTypes) != 0 || !slices.Equal(g.RefusedTypes, []contact.NumberType{contact.PremiumRate}) || g.PrefixLimit != 0 ||
		g.MinPermille != 350 || g.CountryVolume != 0 || g.PrefixDigits != 3 {
		t.Fatalf("guard: %+v", g)
	}
	for k, v := range map[string]string{
		"VERIFYFN_GUARD": "maybe", "VERIFYFN_GUARD_REFUSED_TYPES": "premium", "VERIFYFN_GUARD_PREFIX_LIMIT": "30",
		"VERIFYFN_GUARD_MIN_CONVERSION": "20%", "VERIFYFN_GUARD_COOLOFF": "-1h", "VERIFYFN_GUARD_CONVERSION_WINDOW": "5m",
		"VERIFYFN_GUARD_PREFIX_DIGITS": "9", "VERIFYFN_GUARD_PREFIX_VOLUME": "-2",
	} {
		_, err := config.FromEnv(func(name string) string {
			if name == k {
				return v
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: error %v, want one naming the variable", k, v, err)
		}
	}
}
