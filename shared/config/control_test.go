package config_test

import (
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/shared/config"
)

func TestControl(t *testing.T) {
	c, err := config.FromEnv(env(nil))
	if err != nil || c.Control.Token != "" || c.Control.Disabled {
		t.Fatalf("default control %+v, %v", c.Control, err)
	}
	c, err = config.FromEnv(env(map[string]string{"VERIFYFN_CONTROL_TOKEN": "0123456789abcdef"}))
	if err != nil || c.Control.Token != "0123456789abcdef" {
		t.Fatalf("token: %+v, %v", c.Control, err)
	}
	for _, v := range []string{"false", "0"} {
		c, err = config.FromEnv(env(map[string]string{"VERIFYFN_CONTROL": v}))
		if err != nil || !c.Control.Disabled {
			t.Fatalf("VERIFYFN_CONTROL=%s: %+v, %v", v, c.Control, err)
		}
	}
	c, err = config.FromEnv(env(map[string]string{"VERIFYFN_CONTROL": "true"}))
	if err != nil || c.Control.Disabled {
		t.Fatalf("VERIFYFN_CONTROL=true: %+v, %v", c.Control, err)
	}
	for _, tc := range []struct{ env map[string]string }{
		{map[string]string{"VERIFYFN_CONTROL_TOKEN": "short-secret"}},
		{map[string]string{"VERIFYFN_CONTROL": "maybe"}},
		{map[string]string{"VERIFYFN_CONTROL": "false", "VERIFYFN_CONTROL_TOKEN": "0123456789abcdef"}},
	} {
		_, err := config.FromEnv(env(tc.env))
		if err == nil || !strings.Contains(err.Error(), "VERIFYFN_CONTROL") {
			t.Errorf("%v: error %v, want one naming the variable", tc.env, err)
		}
		if err != nil && strings.Contains(err.Error(), "short-secret") {
			t.Errorf("the error quotes the token: %v", err)
		}
	}
}
