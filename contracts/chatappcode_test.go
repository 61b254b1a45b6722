//go:build contract

package contracts

import (
	"fmt"
	"net/http"
	"time"

	"github.com/pact-foundation/pact-go/v2/matchers"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/services/cams"
)

// chatappcode serves Alibaba CAMS 2020-06-06: GetChatappVerifyCode and
// ChatappVerifyAndRegister, which consumes the code.
var camsService = acsService{Provider: "chatappcode", Version: cams.Version}

// Provider states of chatappcode. The space is the development account's
// cams-kei123.
const (
	camsNothing      = "no code was sent to +86 13800138000 in space cams-kei123"
	camsSent         = "a code was sent to +86 13800138000 in space cams-kei123 10 seconds ago"
	camsFourWrong    = "4 wrong codes were tried against the code sent to +86 13800138000 in space cams-kei123"
	camsRegistered   = "+86 13800138000 is registered in space cams-kei123"
	camsBusy         = "the account made 10 ChatappVerifyAndRegister requests this second"
	camsUndelivered  = "codes cannot be delivered"
	camsLimited      = "the caller's credential may only call smh"
	camsUnsubscribed = "the caller's account has not subscribed to cams"
)

// Request examples and matchers.
var (
	camsSpace = matchers.Like(accounts.DevCAMSSpace)
	// camsPhone is a number as CAMS takes it: country code and number,
	// without "+".
	camsPhone = matchers.Term("8613800138000", `^[0-9]{6,20}$`)
	// camsSendExample is the documented GetChatappVerifyCode example (with
	// the development space and a whole number).
	camsSendExample = map[string]any{
		"CustSpaceId": camsSpace, "PhoneNumber": camsPhone,
		"Method": matchers.Term("sms", `^(?i:sms|voice)$`), "Locale": matchers.Term("zh_CN", `^[a-z]{2,3}(_[A-Z]{2})?$`),
	}
	// camsVerifyExample is the documented ChatappVerifyAndRegister example,
	// with the code that was sent.
	camsVerifyExample = map[string]any{"CustSpaceId": camsSpace, "PhoneNumber": camsPhone, "VerifyCode": sentCode}
)

// camsCases are the documented answers of both actions: success, the four
// codes CAMS documents (Product.Unsubscript, Ram.PermissionDeny,
// System.LimitControl, Unknown.ResourceOwnerId), the codes verifyfn defines
// where CAMS documents none (VerifyCode.*, PhoneNumber.AlreadyRegistered),
// and the gateway's parameter codes.
func camsCases() []acsCase {
	send, verify := camsSendExample, camsVerifyExample
	const get, reg = cams.GetChatappVerifyCode, cams.ChatappVerifyAndRegister
	return []acsCase{
		{Desc: "GetChatappVerifyCode: the documented example", State: camsNothing, Action: get, Query: send},
		{Desc: "GetChatappVerifyCode by voice call", State: camsNothing, Action: get, Query: with(send, "Method", "voice", "Locale", "en")},
		{Desc: "GetChatappVerifyCode with an unknown Method", State: camsNothing, Action: get,
			Query: with(send, "Method", "fax"), Error: "InvalidParameter"},
		{Desc: "GetChatappVerifyCode without Locale", State: camsNothing, Action: get,
			Query: with(send, "Locale", nil), Error: "MissingParameter"},
		{Desc: "GetChatappVerifyCode for a space of another account", State: camsNothing, Action: get,
			Query: with(send, "CustSpaceId", "cams-other"), Error: "Unknown.ResourceOwnerId"},
		{Desc: "GetChatappVerifyCode again within the cooldown", State: camsSent, Action: get,
			Query: send, Error: "System.LimitControl"},
		{Desc: "GetChatappVerifyCode for a registered number", State: camsRegistered, Action: get,
			Query: send, Error: "PhoneNumber.AlreadyRegistered"},
		{Desc: "GetChatappVerifyCode from an account without CAMS", State: camsUnsubscribed, Action: get,
			Query: send, Error: "Product.Unsubscript"},
		{Desc: "GetChatappVerifyCode with a credential that may not call cams", State: camsLimited, Action: get,
			Query: send, Error: "Ram.PermissionDeny"},
		{Desc: "GetChatappVerifyCode when the code cannot be delivered", State: camsUndelivered, Action: get,
			Query: send, Error: "InternalError", Status: http.StatusInternalServerError},

		{Desc: "ChatappVerifyAndRegister with the code that was sent", State: camsSent, Action: reg, Query: verify},
		{Desc: "ChatappVerifyAndRegister with a wrong code", State: camsSent, Action: reg,
			Query: with(verify, "VerifyCode", sentWrongCode), Error: "VerifyCode.Mismatch"},
		{Desc: "ChatappVerifyAndRegister without a pending code", State: camsNothing, Action: reg,
			Query: with(verify, "VerifyCode", "123456"), Error: "VerifyCode.Expired"},
		{Desc: "ChatappVerifyAndRegister with the fifth wrong code", State: camsFourWrong, Action: reg,
			Query: with(verify, "VerifyCode", sentWrongCode), Error: "VerifyCode.Exceeded"},
		{Desc: "ChatappVerifyAndRegister for a registered number", State: camsRegistered, Action: reg,
			Query: with(verify, "VerifyCode", "123456"), Error: "PhoneNumber.AlreadyRegistered"},
		{Desc: "ChatappVerifyAndRegister with a VerifyCode that is not 6 digits", State: camsSent, Action: reg,
			Query: with(verify, "VerifyCode", "12345"), Error: "InvalidParameter"},
		{Desc: "ChatappVerifyAndRegister for a space of another account", State: camsSent, Action: reg,
			Query: with(verify, "CustSpaceId", "cams-other"), Error: "Unknown.ResourceOwnerId"},
		{Desc: "ChatappVerifyAndRegister over the request rate", State: camsBusy, Action: reg,
			Query: with(verify, "VerifyCode", "123456"), Error: "System.LimitControl"},
		{Desc: "ChatappVerifyAndRegister from an account without CAMS", State: camsUnsubscribed, Action: reg,
			Query: with(verify, "VerifyCode", "123456"), Error: "Product.Unsubscript"},
		{Desc: "ChatappVerifyAndRegister with a credential that may not call cams", State: camsLimited, Action: reg,
			Query: with(verify, "VerifyCode", "123456"), Error: "Ram.PermissionDeny"},
	}
}

// camsFlow is what a cloud function registering numbers relies on; it signs
// with the legacy RPC signature.
func camsFlow() []acsCase {
	var out []acsCase
	for _, c := range camsCases() {
		switch c.Desc {
		case "GetChatappVerifyCode: the documented example",
			"GetChatappVerifyCode again within the cooldown",
			"ChatappVerifyAndRegister with the code that was sent",
			"ChatappVerifyAndRegister with a wrong code":
			out = append(out, c)
		}
	}
	return out
}

// camsStates prepare the stack for each chatappcode provider state.
func camsStates() map[string]state {
	const to = "+8613800138000"
	send := map[string]string{"CustSpaceId": accounts.DevCAMSSpace, "PhoneNumber": "8613800138000", "Method": "sms", "Locale": "zh_CN"}
	verify := func(code string) map[string]string {
		return map[string]string{"CustSpaceId": accounts.DevCAMSSpace, "PhoneNumber": "8613800138000", "VerifyCode": code}
	}
	sent := func(s *stack) (map[string]any, error) {
		if err := s.callAlibaba(camsService, cams.GetChatappVerifyCode, send); err != nil {
			return nil, err
		}
		code, err := s.lastCode(to)
		if err != nil {
			return nil, err
		}
		s.advance(10 * time.Second)
		return codeValues(code), nil
	}
	return map[string]state{
		camsNothing: func(*stack) (map[string]any, error) { return nil, nil },
		camsSent:    sent,
		camsFourWrong: func(s *stack) (map[string]any, error) {
			values, err := sent(s)
			if err != nil {
				return nil, err
			}
			for range 4 {
				got, err := s.alibaba(camsService, cams.ChatappVerifyAndRegister, verify(values["wrongCode"].(string)))
				if err != nil {
					return nil, err
				}
				if got != "VerifyCode.Mismatch" {
					return nil, fmt.Errorf("a wrong code was answered %q", got)
				}
			}
			return values, nil
		},
		camsRegistered: func(s *stack) (map[string]any, error) {
			values, err := sent(s)
			if err != nil {
				return nil, err
			}
			return nil, s.callAlibaba(camsService, cams.ChatappVerifyAndRegister, verify(values["code"].(string)))
		},
		camsBusy: func(s *stack) (map[string]any, error) {
			for range 10 {
				if _, err := s.alibaba(camsService, cams.ChatappVerifyAndRegister, verify("123456")); err != nil {
					return nil, err
				}
			}
			return nil, nil
		},
		camsUndelivered:  func(s *stack) (map[string]any, error) { s.failDelivery(); return nil, nil },
		camsLimited:      func(s *stack) (map[string]any, error) { s.useCredential(limitedCredential); return nil, nil },
		camsUnsubscribed: func(s *stack) (map[string]any, error) { s.useCredential(noCAMSCredential); return nil, nil },
	}
}
