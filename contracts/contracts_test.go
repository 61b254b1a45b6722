//go:build contract

package contracts

import (
	"errors"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/shared/services/cams"
	"github.com/verifyfn/verifyfn/shared/services/domain"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
	"github.com/verifyfn/verifyfn/shared/services/smh"
)

// The tests run in the order of this file: the consumer tests rewrite the
// pacts, then each provider is verified against them, then the drift tests
// show that a broken provider fails verification.

func TestConsumerSendSMS(t *testing.T) {
	consumeTencent(t, gatewayClient, smhService, "", smhCases())
}

func TestConsumerSendVerify(t *testing.T) {
	consumeTencent(t, gatewayClient, ipmService, "", ipmCases())
	consumeTencent(t, functionClient, ipmService, "en-US", ipmFlow())
}

func TestConsumerVerifyContact(t *testing.T) {
	consumeTencent(t, gatewayClient, domainService, "", domainCases())
	consumeTencent(t, functionClient, domainService, "en-US", domainFlow())
}

func TestConsumerChatAppCode(t *testing.T) {
	consumeAlibaba(t, gatewayClient, camsService, signACS3Header, camsCases())
	consumeAlibaba(t, functionClient, camsService, signRPC, camsFlow())
}

func TestProviderSendSMS(t *testing.T) {
	s := newStack(t, smh.Name)
	s.verify(t, smhService.Provider, smhStates(), s.signTC3(smhService.Service))
}

func TestProviderSendVerify(t *testing.T) {
	s := newStack(t, intlpartnersmgt.Name)
	s.verify(t, ipmService.Provider, ipmStates(), s.signTC3(ipmService.Service))
}

func TestProviderVerifyContact(t *testing.T) {
	s := newStack(t, domain.Name)
	s.verify(t, domainService.Provider, domainStates(), s.signTC3(domainService.Service))
}

func TestProviderChatAppCode(t *testing.T) {
	s := newStack(t, cams.Name)
	s.verify(t, camsService.Provider, camsStates(), s.signACS)
}

// TestDrift proves the contracts bite: verifying a provider broken by one
// renamed response field or one changed error code fails, naming the
// interaction and the field. pact-go fails the *testing.T it verifies with,
// so each broken provider is verified in a child run of this test binary.
func TestDrift(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(drifts)) {
		d := drifts[name]
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestDriftChild$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), "CONTRACT_DRIFT="+name)
			out, err := cmd.CombinedOutput()
			report := string(out)
			var exit *exec.ExitError
			switch {
			case d.old == "" && err != nil:
				t.Fatalf("the unbroken provider failed verification: %v\n%s", err, tail(report))
			case d.old == "":
				if !strings.Contains(report, "--- PASS: TestDriftChild") {
					t.Fatalf("the child run verified nothing:\n%s", tail(report))
				}
				return
			case !errors.As(err, &exit):
				t.Fatalf("verifying %s with %s passed (%v), want a failure\n%s", d.provider, name, err, tail(report))
			}
			for _, w := range d.want {
				if !strings.Contains(report, w) {
					t.Errorf("the failure report lacks %q:\n%s", w, tail(report))
				}
			}
		})
	}
}

// TestDriftChild verifies one broken provider; only TestDrift runs it.
func TestDriftChild(t *testing.T) {
	name, ok := os.LookupEnv("CONTRACT_DRIFT")
	if !ok {
		t.Skip("run by TestDrift")
	}
	d, ok := drifts[name]
	if !ok {
		t.Fatalf("no drift %q", name)
	}
	s := newStack(t, d.service)
	sign := d.sign(s)
	filter := sign
	if d.old != "" {
		// Only the replayed requests see the broken provider: the provider
		// states still set the stack up through the real one.
		filter = func(next http.Handler) http.Handler { return sign(rewrite(d.old, d.new)(next)) }
	}
	s.verify(t, d.provider, d.states(), filter)
}
