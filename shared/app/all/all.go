// Package all wires every verifyfn service on one handler: the three Tencent
// services behind the Tencent front door and cams behind the Alibaba one,
// told apart by Dispatch. The local binary (cmd/verifyfn) serves it, and the
// tests build the whole stack with it. Functions do not import it: each
// links only its own service (package fn/<function>).
package all

import (
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/app/alibabaapp"
	"github.com/verifyfn/verifyfn/shared/app/fn/chatappcode"
	"github.com/verifyfn/verifyfn/shared/app/fn/sendsms"
	"github.com/verifyfn/verifyfn/shared/app/fn/sendverify"
	"github.com/verifyfn/verifyfn/shared/app/fn/verifycontact"
	"github.com/verifyfn/verifyfn/shared/app/tencentapp"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/services/cams"
	"github.com/verifyfn/verifyfn/shared/services/domain"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
	"github.com/verifyfn/verifyfn/shared/services/smh"
)

// Front builds every service named in p.Options.Services (all of them when
// it is nil): the Tencent ones behind one Tencent front door, cams behind
// the Alibaba one, and Dispatch between them when both serve.
func Front(p app.Parts) (app.Front, error) {
	want := func(name string) bool { return p.Options.Services == nil || p.Options.Services[name] }
	var services []tencentapp.Service
	if want(intlpartnersmgt.Name) {
		services = append(services, sendverify.Service)
	}
	if want(smh.Name) {
		services = append(services, sendsms.Service)
	}
	if want(domain.Name) {
		services = append(services, verifycontact.Service)
	}
	tc, err := tencentapp.New(p, services...)
	if err != nil {
		return app.Front{}, err
	}
	if !want(cams.Name) {
		return tc, nil
	}
	acs, err := alibabaapp.New(p, chatappcode.Service)
	if err != nil {
		return app.Front{}, err
	}
	if len(services) == 0 {
		return acs, nil
	}
	return app.Front{Handler: Dispatch(acs.Handler, tc.Handler), Actions: append(tc.Actions, acs.Actions...)}, nil
}

// New assembles every service (or those in o.Services) on one handler.
func New(cfg config.Config, o app.Options) (*app.App, error) {
	o.Front = Front
	return app.New(cfg, o)
}
