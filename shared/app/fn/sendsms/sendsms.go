// Package sendsms wires the sendsms function: the smh service behind the
// Tencent front door.
package sendsms

import (
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/app/tencentapp"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/services/smh"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// Service builds smh from the parts.
func Service(p app.Parts) tcapi.Service {
	return smh.New(smh.Config{
		Engine: p.Engine, Records: p.Store, Sender: p.Sender, Now: p.Now, CodeLength: p.Config.SMHCodeLength,
	})
}

// Front builds the function's front door: Tencent's, serving Service.
func Front(p app.Parts) (app.Front, error) { return tencentapp.New(p, Service) }

// New assembles the function.
func New(cfg config.Config, o app.Options) (*app.App, error) {
	o.Front = Front
	return app.New(cfg, o)
}
