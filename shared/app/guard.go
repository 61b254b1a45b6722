package app

import (
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery/setup"
	"github.com/verifyfn/verifyfn/shared/fraud"
)

// newGuard builds the fraud guard of cfg.Guard (package fraud): the code
// lifetime is its maturity, and a count of 0 in the configuration turns its
// rule off.
func newGuard(cfg config.Config, reg *accounts.Registry, prices setup.Pricer, opt Options) (*fraud.Guard, error) {
	g := cfg.Guard
	off := func(n int) int {
		if n == 0 {
			return -1
		}
		return n
	}
	return fraud.New(fraud.Config{
		RefusedTypes: g.RefusedTypes, SMSTypes: g.SMSTypes,
		PrefixDigits: g.PrefixDigits, PrefixLimit: off(g.PrefixLimit), PrefixPer: g.PrefixPer,
		Window: g.Window, Bucket: g.Bucket, Mature: cfg.CodeTTL, MinPermille: off(g.MinPermille),
		CountryVolume: off(g.CountryVolume), PrefixVolume: off(g.PrefixVolume),
		Cooloff: g.Cooloff, Trickle: g.Trickle,
		Price: prices, Accounts: reg, Logger: opt.Logger, OnRefusal: func(reason, country string) {
			opt.Metrics.GuardRefused(fraud.Family(reason), country) // nothing without metrics
			if opt.OnGuardRefusal != nil {
				opt.OnGuardRefusal(reason, country)
			}
		},
	})
}
