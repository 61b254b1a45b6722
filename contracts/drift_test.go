//go:build contract

package contracts

import (
	"net/http"

	"github.com/verifyfn/verifyfn/shared/services/cams"
)

// drift is a deliberate break of one provider: a wrapper replaces old with
// new in every response body. Verification must then fail, reporting want.
type drift struct {
	provider string // the function
	service  string // the service it serves
	states   func() map[string]state
	sign     func(s *stack) func(http.Handler) http.Handler
	old, new string
	want     []string // in the verifier's report
}

func tencentDrift(svc tcService, states func() map[string]state, old, new string, want ...string) drift {
	return drift{provider: svc.Provider, service: svc.Service, states: states,
		sign: func(s *stack) func(http.Handler) http.Handler { return s.signTC3(svc.Service) }, old: old, new: new, want: want}
}

var drifts = map[string]drift{
	// The control: the same harness with nothing changed passes.
	"none": tencentDrift(ipmService, ipmStates, "", ""),
	"Uin renamed UIN": tencentDrift(ipmService, ipmStates, `"Uin":`, `"UIN":`,
		"CreateAccount with the code that was sent", "$.Response -> Actual map is missing the following keys: Uin"),
	"TradeList renamed Trades": tencentDrift(ipmService, ipmStates, `"TradeList":`, `"Trades":`,
		"GetTradeConfigList: the documented example", "Actual map is missing the following keys: TradeList"),
	// Tencent spells ISO as IOS; "correcting" it breaks every caller.
	"IOS2 spelled ISO2": tencentDrift(ipmService, ipmStates, `"IOS2":`, `"ISO2":`,
		"GetCountryCodes: the documented example", "Actual map is missing the following keys: IOS2"),
	"RequestId renamed RequestID": tencentDrift(smhService, smhStates, `"RequestId":`, `"RequestID":`,
		"SendSmsCode with an unsupported Purpose", "$.Response -> Actual map is missing the following keys: RequestId"),
	"VerifyCodeErr renamed": tencentDrift(domainService, domainStates, `"InternalError.VerifyCodeErr"`, `"InternalError.VerificationCodeErr"`,
		"CreateIntlPhoneEmail with a wrong code", "$.Response.Error.Code -> Expected 'InternalError.VerificationCodeErr'"),
	// Every success answered with an error envelope.
	"success answered as an error": tencentDrift(smhService, smhStates,
		`{"Response":{"RequestId":`, `{"Response":{"Error":{"Code":"UnauthorizedOperation.SmsCode","Message":"drift"},"RequestId":`,
		"VerifySmsCode with the code that was sent", "$.Response.Error -> Expected 'Error' to match"),
	"VerifyCode.Mismatch renamed": {provider: camsService.Provider, service: cams.Name, states: camsStates,
		sign: func(s *stack) func(http.Handler) http.Handler { return s.signACS },
		old:  `"Code":"VerifyCode.Mismatch"`, new: `"Code":"VerifyCode.Incorrect"`,
		want: []string{"ChatappVerifyAndRegister with a wrong code", "$.Code -> Expected 'VerifyCode.Incorrect'"}},
}

// tail is the end of a long report.
func tail(s string) string {
	const n = 4000
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
