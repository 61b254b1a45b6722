package config

import (
	"errors"
	"fmt"
)

// MinControlToken is the shortest VERIFYFN_CONTROL_TOKEN accepted.
const MinControlToken = 16

// Control configures the test kit's control plane (package control).
type Control struct {
	// Token (VERIFYFN_CONTROL_TOKEN), when set, must be presented by every
	// control call as a bearer token; it turns the control plane on in
	// staging and production.
	Token string
	// Disabled (VERIFYFN_CONTROL=false) turns the control plane off in every
	// environment.
	Disabled bool
}

// readControl reads VERIFYFN_CONTROL and VERIFYFN_CONTROL_TOKEN into c.
// Messages never quote the token.
func (c *Config) readControl(getenv func(string) string) []error {
	var errs []error
	on, err := boolean(getenv, "VERIFYFN_CONTROL")
	if err != nil {
		errs = append(errs, err)
	}
	c.Control = Control{Token: getenv("VERIFYFN_CONTROL_TOKEN"), Disabled: getenv("VERIFYFN_CONTROL") != "" && !on}
	if n := len(c.Control.Token); n > 0 && n < MinControlToken {
		errs = append(errs, fmt.Errorf("VERIFYFN_CONTROL_TOKEN must be at least %d bytes (it is %d)", MinControlToken, n))
	}
	if c.Control.Disabled && c.Control.Token != "" {
		errs = append(errs, errors.New("VERIFYFN_CONTROL=false with VERIFYFN_CONTROL_TOKEN set: unset one of them"))
	}
	return errs
}
