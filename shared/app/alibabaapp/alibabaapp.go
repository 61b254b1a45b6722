// Package alibabaapp builds the Alibaba Cloud OpenAPI front door (package
// acsapi) with the services a function serves. It links no service itself:
// each function hands it its own.
package alibabaapp

import (
	"github.com/verifyfn/verifyfn/shared/acsapi"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/control"
)

// Service builds one Alibaba service from the parts app.New assembled.
type Service func(app.Parts) acsapi.Service

// Front returns the front door serving services.
func Front(services ...Service) app.FrontDoor {
	return func(p app.Parts) (app.Front, error) { return New(p, services...) }
}

// New builds the front door serving services from the parts: the control
// plane's hook and the metrics observer when they are on, and the services'
// actions for the control plane's list.
func New(p app.Parts, services ...Service) (app.Front, error) {
	built := make([]acsapi.Service, 0, len(services))
	for _, s := range services {
		svc := s(p)
		built = append(built, svc)
	}
	cfg := acsapi.Config{
		Credentials: p.Accounts, Limiter: p.Store, Nonces: p.Store, Logger: p.Options.Logger, Now: p.Options.Now,
		LimitNow: p.Now, HostHeader: p.Config.TrustedHostHdr,
	}
	if p.Control != nil {
		cfg.Intercept = p.Control.Intercept
	}
	if m := p.Options.Metrics; m != nil {
		cfg.Observer = m
	}
	h, err := acsapi.New(cfg, built...)
	if err != nil {
		return app.Front{}, err
	}
	return app.Front{Handler: h, Actions: Actions(built)}, nil
}

// Actions lists the services' actions for the control plane: each action's
// documented errors, then the front door's common codes as its service
// answers them.
func Actions(services []acsapi.Service) []control.Action {
	var out []control.Action
	for _, s := range services {
		common := acsapi.Common(s.Overrides)
		for _, a := range s.Actions {
			out = append(out, control.Action{Service: s.Name, Action: a.Name, Documented: app.JoinDocumented(a.Documented, common), Delivers: a.Delivers})
		}
	}
	return out
}
