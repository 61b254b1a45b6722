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

	"github.com/verifyfn/verifyfn/shared/app/fn/sendverify"
	"github.com/verifyfn/verifyfn/shared/runtime"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

func main() {
	os.Exit(runtime.Main(runtime.Function{
		Name:        "sendverify",
		New:         sendverify.New,
		Unavailable: tcapi.Unavailable,
	}))
}
