package control_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/control"
	"github.com/verifyfn/verifyfn/shared/store"
)

// The clock moves what codes, cooldowns, windows and rate limits see; the
// official SDKs keep signing with the real time and keep being accepted.
func TestClock(t *testing.T) {
	k := start(t, apitest.WithConfig(func(c *config.Config) {
		c.Windows = []store.Window{{Period: 24 * time.Hour, Max: 2}}
		c.RateLimit = 1
	}))
	var c control.Clock
	k.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/clock", nil, &c)
	if c.Offset != 0 || c.Now.IsZero() {
		t.Fatalf("clock before any move: %+v", c)
	}

	// A code expires after its 10 minutes.
	if code := k.sendVerifyCode(t, "51234567"); code != "" {
		t.Fatal(code)
	}
	sent := k.latest(t, "+85251234567").Code
	c = k.advance(t, 11*time.Minute)
	if time.Duration(c.Offset) != 11*time.Minute || c.Now.Sub(k.Clock.Now()) < 11*time.Minute-time.Second {
		t.Fatalf("clock after advancing 11m: %+v", c)
	}
	k.must(t, http.StatusOK, http.MethodGet, "/_verifyfn/clock", nil, &c)
	if time.Duration(c.Offset) != 11*time.Minute {
		t.Fatalf("GET after advancing: %+v", c)
	}
	if got := k.createAccount(t, "51234567", "a@example.com", sent); got != "FailedOperation.VerificationCodeIllegal" {
		t.Fatalf("CreateAccount with a code 11 minutes old: %q", got)
	}

	// The cooldown has passed; the daily window has not.
	if got := k.sendVerifyCode(t, "51234567"); got != "" {
		t.Fatalf("send after the cooldown: %q", got)
	}
	k.advance(t, time.Minute)
	if got := k.sendVerifyCode(t, "51234567"); got != "FailedOperation.SendVerifyCodeLimit" {
		t.Fatalf("third send within the day: %q", got)
	}
	k.advance(t, 24*time.Hour)
	if got := k.sendVerifyCode(t, "51234567"); got != "" {
		t.Fatalf("send after the daily window: %q", got)
	}

	// A rate of one request a second frees when the clock moves a second.
	list := func() string {
		_, err := k.tc.Call("intlpartnersmgt", "2022-09-28", "GetTradeConfigList", nil)
		return tcCode(t, err)
	}
	if got := list(); got != "" {
		t.Fatal(got)
	}
	if got := list(); got != "RequestLimitExceeded" {
		t.Fatalf("second request in a second: %q", got)
	}
	k.advance(t, time.Second)
	if got := list(); got != "" {
		t.Fatalf("request after advancing a second: %q", got)
	}

	// DELETE goes back to real time.
	k.must(t, http.StatusOK, http.MethodDelete, "/_verifyfn/clock", nil, &c)
	if c.Offset != 0 {
		t.Fatalf("clock after DELETE: %+v", c)
	}
	for _, body := range []any{
		map[string]string{"advance": "-1m"},
		map[string]string{"advance": "0s"},
		map[string]string{"advance": "soon"},
		map[string]any{"advance": 60},
		map[string]string{},
		map[string]string{"set": "2030-01-01T00:00:00Z"},
	} {
		k.refused(t, http.StatusBadRequest, http.MethodPost, "/_verifyfn/clock", body)
	}
}
