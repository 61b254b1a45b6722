//go:build !lambda.norpc

package runtime

import "github.com/verifyfn/verifyfn/shared/runtime/scf"

// startSCF serves h as an SCF event function. Builds with -tags lambda.norpc
// (the Lambda artifacts) leave net/rpc, and with it this adapter, out.
var startSCF = scf.Start
