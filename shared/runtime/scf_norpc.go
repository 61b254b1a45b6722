//go:build lambda.norpc

package runtime

import (
	"fmt"
	"net/http"
	"os"
)

// startSCF reports that this binary cannot serve SCF: it was built with
// -tags lambda.norpc, which leaves out net/rpc (aws-lambda-go's go1.x mode
// and SCF's Go1 protocol both use it) to start faster on Lambda.
func startSCF(http.Handler) {
	fmt.Fprintln(os.Stderr, "verifyfn: _LAMBDA_SERVER_PORT is set but this binary was built with -tags lambda.norpc "+
		"(for AWS Lambda); build the SCF artifact without that tag (make build does)")
	os.Exit(1)
}
