package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/verifyfn/verifyfn/shared/contact"
)

// Guard is the fraud guard's configuration (VERIFYFN_GUARD*; see package
// fraud for the rules). Counts of 0 turn their rule off.
type Guard struct {
	Off           bool                 // VERIFYFN_GUARD=off
	RefusedTypes  []contact.NumberType // VERIFYFN_GUARD_REFUSED_TYPES
	SMSTypes      []contact.NumberType // VERIFYFN_GUARD_SMS_TYPES; empty: any type not refused
	PrefixDigits  int                  // VERIFYFN_GUARD_PREFIX_DIGITS
	PrefixLimit   int                  // VERIFYFN_GUARD_PREFIX_LIMIT, COUNT/DURATION
	PrefixPer     time.Duration
	Window        time.Duration // VERIFYFN_GUARD_CONVERSION_WINDOW
	Bucket        time.Duration // VERIFYFN_GUARD_CONVERSION_BUCKET
	MinPermille   int           // VERIFYFN_GUARD_MIN_CONVERSION, a share 0 to 1, kept per mille
	CountryVolume int           // VERIFYFN_GUARD_COUNTRY_VOLUME
	PrefixVolume  int           // VERIFYFN_GUARD_PREFIX_VOLUME
	Cooloff       time.Duration // VERIFYFN_GUARD_COOLOFF
	Trickle       time.Duration // VERIFYFN_GUARD_TRICKLE
}

// readGuard reads the VERIFYFN_GUARD* variables into c.Guard and returns
// the problems found.
func (c *Config) readGuard(getenv func(string) string) []error {
	var errs []error
	g := Guard{}
	switch v := strings.ToLower(or(getenv("VERIFYFN_GUARD"), "on")); v {
	case "on", "true":
	case "off", "false":
		g.Off = true
	default:
		errs = append(errs, errors.New("VERIFYFN_GUARD must be on or off"))
	}
	var err error
	if g.RefusedTypes, err = contact.ParseNumberTypes(or(getenv("VERIFYFN_GUARD_REFUSED_TYPES"), "premium_rate,shared_cost,toll_free,uan,voicemail,pager")); err != nil {
		errs = append(errs, fmt.Errorf("VERIFYFN_GUARD_REFUSED_TYPES: %w", err))
	}
	sms := or(getenv("VERIFYFN_GUARD_SMS_TYPES"), "mobile,fixed_line_or_mobile")
	if strings.TrimSpace(sms) == "any" {
		sms = "none"
	}
	if g.SMSTypes, err = contact.ParseNumberTypes(sms); err != nil {
		errs = append(errs, fmt.Errorf("VERIFYFN_GUARD_SMS_TYPES: %w", err))
	}
	if g.PrefixDigits, err = integer(getenv, "VERIFYFN_GUARD_PREFIX_DIGITS", 4); err != nil || g.PrefixDigits < 1 || g.PrefixDigits > 8 {
		errs = append(errs, errors.New("VERIFYFN_GUARD_PREFIX_DIGITS must be 1 to 8"))
	}
	if v := strings.TrimSpace(or(getenv("VERIFYFN_GUARD_PREFIX_LIMIT"), "30/1h")); v != "off" {
		w, err := ParseWindows(v)
		if err != nil || len(w) != 1 {
			errs = append(errs, errors.New("VERIFYFN_GUARD_PREFIX_LIMIT must be COUNT/DURATION (30/1h) or off"))
		} else {
			g.PrefixLimit, g.PrefixPer = w[0].Max, w[0].Period
		}
	}
	durs := []struct {
		name string
		def  time.Duration
		dst  *time.Duration
	}{
		{"VERIFYFN_GUARD_CONVERSION_WINDOW", 4 * time.Hour, &g.Window},
		{"VERIFYFN_GUARD_CONVERSION_BUCKET", 10 * time.Minute, &g.Bucket},
		{"VERIFYFN_GUARD_COOLOFF", time.Hour, &g.Cooloff},
		{"VERIFYFN_GUARD_TRICKLE", 5 * time.Minute, &g.Trickle},
	}
	for _, d := range durs {
		v, err := duration(getenv, d.name, d.def)
		if err != nil || v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be a positive duration", d.name))
			continue
		}
		*d.dst = v
	}
	if g.Bucket > g.Window {
		errs = append(errs, errors.New("VERIFYFN_GUARD_CONVERSION_BUCKET must not be longer than VERIFYFN_GUARD_CONVERSION_WINDOW"))
	}
	share, err := strconv.ParseFloat(or(getenv("VERIFYFN_GUARD_MIN_CONVERSION"), "0.2"), 64)
	if err != nil || share < 0 || share > 1 {
		errs = append(errs, errors.New("VERIFYFN_GUARD_MIN_CONVERSION must be a share from 0 to 1 (0.2 = 20 %)"))
	}
	g.MinPermille = int(share*1000 + 0.5)
	if g.CountryVolume, err = integer(getenv, "VERIFYFN_GUARD_COUNTRY_VOLUME", 100); err != nil || g.CountryVolume < 0 {
		errs = append(errs, errors.New("VERIFYFN_GUARD_COUNTRY_VOLUME must be a count (0: off)"))
	}
	if g.PrefixVolume, err = integer(getenv, "VERIFYFN_GUARD_PREFIX_VOLUME", 20); err != nil || g.PrefixVolume < 0 {
		errs = append(errs, errors.New("VERIFYFN_GUARD_PREFIX_VOLUME must be a count (0: off)"))
	}
	c.Guard = g
	return errs
}
