package setup_test

import (
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/shared/delivery/setup"
)

// A message is priced by the first provider of its route, then by the
// file's table (longest prefix first), then by delivery.DefaultPrices.
func TestPrices(t *testing.T) {
	cfg := baseConfig(t)
	cfg.Delivery.YAML = `
prices:
  sms: {"*": 0.05, "44": 0.04, "1876": 0.3}
providers:
  tencent:
    type: webhook
    url: https://hooks.example.com/a
    secret: env:WH_SECRET
    prices: {sms: {"86": 0.006}}
  twilio:
    type: webhook
    url: https://hooks.example.com/b
    secret: env:WH_SECRET
routes:
  sms:
    "86": [tencent, twilio]
    "*": [twilio, tencent]
  voice:
    "*": [twilio]
`
	_, price, c, err := setup.NewPriced(cfg, setup.Options{LookupEnv: secrets.lookup})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		channel, to string
		want        int64
	}{
		{"sms", "+8613800138000", 6_000},    // the route's first provider's own price
		{"sms", "+447400123456", 40_000},    // the table, by calling code
		{"sms", "+18762345678", 300_000},    // the longest prefix (Jamaica, not +1)
		{"sms", "+12015550123", 50_000},     // the table's "*"
		{"voice", "+447400123456", 100_000}, // no voice prices: the built-in one
	} {
		if got := price(tc.channel, tc.to); got != tc.want {
			t.Errorf("price of %s to %s = %d, want %d", tc.channel, tc.to, got, tc.want)
		}
	}
}

func TestPriceErrors(t *testing.T) {
	for yaml, want := range map[string]string{
		"prices: {email: {\"*\": 1}}":   `"email" is not a priced channel`,
		"prices: {sms: {\"4x\": 1}}":    `is neither a country calling code`,
		"prices: {sms: {\"*\": -1}}":    `must be a price`,
		"prices: {sms: {\"*\": cheap}}": `must be a price`,
		"prices: [1]":                   `must map channels`,
	} {
		cfg := baseConfig(t)
		cfg.Delivery.YAML = yaml + "\nproviders:\n  hook: {type: webhook, url: \"https://h.example.com/\", secret: env:WH_SECRET}\nroutes:\n  sms: {\"*\": [hook]}\n"
		_, _, _, err := setup.NewPriced(cfg, setup.Options{LookupEnv: secrets.lookup})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one saying %q", yaml, err, want)
		}
	}
}
