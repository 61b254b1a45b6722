// Command sendsms is the smh function (SendSmsCode, VerifySmsCode).
// One binary runs everywhere: on AWS Lambda (provided.al2023, as bootstrap),
// as a Tencent SCF Go1 event function (as main), and as plain HTTP on
// VERIFYFN_ADDR (locally, in a container, or as an SCF web function on port
// 9000); see package runtime. Configuration comes from the environment.
package main

import (
	"os"

	"github.com/verifyfn/verifyfn/shared/app/fn/sendsms"
	"github.com/verifyfn/verifyfn/shared/runtime"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

func main() {
	os.Exit(runtime.Main(runtime.Function{
		Name:        "sendsms",
		New:         sendsms.New,
		Unavailable: tcapi.Unavailable,
	}))
}
