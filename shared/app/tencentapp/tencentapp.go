// Package tencentapp builds the Tencent Cloud API 3.0 front door (package
// tcapi) with the services a function serves. It links no service itself:
// each function hands it its own.
package tencentapp

import (
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/control"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// Service builds one Tencent service from the parts app.New assembled.
type Service func(app.Parts) tcapi.Service

// Front returns the front door serving services, each with the request rate
// of the configuration (VERIFYFN_RATE_LIMIT).
func Front(services ...Service) app.FrontDoor {
	return func(p app.Parts) (app.Front, error) { return New(p, services...) }
}

// New builds the front door serving services from the parts: the control
// plane's hook and the metrics observer when they are on, and the services'
// actions for the control plane's list.
func New(p app.Parts, services ...Service) (app.Front, error) {
	built := make([]tcapi.Service, 0, len(services))
	for _, s := range services {
		svc := s(p)
		svc.RateLimit = p.Config.RateLimit
		built = append(built, svc)
	}
	cfg := tcapi.Config{
		Credentials: p.Accounts, Limiter: p.Store, Nonces: p.Store, Logger: p.Options.Logger, Now: p.Options.Now,
		LimitNow: p.Now, HostHeader: p.Config.TrustedHostHdr,
	}
	if p.Control != nil {
		cfg.Intercept = p.Control.Intercept
	}
	if m := p.Options.Metrics; m != nil {
		cfg.Observer = m
	}
	h, err := tcapi.New(cfg, built...)
	if err != nil {
		return app.Front{}, err
	}
	return app.Front{Handler: h, Actions: Actions(built)}, nil
}

// Actions lists the services' actions for the control plane: each action's
// documented errors, then the front door's common codes as its service
// answers them.
func Actions(services []tcapi.Service) []control.Action {
	var out []control.Action
	for _, s := range services {
		common := tcapi.Common(s.Overrides)
		for _, a := range s.Actions {
			out = append(out, control.Action{Service: s.Name, Action: a.Name, Documented: app.JoinDocumented(a.Documented, common), Delivers: a.Delivers})
		}
	}
	return out
}
