package app

import (
	"log/slog"

	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/control"
	"github.com/verifyfn/verifyfn/shared/store/redisstore"
)

// newControl builds the test kit's control plane when cfg turns it on (nil
// otherwise). On Redis its clock and faults live in Redis and the store's
// scripts add its clock offset, so every instance on that Redis agrees.
func newControl(cfg config.Config, opt Options, st Store) *control.Plane {
	if !control.On(cfg.Env, cfg.Control.Token, cfg.Control.Disabled) {
		return nil
	}
	loopback := config.Loopback(cfg.Addr) && !opt.Public
	base := opt.Now // the control plane's clock is this plus its offset
	if opt.EngineNow != nil {
		base = opt.EngineNow
	}
	c := control.Config{Token: cfg.Control.Token, Loopback: loopback, Now: base, Logger: opt.Logger}
	if r, ok := st.(control.Resetter); ok {
		c.Store = r
	}
	rs, shared := st.(*redisstore.Store)
	if shared {
		c.State = control.RedisState(rs.Client())
	}
	p := control.New(c)
	if shared {
		rs.UseClock(p.Offset)
	}
	if !loopback && cfg.Control.Token == "" {
		opt.Logger.Warn("the control plane (/_verifyfn/) is on beyond loopback without VERIFYFN_CONTROL_TOKEN: "+
			"anyone who reaches this address can read the codes sent; set a token or VERIFYFN_CONTROL=false",
			slog.String("env", cfg.Env), slog.String("addr", cfg.Addr))
	}
	return p
}

// JoinDocumented is an action's documented errors for the control plane:
// own, then the errors of its front door's common codes (as its service
// answers them) whose code own lacks.
func JoinDocumented(own, common []*apierr.Error) []*apierr.Error {
	out := append([]*apierr.Error(nil), own...)
	seen := map[string]bool{}
	for _, e := range own {
		seen[e.Code] = true
	}
	for _, e := range common {
		if !seen[e.Code] {
			seen[e.Code] = true
			out = append(out, e)
		}
	}
	return out
}
