package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/verifyfn/verifyfn/shared/contact"
)

// Deployment environments (VERIFYFN_ENV).
const (
	EnvDevelopment = "development"
	EnvTest        = "test"
	EnvStaging     = "staging"
	EnvProduction  = "production"
)

// Delivery is how codes leave verifyfn; the providers themselves are
// described by the YAML named in File or given in YAML (see package
// delivery/setup).
type Delivery struct {
	File          string // VERIFYFN_DELIVERY: providers and routes, a YAML file; none = the development outbox
	YAML          string // VERIFYFN_DELIVERY_YAML: the same YAML itself, instead of a file
	TemplatesFile string // VERIFYFN_TEMPLATES: message texts per channel, locale and purpose, a YAML file
	// TestNumbers maps a destination's canonical key (contact.Phone.Key or
	// contact.Email.Key, the Scope.Destination the engine sees) to its fixed
	// code (VERIFYFN_TEST_NUMBERS). Sends to them skip delivery but keep
	// every limit.
	TestNumbers      map[string]string
	AllowOutbox      bool // VERIFYFN_ALLOW_OUTBOX: allow the development outbox in production
	AllowTestNumbers bool // VERIFYFN_ALLOW_TEST_NUMBERS: allow test numbers in production
}

// Production reports whether VERIFYFN_ENV is "production".
func (c Config) Production() bool { return c.Env == EnvProduction }

// Configured reports whether providers are configured (a file or inline
// YAML); otherwise codes go to the development outbox.
func (d Delivery) Configured() bool { return d.File != "" || d.YAML != "" }

// FixedCodes returns the lookup of test destinations for otp.Config, or nil
// when there are none.
func (d Delivery) FixedCodes() func(destination string) (string, bool) {
	if len(d.TestNumbers) == 0 {
		return nil
	}
	m := d.TestNumbers
	return func(dest string) (string, bool) {
		code, ok := m[dest]
		return code, ok
	}
}

// readDelivery reads VERIFYFN_ENV and the delivery variables into c and
// returns the problems found. Messages name the variable and never quote a
// code.
func (c *Config) readDelivery(getenv func(string) string) []error {
	var errs []error
	c.Env = or(getenv("VERIFYFN_ENV"), EnvDevelopment)
	switch c.Env {
	case EnvDevelopment, EnvTest, EnvStaging, EnvProduction:
	default:
		errs = append(errs, fmt.Errorf("VERIFYFN_ENV=%q: want development, test, staging or production", truncate(c.Env)))
	}
	d := Delivery{
		File:          getenv("VERIFYFN_DELIVERY"),
		YAML:          getenv("VERIFYFN_DELIVERY_YAML"),
		TemplatesFile: getenv("VERIFYFN_TEMPLATES"),
	}
	if d.File != "" && d.YAML != "" {
		errs = append(errs, errors.New("set VERIFYFN_DELIVERY or VERIFYFN_DELIVERY_YAML, not both"))
	}
	var err error
	if d.AllowOutbox, err = boolean(getenv, "VERIFYFN_ALLOW_OUTBOX"); err != nil {
		errs = append(errs, err)
	}
	if d.AllowTestNumbers, err = boolean(getenv, "VERIFYFN_ALLOW_TEST_NUMBERS"); err != nil {
		errs = append(errs, err)
	}
	if d.TestNumbers, err = ParseTestNumbers(getenv("VERIFYFN_TEST_NUMBERS")); err != nil {
		errs = append(errs, fmt.Errorf("VERIFYFN_TEST_NUMBERS: %w", err))
	}
	if c.Production() {
		if !d.Configured() && !d.AllowOutbox {
			errs = append(errs, errors.New("VERIFYFN_ENV=production: the development outbox is refused; "+
				"configure providers with VERIFYFN_DELIVERY (or set VERIFYFN_ALLOW_OUTBOX=true)"))
		}
		if len(d.TestNumbers) > 0 && !d.AllowTestNumbers {
			errs = append(errs, errors.New("VERIFYFN_ENV=production: VERIFYFN_TEST_NUMBERS is refused "+
				"(set VERIFYFN_ALLOW_TEST_NUMBERS=true to allow it)"))
		}
	}
	c.Delivery = d
	return errs
}

// ParseTestNumbers parses "+85251234567=123456,ci@example.com=000000": a
// comma-separated list of destination=code, each destination a phone number
// in E.164 form or an email address, each code 4 to 10 digits. Destinations
// are keyed as the APIs key their limits and codes (contact.Phone.Key,
// contact.Email.Key), so "CI@Example.com" is the test address whatever the
// case it is sent with. Errors name the entry by position and never quote a
// code.
func ParseTestNumbers(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for i, part := range strings.Split(s, ",") {
		n := i + 1
		dest, code, ok := strings.Cut(strings.TrimSpace(part), "=")
		dest, code = strings.TrimSpace(dest), strings.TrimSpace(code)
		if !ok || dest == "" {
			return nil, fmt.Errorf("entry %d is not DESTINATION=CODE", n)
		}
		if len(code) < 4 || len(code) > 10 || strings.Trim(code, "0123456789") != "" {
			return nil, fmt.Errorf("entry %d: the code must be 4 to 10 digits", n)
		}
		var norm string
		if strings.Contains(dest, "@") {
			e, err := contact.ParseEmail(dest)
			if err != nil {
				return nil, fmt.Errorf("entry %d: not an email address", n)
			}
			norm = e.Key()
		} else {
			if !strings.HasPrefix(dest, "+") {
				return nil, fmt.Errorf("entry %d: a phone number must be in E.164 form (+ and country code)", n)
			}
			p, err := contact.ParsePhone("", dest)
			if err != nil {
				return nil, fmt.Errorf("entry %d: not a valid phone number", n)
			}
			norm = p.Key()
		}
		if _, dup := out[norm]; dup {
			return nil, fmt.Errorf("entry %d repeats a destination", n)
		}
		out[norm] = code
	}
	return out, nil
}

func boolean(getenv func(string) string, name string) (bool, error) {
	v := getenv(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s must be true or false", name)
	}
	return b, nil
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
