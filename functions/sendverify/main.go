// Command sendverify is the intlpartnersmgt function: SendVerifyCode,
// CreateAccount, and the lookups their parameters come from,
// GetTradeConfigList and GetCountryCodes.
// One binary runs everywhere: on AWS Lambda (provided.al2023, as bootstrap),
// as a Tencent SCF Go1 event function (as main), and as plain HTTP on
// VERIFYFN_ADDR (locally, in a container, or as an SCF web function on port
// 9000); see package runtime. Configuration comes from the environment.
package main

import (
	"os"

	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/runtime"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
)

func main() {
	os.Exit(runtime.Main(runtime.Function{
		Name: "sendverify",
		New: func(cfg config.Config, o app.Options) (*app.App, error) {
			o.Services = map[string]bool{intlpartnersmgt.Name: true}
			return app.New(cfg, o)
		},
	}))
}
