// Package chatappcode wires the chatappcode function: the cams service
// behind the Alibaba front door.
package chatappcode

import (
	"github.com/verifyfn/verifyfn/shared/acsapi"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/app/alibabaapp"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/services/cams"
)

// Service builds cams from the parts.
func Service(p app.Parts) acsapi.Service {
	return cams.New(cams.Config{Engine: p.Engine, Sender: p.Sender, Now: p.Now, RateLimit: p.Config.CAMSRateLimit})
}

// Front builds the function's front door: Alibaba's, serving Service.
func Front(p app.Parts) (app.Front, error) { return alibabaapp.New(p, Service) }

// New assembles the function.
func New(cfg config.Config, o app.Options) (*app.App, error) {
	o.Front = Front
	return app.New(cfg, o)
}
