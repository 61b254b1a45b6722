// Package fraud is verifyfn's guard against SMS pumping (toll fraud): every
// SMS and voice send of every API is screened before its code is issued, in
// the same store operation (one round trip on Redis), by four rules:
//
//   - Number type: libphonenumber's type of the number. Premium-rate,
//     shared-cost, toll-free, UAN, voicemail and pager numbers are refused
//     for SMS and voice; an SMS needs a number that can take a text (a
//     mobile, or fixed-line-or-mobile where the plan cannot tell).
//   - Prefix velocity: at most N sends an hour per account to the numbers
//     that share everything but their last digits (Twilio's Fraud Guard
//     uses the number without its last four).
//   - Conversion: per account and country, and per account and prefix, the
//     share of the codes sent that were verified, over a sliding window.
//     When the volume passes a minimum and the share falls below a
//     threshold, sends to that country (or prefix) are refused for a
//     cool-off, then let through at a trickle until they are judged again.
//     Sends younger than the code lifetime are not judged.
//   - Spend budget: a price per message (per channel and destination) and
//     per-account daily and monthly budgets; over budget, sends are refused
//     until the period ends.
//
// Allow-listed countries, prefixes and numbers of an account (its accounts
// file entry) skip the velocity and conversion rules, allow-listed numbers
// the number-type rule too; test numbers skip every rule (nothing is
// delivered to them, so they cost nothing). A refused send stores nothing
// and sends nothing; it is logged with its reason and the masked number,
// and counted (Config.OnRefusal). The Guard implements otp.Guard.
package fraud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/contact"
	"github.com/verifyfn/verifyfn/shared/otp"
	"github.com/verifyfn/verifyfn/shared/store"
)

// Refusal reasons (otp.RefusedError.Reason), also the label values of the
// refusal counter.
const (
	ReasonNumberType        = otp.ReasonNumberType
	ReasonPrefixVelocity    = "prefix_velocity"
	ReasonPrefixConversion  = "prefix_conversion"
	ReasonCountryConversion = "country_conversion"
	ReasonDailyBudget       = "daily_budget"
	ReasonMonthlyBudget     = "monthly_budget"
)

// Family groups a reason into the four values of the refusal counter's
// reason label: number_type, prefix_velocity, conversion (of a prefix or a
// country) and budget (daily or monthly); "other" for anything else.
func Family(reason string) string {
	switch reason {
	case ReasonNumberType, ReasonPrefixVelocity:
		return reason
	case ReasonPrefixConversion, ReasonCountryConversion:
		return "conversion"
	case ReasonDailyBudget, ReasonMonthlyBudget:
		return "budget"
	}
	return "other"
}

// Defaults of Config.
var (
	DefaultRefusedTypes = []contact.NumberType{
		contact.PremiumRate, contact.SharedCost, contact.TollFree, contact.UAN, contact.Voicemail, contact.Pager,
	}
	DefaultSMSTypes = []contact.NumberType{contact.Mobile, contact.FixedLineOrMobile}
)

// Default rule parameters (see Config).
const (
	DefaultPrefixDigits  = 4
	DefaultPrefixLimit   = 30
	DefaultPrefixPer     = time.Hour
	DefaultWindow        = 4 * time.Hour
	DefaultBucket        = 10 * time.Minute
	DefaultMinPermille   = 200 // 20 %
	DefaultCountryVolume = 100
	DefaultPrefixVolume  = 20
	DefaultCooloff       = time.Hour
	DefaultTrickle       = 5 * time.Minute
)

// Config sets the rules. Zero fields take the defaults; a negative count
// (PrefixLimit, CountryVolume, PrefixVolume) turns its rule off.
type Config struct {
	// RefusedTypes are refused for SMS and voice (default DefaultRefusedTypes;
	// an empty non-nil list refuses none).
	RefusedTypes []contact.NumberType
	// SMSTypes are the types an SMS may go to (default DefaultSMSTypes; an
	// empty non-nil list allows any type not refused).
	SMSTypes []contact.NumberType
	// PrefixDigits is how many last digits a prefix leaves out (default 4).
	PrefixDigits int
	// PrefixLimit sends per PrefixPer to one prefix (default 30 an hour).
	PrefixLimit int
	PrefixPer   time.Duration
	// Window is the conversion guard's sliding window, counted in buckets of
	// Bucket (default 4 h in 10-minute buckets).
	Window, Bucket time.Duration
	// Mature is how old a send must be to be judged: the code lifetime.
	Mature time.Duration
	// MinPermille is the lowest share of verified sends, per mille, that
	// passes (default 200: 20 %; negative: 0, nothing is refused).
	MinPermille int
	// CountryVolume and PrefixVolume are the judged sends needed before a
	// country or a prefix is judged (default 100 and 20).
	CountryVolume, PrefixVolume int
	// Cooloff is how long a country or prefix is refused once judged
	// (default 1 h); after it one send per Trickle (default 5 min) goes
	// through until it is judged again.
	Cooloff, Trickle time.Duration
	// Price is what one message costs, in micro-units of the budgets'
	// currency; nil or 0 counts nothing against the budgets.
	Price func(channel, e164 string) int64
	// Accounts gives each account's allow-lists and budgets; nil: none.
	Accounts *accounts.Registry
	// Logger receives one line per refusal (nil discards).
	Logger *slog.Logger
	// OnRefusal is called for every refusal with its reason and the ISO
	// region of the number; Family(reason) is the refusal counter's reason
	// label. May be nil.
	OnRefusal func(reason, country string)
}

// Guard is the fraud guard; it implements otp.Guard.
type Guard struct {
	cfg              Config
	refused, smsOnly map[contact.NumberType]bool
}

// New validates cfg and returns a guard.
func New(cfg Config) (*Guard, error) {
	if cfg.RefusedTypes == nil {
		cfg.RefusedTypes = DefaultRefusedTypes
	}
	if cfg.SMSTypes == nil {
		cfg.SMSTypes = DefaultSMSTypes
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n == 0 {
			*n = v
		}
	}
	defInt(&cfg.PrefixDigits, DefaultPrefixDigits)
	defInt(&cfg.PrefixLimit, DefaultPrefixLimit)
	defInt(&cfg.MinPermille, DefaultMinPermille)
	defInt(&cfg.CountryVolume, DefaultCountryVolume)
	defInt(&cfg.PrefixVolume, DefaultPrefixVolume)
	def(&cfg.PrefixPer, DefaultPrefixPer)
	def(&cfg.Window, DefaultWindow)
	def(&cfg.Bucket, DefaultBucket)
	def(&cfg.Mature, otp.MaxTTL)
	def(&cfg.Cooloff, DefaultCooloff)
	def(&cfg.Trickle, DefaultTrickle)
	var errs []error
	if cfg.PrefixDigits < 1 || cfg.PrefixDigits > 8 {
		errs = append(errs, fmt.Errorf("fraud: prefix digits %d is outside [1, 8]", cfg.PrefixDigits))
	}
	if cfg.MinPermille < 0 {
		cfg.MinPermille = 0 // never below: the conversion rule never refuses
	}
	if cfg.MinPermille > 1000 {
		errs = append(errs, fmt.Errorf("fraud: minimum conversion %d‰ is outside [0, 1000]", cfg.MinPermille))
	}
	for _, d := range []time.Duration{cfg.PrefixPer, cfg.Window, cfg.Bucket, cfg.Mature, cfg.Cooloff, cfg.Trickle} {
		if d < 0 {
			errs = append(errs, errors.New("fraud: negative duration"))
			break
		}
	}
	if cfg.Bucket > cfg.Window {
		errs = append(errs, errors.New("fraud: the conversion bucket is longer than its window"))
	}
	if cfg.Mature >= cfg.Window {
		errs = append(errs, errors.New("fraud: the conversion window must be longer than the code lifetime"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	g := &Guard{cfg: cfg, refused: map[contact.NumberType]bool{}, smsOnly: map[contact.NumberType]bool{}}
	for _, t := range cfg.RefusedTypes {
		g.refused[t] = true
	}
	for _, t := range cfg.SMSTypes {
		g.smsOnly[t] = true
	}
	return g, nil
}

// Prefix returns the prefix of p the velocity and prefix rules count: its
// E.164 form without its last digits (at least the country code stays).
func (g *Guard) Prefix(p contact.Phone) string {
	e := p.E164()
	n := len(e) - g.cfg.PrefixDigits
	if min := 1 + len(fmt.Sprint(p.CountryCode())); n < min {
		n = min
	}
	return e[:n]
}

// policy returns the account's guard settings.
func (g *Guard) policy(id string) accounts.Guard {
	if a, ok := g.cfg.Accounts.Account(id); ok {
		return a.Guard
	}
	return accounts.Guard{}
}

// allowed reports whether p is on one of the account's allow-lists, and
// whether the number itself is.
func allowed(pol accounts.Guard, p contact.Phone) (listed, number bool) {
	if slices.Contains(pol.AllowNumbers, p.Key()) || slices.Contains(pol.AllowNumbers, p.E164()) {
		return true, true
	}
	if slices.Contains(pol.AllowCountries, p.Region()) {
		return true, false
	}
	for _, pre := range pol.AllowPrefixes {
		if strings.HasPrefix(p.E164(), pre) || strings.HasPrefix(p.Key(), pre) {
			return true, false
		}
	}
	return false, false
}

func tag(account string) string { return "{" + account + "}:fg:" }

// conversions returns the prefix and country conversions of p.
func (g *Guard) conversions(account string, p contact.Phone) []store.Conversion {
	var out []store.Conversion
	base := store.Conversion{
		Span: g.cfg.Window, Bucket: g.cfg.Bucket, Mature: g.cfg.Mature, MinPermille: int64(g.cfg.MinPermille),
		Cooloff: g.cfg.Cooloff, Trickle: g.cfg.Trickle,
	}
	if g.cfg.PrefixVolume > 0 {
		c := base
		c.Key, c.MinIssued = tag(account)+"p:"+g.Prefix(p), int64(g.cfg.PrefixVolume)
		out = append(out, c)
	}
	if g.cfg.CountryVolume > 0 {
		c := base
		c.Key, c.MinIssued = tag(account)+"c:"+p.Region(), int64(g.cfg.CountryVolume)
		out = append(out, c)
	}
	return out
}

// Screen implements otp.Guard: the number type is checked here, the other
// rules become the store operation's counters and conversions.
func (g *Guard) Screen(_ context.Context, s otp.Subject) (otp.Screen, error) {
	if s.Test {
		return otp.Screen{}, nil
	}
	pol := g.policy(s.Account)
	listed, number := allowed(pol, s.Phone)
	if !number {
		t := s.Phone.Type()
		if g.refused[t] || s.Channel == "sms" && len(g.smsOnly) > 0 && !g.smsOnly[t] {
			return otp.Screen{}, &otp.RefusedError{Reason: ReasonNumberType, Country: s.Phone.Region()}
		}
	}
	var scr otp.Screen
	if !listed && g.cfg.PrefixLimit > 0 {
		scr.Counters = append(scr.Counters, store.Counter{
			Key: tag(s.Account) + "v:" + g.Prefix(s.Phone), Span: g.cfg.PrefixPer, Bucket: max(g.cfg.PrefixPer/12, time.Second),
			Max: int64(g.cfg.PrefixLimit), Add: 1,
		})
		scr.Reasons = append(scr.Reasons, ReasonPrefixVelocity)
	}
	if price := g.price(s); price > 0 {
		if pol.DailyBudget > 0 {
			scr.Counters = append(scr.Counters, store.Counter{Key: tag(s.Account) + "d", Period: store.Day, Max: pol.DailyBudget, Add: price})
			scr.Reasons = append(scr.Reasons, ReasonDailyBudget)
		}
		if pol.MonthlyBudget > 0 {
			scr.Counters = append(scr.Counters, store.Counter{Key: tag(s.Account) + "m", Period: store.Month, Max: pol.MonthlyBudget, Add: price})
			scr.Reasons = append(scr.Reasons, ReasonMonthlyBudget)
		}
	}
	if !listed {
		scr.Conversions = g.conversions(s.Account, s.Phone)
		for _, c := range scr.Conversions {
			if strings.Contains(c.Key, ":fg:p:") {
				scr.Reasons = append(scr.Reasons, ReasonPrefixConversion)
			} else {
				scr.Reasons = append(scr.Reasons, ReasonCountryConversion)
			}
		}
	}
	return scr, nil
}

func (g *Guard) price(s otp.Subject) int64 {
	if g.cfg.Price == nil {
		return 0
	}
	return g.cfg.Price(s.Channel, s.Phone.E164())
}

// Credit implements otp.Guard: a verified code counts in its prefix and
// country (a code sent without them credits nothing in the store).
func (g *Guard) Credit(s otp.Subject) []store.Conversion {
	if s.Test {
		return nil
	}
	return g.conversions(s.Account, s.Phone)
}

// Refused implements otp.Guard: it logs the refusal (a warning when it
// started a cool-off or first exceeded a budget, else at info) and counts it.
func (g *Guard) Refused(ctx context.Context, s otp.Subject, e *otp.RefusedError) {
	level, msg := slog.LevelInfo, "fraud guard refused a send"
	if e.First {
		level = slog.LevelWarn
		switch e.Reason {
		case ReasonDailyBudget, ReasonMonthlyBudget:
			msg = "fraud guard: spend budget reached; sends are refused until the period ends"
		case ReasonPrefixConversion, ReasonCountryConversion:
			msg = "fraud guard: conversion too low; sends are refused for the cool-off"
		case ReasonPrefixVelocity:
			msg = "fraud guard: prefix velocity reached"
		}
	}
	attrs := []slog.Attr{
		slog.String("reason", e.Reason), slog.String("country", e.Country), slog.String("account", s.Account),
		slog.String("channel", s.Channel), slog.Any("to", s.Phone),
	}
	if e.RetryAfter > 0 {
		attrs = append(attrs, slog.Float64("retry_after_s", e.RetryAfter.Seconds()))
	}
	g.cfg.Logger.LogAttrs(ctx, level, msg, attrs...)
	if g.cfg.OnRefusal != nil {
		g.cfg.OnRefusal(e.Reason, e.Country)
	}
}

var _ otp.Guard = (*Guard)(nil)
