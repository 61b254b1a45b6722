// Package alibabaapp builds the Alibaba Cloud OpenAPI front door (package
// acsapi) with the services a function serves. It links no service itself:
// each function hands it its own.
package alibabaapp

import (
	"net/http"

	"github.com/verifyfn/verifyfn/shared/acsapi"
	"github.com/verifyfn/verifyfn/shared/app"
)

// Service builds one Alibaba service from the parts app.New assembled.
type Service func(app.Parts) acsapi.Service

// Front returns the front door serving services.
func Front(services ...Service) app.FrontDoor {
	return func(p app.Parts) (http.Handler, error) {
		return New(p, services...)
	}
}

// New builds the front door serving services from the parts.
func New(p app.Parts, services ...Service) (*acsapi.Server, error) {
	built := make([]acsapi.Service, 0, len(services))
	for _, s := range services {
		built = append(built, s(p))
	}
	return acsapi.New(acsapi.Config{
		Credentials: p.Accounts, Limiter: p.Store, Nonces: p.Store, Logger: p.Options.Logger, Now: p.Options.Now,
		HostHeader: p.Config.TrustedHostHdr,
	}, built...)
}
