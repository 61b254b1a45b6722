package config_test

import (
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/shared/config"
)

func TestDeliveryDefaults(t *testing.T) {
	c, err := config.FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Env != config.EnvDevelopment || c.Production() || c.Delivery.Configured() || c.Delivery.TestNumbers != nil ||
		c.Delivery.FixedCodes() != nil || c.Delivery.AllowOutbox || c.Delivery.AllowTestNumbers {
		t.Fatalf("delivery defaults %+v (env %q)", c.Delivery, c.Env)
	}
}

func TestTestNumbers(t *testing.T) {
	c, err := config.FromEnv(env(map[string]string{
		"VERIFYFN_TEST_NUMBERS": "+85251234567=123456, +86 138 0013 8000=000000,CI@Example.COM=4321,+54 11 2345 6789=2468",
	}))
	if err != nil {
		t.Fatal(err)
	}
	fixed := c.Delivery.FixedCodes()
	// Destinations are looked up by their canonical keys (the engine's
	// Scope.Destination): the email case-folded, the Argentine number with
	// its mobile token.
	for dest, want := range map[string]string{"+85251234567": "123456", "+8613800138000": "000000", "ci@example.com": "4321", "+5491123456789": "2468"} {
		if got, ok := fixed(dest); !ok || got != want {
			t.Errorf("%s: %q %v, want %q", dest, got, ok, want)
		}
	}
	if _, ok := fixed("+85251234568"); ok {
		t.Error("an unlisted number has a fixed code")
	}
}

func TestTestNumbersErrors(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"+85251234567", "entry 1 is not DESTINATION=CODE"},
		{"+85251234567=12", "entry 1: the code must be 4 to 10 digits"},
		{"+85251234567=12345a", "entry 1: the code must be 4 to 10 digits"},
		{"+85251234567=123456,51234567=123456", "entry 2: a phone number must be in E.164 form"},
		{"+999123=123456", "entry 1: not a valid phone number"},
		{"a@b=123456", "entry 1: not an email address"},
		{"+85251234567=123456,+852 5123 4567=654321", "entry 2 repeats a destination"},
		{"ci@example.com=123456,CI@EXAMPLE.COM=654321", "entry 2 repeats a destination"},
		{"+5491123456789=123456,+541123456789=654321", "entry 2 repeats a destination"},
	} {
		_, err := config.FromEnv(env(map[string]string{"VERIFYFN_TEST_NUMBERS": tc.value}))
		if err == nil || !strings.Contains(err.Error(), "VERIFYFN_TEST_NUMBERS: "+tc.want) {
			t.Errorf("%q: %v, want %q", tc.value, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "123456") || strings.Contains(err.Error(), "654321")) {
			t.Errorf("%q: the error quotes a code: %v", tc.value, err)
		}
	}
}

func TestProductionRefusals(t *testing.T) {
	// The outbox (no providers) is refused in production...
	_, err := config.FromEnv(env(map[string]string{"VERIFYFN_ENV": "production"}))
	if err == nil || !strings.Contains(err.Error(), "VERIFYFN_ALLOW_OUTBOX") {
		t.Fatalf("production with the outbox: %v", err)
	}
	// ... unless explicitly allowed, or providers are configured.
	if _, err := config.FromEnv(env(map[string]string{"VERIFYFN_ENV": "production", "VERIFYFN_ALLOW_OUTBOX": "true"})); err != nil {
		t.Fatalf("allowed outbox: %v", err)
	}
	c, err := config.FromEnv(env(map[string]string{"VERIFYFN_ENV": "production", "VERIFYFN_DELIVERY": "/etc/verifyfn/delivery.yaml"}))
	if err != nil || !c.Production() || c.Delivery.File != "/etc/verifyfn/delivery.yaml" {
		t.Fatalf("production with providers: %v", err)
	}
	// Test numbers are refused in production unless allowed.
	prod := map[string]string{"VERIFYFN_ENV": "production", "VERIFYFN_DELIVERY": "d.yaml", "VERIFYFN_TEST_NUMBERS": "+85251234567=123456"}
	_, err = config.FromEnv(env(prod))
	if err == nil || !strings.Contains(err.Error(), "VERIFYFN_TEST_NUMBERS is refused") || !strings.Contains(err.Error(), "VERIFYFN_ALLOW_TEST_NUMBERS") {
		t.Fatalf("production with test numbers: %v", err)
	}
	prod["VERIFYFN_ALLOW_TEST_NUMBERS"] = "true"
	if _, err := config.FromEnv(env(prod)); err != nil {
		t.Fatalf("allowed test numbers: %v", err)
	}
	// Outside production test numbers need no permission.
	if _, err := config.FromEnv(env(map[string]string{"VERIFYFN_ENV": "staging", "VERIFYFN_TEST_NUMBERS": "+85251234567=123456"})); err != nil {
		t.Fatal(err)
	}
}

func TestDeliveryVariableErrors(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"VERIFYFN_ENV": "prod"}, `VERIFYFN_ENV="prod"`},
		{map[string]string{"VERIFYFN_ALLOW_OUTBOX": "yes please"}, "VERIFYFN_ALLOW_OUTBOX must be true or false"},
		{map[string]string{"VERIFYFN_ALLOW_TEST_NUMBERS": "maybe"}, "VERIFYFN_ALLOW_TEST_NUMBERS must be true or false"},
		{map[string]string{"VERIFYFN_DELIVERY": "a.yaml", "VERIFYFN_DELIVERY_YAML": "providers: {}"}, "not both"},
	} {
		_, err := config.FromEnv(env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.env, err, tc.want)
		}
	}
}
