// Package tencentapp builds the Tencent Cloud API 3.0 front door (package
// tcapi) with the services a function serves. It links no service itself:
// each function hands it its own.
package tencentapp

import (
	"net/http"

	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// Service builds one Tencent service from the parts app.New assembled.
type Service func(app.Parts) tcapi.Service

// Front returns the front door serving services, each with the request rate
// of the configuration (VERIFYFN_RATE_LIMIT).
func Front(services ...Service) app.FrontDoor {
	return func(p app.Parts) (http.Handler, error) {
		return New(p, services...)
	}
}

// New builds the front door serving services from the parts.
func New(p app.Parts, services ...Service) (*tcapi.Server, error) {
	built := make([]tcapi.Service, 0, len(services))
	for _, s := range services {
		svc := s(p)
		svc.RateLimit = p.Config.RateLimit
		built = append(built, svc)
	}
	return tcapi.New(tcapi.Config{
		Credentials: p.Accounts, Limiter: p.Store, Nonces: p.Store, Logger: p.Options.Logger, Now: p.Options.Now,
		HostHeader: p.Config.TrustedHostHdr,
	}, built...)
}
