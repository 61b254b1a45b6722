//go:build contract

package contracts

import (
	"fmt"
	"time"

	"github.com/pact-foundation/pact-go/v2/matchers"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/services/smh"
	"github.com/verifyfn/verifyfn/shared/store"
)

// sendsms serves Tencent SMH (smh 2021-07-12): SendSmsCode, VerifySmsCode.
var smhService = tcService{Provider: "sendsms", Service: smh.Name, Version: smh.Version}

// Provider states of sendsms. The account is the development account
// 200000000001, whose instance n0v9tdme has the super admin +86 18999999999
// in the accounts file.
const (
	smhAccount     = "the account has the SMH instance n0v9tdme"
	smhOtherAdmin  = "instance n0v9tdme has super admin +86 18900000000"
	smhAdmin       = "instance n0v9tdme has super admin +86 18999999999"
	smhSent        = "a BindSuperAdmin code for instance n0v9tdme was sent to +86 18988888888 10 seconds ago"
	smhFourWrong   = "4 wrong codes were tried against the BindSuperAdmin code sent to +86 18988888888"
	smhUndelivered = "SMS delivery fails"
)

// Request examples and matchers.
var (
	smhInstance = matchers.Like(accounts.DevInstanceID)
	// smhDocExample is the documented SendSmsCode example.
	smhDocExample = map[string]any{"Purpose": smhPurpose("BindSuperAdmin"), "InstanceId": smhInstance, "PhoneNumber": mobile("18999999999")}
	// smhBind binds a new super admin to n0v9tdme.
	smhBind = map[string]any{"Purpose": smhPurpose("BindSuperAdmin"), "InstanceId": smhInstance, "PhoneNumber": mobile("18988888888")}
)

func smhPurpose(p string) matchers.Matcher {
	return matchers.Term(p, `^(BindSuperAdmin|ChannelUpdateVerify)$`)
}

// mobile is a phone number as the APIs take it: national digits, optionally
// with a leading +.
func mobile(n string) matchers.Matcher { return matchers.Term(n, `^\+?[0-9]{4,20}$`) }

// with returns a copy of params with the given fields set (a nil value
// removes the field).
func with(params map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(params)+len(kv)/2)
	for k, v := range params {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
		} else {
			out[k] = kv[i+1]
		}
	}
	return out
}

// smhCases are every documented SendSmsCode and VerifySmsCode answer.
// LimitExceeded.UserLimit is documented for VerifySmsCode but has no trigger
// in verifyfn (no user quotas), so no interaction can pin it.
func smhCases() []tcCase {
	verify := with(smhBind, "Code", sentCode)
	return []tcCase{
		{Desc: "SendSmsCode: the documented example", State: smhOtherAdmin, Action: "SendSmsCode", Params: smhDocExample},
		{Desc: "SendSmsCode with an unsupported Purpose", State: smhAccount, Action: "SendSmsCode",
			Params: with(smhDocExample, "Purpose", "ResetPassword"), Error: "UnsupportedOperation.Purpose"},
		{Desc: "SendSmsCode with an unknown CountryCode", State: smhAccount, Action: "SendSmsCode",
			Params: with(smhBind, "CountryCode", "+999"), Error: "InvalidParameterValue.CountryCode"},
		{Desc: "SendSmsCode with an invalid PhoneNumber", State: smhAccount, Action: "SendSmsCode",
			Params: with(smhBind, "PhoneNumber", "12345"), Error: "InvalidParameterValue.PhoneNumber"},
		{Desc: "SendSmsCode for an instance of another account", State: smhAccount, Action: "SendSmsCode",
			Params: with(smhBind, "InstanceId", "tyc9msci"), Error: "ResourceNotFound.OfficialInstance"},
		{Desc: "SendSmsCode binding the current super admin again", State: smhAdmin, Action: "SendSmsCode",
			Params: smhDocExample, Error: "InvalidParameterValue.NotModified"},
		{Desc: "SendSmsCode ChannelUpdateVerify for a number that is not the super admin", State: smhAdmin, Action: "SendSmsCode",
			Params: with(smhBind, "Purpose", "ChannelUpdateVerify"), Error: "InvalidParameterValue.NotSuperAdmin"},
		{Desc: "SendSmsCode again within the cooldown", State: smhSent, Action: "SendSmsCode",
			Params: smhBind, Error: "RequestLimitExceeded.SendSms"},
		{Desc: "SendSmsCode when the SMS cannot be delivered", State: smhUndelivered, Action: "SendSmsCode",
			Params: smhBind, Error: "InternalError.SendSms"},

		{Desc: "VerifySmsCode with the code that was sent", State: smhSent, Action: "VerifySmsCode", Params: verify},
		{Desc: "VerifySmsCode with a wrong code", State: smhSent, Action: "VerifySmsCode",
			Params: with(verify, "Code", sentWrongCode), Error: "UnauthorizedOperation.SmsCode"},
		{Desc: "VerifySmsCode with the fifth wrong code", State: smhFourWrong, Action: "VerifySmsCode",
			Params: with(verify, "Code", sentWrongCode), Error: "UnauthorizedOperation.SmsCodeExceeded"},
		{Desc: "VerifySmsCode with an unsupported Purpose", State: smhAccount, Action: "VerifySmsCode",
			Params: with(verify, "Purpose", "ResetPassword", "Code", "123456"), Error: "UnsupportedOperation.Purpose"},
		{Desc: "VerifySmsCode with an unknown CountryCode", State: smhAccount, Action: "VerifySmsCode",
			Params: with(verify, "CountryCode", "+999", "Code", "123456"), Error: "InvalidParameterValue.CountryCode"},
		{Desc: "VerifySmsCode with an invalid PhoneNumber", State: smhAccount, Action: "VerifySmsCode",
			Params: with(verify, "PhoneNumber", "12345", "Code", "123456"), Error: "InvalidParameterValue.PhoneNumber"},
		{Desc: "VerifySmsCode for an instance of another account", State: smhAccount, Action: "VerifySmsCode",
			Params: with(verify, "InstanceId", "tyc9msci", "Code", "123456"), Error: "ResourceNotFound.OfficialInstance"},
	}
}

// smhStates prepare the stack for each sendsms provider state.
func smhStates() map[string]state {
	setAdmin := func(phone string) state {
		return func(s *stack) (map[string]any, error) {
			return nil, s.apply(store.Op{Kind: store.Put, Coll: smh.AdminColl(accounts.DevAccountID), Key: accounts.DevInstanceID, Value: []byte(phone)})
		}
	}
	bind := map[string]any{"Purpose": "BindSuperAdmin", "InstanceId": accounts.DevInstanceID, "PhoneNumber": "18988888888"}
	sent := func(s *stack) (map[string]any, error) {
		if err := s.call(smhService, "SendSmsCode", bind); err != nil {
			return nil, err
		}
		s.advance(10 * time.Second)
		code, err := s.lastCode("+8618988888888")
		if err != nil {
			return nil, err
		}
		return codeValues(code), nil
	}
	return map[string]state{
		smhAccount:    func(*stack) (map[string]any, error) { return nil, nil },
		smhOtherAdmin: setAdmin("+8618900000000"),
		smhAdmin:      setAdmin(accounts.DevSuperAdmin),
		smhSent:       sent,
		smhFourWrong: func(s *stack) (map[string]any, error) {
			values, err := sent(s)
			if err != nil {
				return nil, err
			}
			for range 4 {
				got, err := s.tencent(smhService, "VerifySmsCode", with(bind, "Code", values["wrongCode"]))
				if err != nil {
					return nil, err
				}
				if got != "UnauthorizedOperation.SmsCode" {
					return nil, fmt.Errorf("a wrong code was answered %q", got)
				}
			}
			return values, nil
		},
		smhUndelivered: func(s *stack) (map[string]any, error) { s.failDelivery(); return nil, nil },
	}
}
