// Command chatappcode is the cams function (GetChatappVerifyCode,
// ChatappVerifyAndRegister), an Alibaba Cloud OpenAPI RPC endpoint.
// One binary runs everywhere: on AWS Lambda (provided.al2023, as bootstrap),
// as a Tencent SCF Go1 event function (as main), and as plain HTTP on
// VERIFYFN_ADDR (locally, in a container, or as a web function); see package
// runtime. Configuration comes from the environment.
package main

import (
	"os"

	"github.com/verifyfn/verifyfn/shared/acsapi"
	"github.com/verifyfn/verifyfn/shared/app/fn/chatappcode"
	"github.com/verifyfn/verifyfn/shared/runtime"
)

func main() {
	os.Exit(runtime.Main(runtime.Function{
		Name: "chatappcode",
		New:  chatappcode.New,
		// A bad configuration is answered in the Alibaba form (HTTP 500
		// InternalError), which the Alibaba SDKs parse.
		Unavailable: acsapi.Unavailable,
	}))
}
