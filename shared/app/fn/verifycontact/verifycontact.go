// Package verifycontact wires the verifycontact function: the domain
// service behind the Tencent front door.
package verifycontact

import (
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/app/tencentapp"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/services/domain"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// Service builds domain from the parts.
func Service(p app.Parts) tcapi.Service {
	return domain.New(domain.Config{Engine: p.Engine, Records: p.Store, Sender: p.Sender, Now: p.Now})
}

// Front builds the function's front door: Tencent's, serving Service.
func Front(p app.Parts) (app.Front, error) { return tencentapp.New(p, Service) }

// New assembles the function.
func New(cfg config.Config, o app.Options) (*app.App, error) {
	o.Front = Front
	return app.New(cfg, o)
}
