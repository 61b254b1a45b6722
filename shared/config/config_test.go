package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/store"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := config.FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.CodeTTL != 10*time.Minute || c.MaxAttempts != 5 || c.Cooldown != time.Minute ||
		c.RateLimit != 20 || c.SMHCodeLength != 6 || c.CodeKey != nil {
		t.Fatalf("defaults %+v", c)
	}
	if got, want := c.Windows, []store.Window{{Period: time.Hour, Max: 5}, {Period: 24 * time.Hour, Max: 10}}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("windows %v, want %v", got, want)
	}
	if got := c.UnsupportedAreas; len(got) != 3 || got[0] != 7 || got[1] != 380 || got[2] != 86 {
		t.Fatalf("unsupported areas %v", got)
	}
}

func TestInvalidValuesAreNamed(t *testing.T) {
	for name, value := range map[string]string{
		"VERIFYFN_CODE_KEY":                  "short",
		"VERIFYFN_CODE_TTL":                  "11m",
		"VERIFYFN_RESEND_COOLDOWN":           "soon",
		"VERIFYFN_MAX_ATTEMPTS":              "many",
		"VERIFYFN_RATE_LIMIT":                "0",
		"VERIFYFN_SEND_WINDOWS":              "5/1h,ten/1d",
		"VERIFYFN_UNSUPPORTED_COUNTRY_CODES": "7,x",
		"VERIFYFN_SMH_CODE_LENGTH":           "3",
	} {
		_, err := config.FromEnv(env(map[string]string{name: value}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v does not name the variable", name, value, err)
		}
	}
}

func TestCodeKeyNeverInErrors(t *testing.T) {
	_, err := config.FromEnv(env(map[string]string{"VERIFYFN_CODE_KEY": "tiny-secret", "VERIFYFN_CODE_TTL": "bad"}))
	if err == nil || strings.Contains(err.Error(), "tiny-secret") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9000": true, "localhost:9000": true, "[::1]:9000": true,
		"0.0.0.0:9000": false, ":9000": false, "10.0.0.5:9000": false, "garbage": false,
	} {
		if got := config.Loopback(addr); got != want {
			t.Errorf("Loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestParseWindows(t *testing.T) {
	w, err := config.ParseWindows(" 3/10m , 20/24h")
	if err != nil || len(w) != 2 || w[0] != (store.Window{Period: 10 * time.Minute, Max: 3}) || w[1] != (store.Window{Period: 24 * time.Hour, Max: 20}) {
		t.Fatalf("ParseWindows = %v, %v", w, err)
	}
	for _, bad := range []string{"", "5", "0/1h", "5/-1h", "5/xyz"} {
		if _, err := config.ParseWindows(bad); err == nil {
			t.Errorf("ParseWindows(%q) accepted", bad)
		}
	}
}
