// Package sendverify wires the sendverify function: the intlpartnersmgt
// service behind the Tencent front door.
package sendverify

import (
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/app/tencentapp"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// Service builds intlpartnersmgt from the parts.
func Service(p app.Parts) tcapi.Service {
	return intlpartnersmgt.New(intlpartnersmgt.Config{
		Engine: p.Engine, Sender: p.Sender, Now: p.Now, UnsupportedCountryCodes: p.Config.UnsupportedAreas,
		Passwords: p.Options.Passwords,
	})
}

// Front builds the function's front door: Tencent's, serving Service.
func Front(p app.Parts) (app.Front, error) { return tencentapp.New(p, Service) }

// New assembles the function.
func New(cfg config.Config, o app.Options) (*app.App, error) {
	o.Front = Front
	return app.New(cfg, o)
}
