//go:build contract

package contracts

import (
	"time"

	"github.com/pact-foundation/pact-go/v2/matchers"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
	"github.com/verifyfn/verifyfn/shared/store"
)

// sendverify serves Tencent intlpartnersmgt 2022-09-28: SendVerifyCode,
// CreateAccount, which consumes the code, and the lookups its parameters come
// from, GetCountryCodes and GetTradeConfigList.
var ipmService = tcService{Provider: "sendverify", Service: intlpartnersmgt.Name, Version: intlpartnersmgt.Version}

// Provider states of sendverify.
const (
	ipmNothingSent = "no code was sent to +852 51234567"
	ipmSent        = "a code was sent to +852 51234567 10 seconds ago"
	ipmHourCap     = "5 codes were sent to +852 51234567 in the last hour, the last 61 seconds ago"
	ipmBound       = "+852 51234567 has 5 accounts bound"
	ipmMailTaken   = "account@example.com is registered and a code was sent to +852 51234567 10 seconds ago"
	ipmUndelivered = "SMS delivery fails"
)

// Request examples and matchers.
var (
	// ipmSendExample is the documented SendVerifyCode example.
	ipmSendExample = map[string]any{"CountryCode": countryCode("852"), "PhoneNum": mobile("51234567")}
	// ipmCreateExample is a CreateAccount request with every required field.
	ipmCreateExample = map[string]any{
		"AccountType":     matchers.Term("personal", `^(personal|company)$`),
		"Mail":            matchers.Like("account@example.com"),
		"Password":        matchers.Like("Passw0rd!"),
		"ConfirmPassword": matchers.Like("Passw0rd!"),
		"CountryCode":     countryCode("852"),
		"PhoneNum":        mobile("51234567"),
		"Area":            matchers.Term("HK", `^[A-Za-z]{2}$`),
		"VerifyCode":      sentCode,
		"TradeOne":        tradeOneID("kghy_01"),
		"TradeTwo":        tradeTwoID("kghy_0101"),
	}
)

// tradeOneID and tradeTwoID are industry ids of GetTradeConfigList.
func tradeOneID(id string) matchers.Matcher { return matchers.Term(id, `^kghy_[0-9]{2}$`) }
func tradeTwoID(id string) matchers.Matcher { return matchers.Term(id, `^kghy_[0-9]{4}$`) }

// Names by language: Chinese ones contain a CJK ideograph (an anchored
// range: the verifier matched no name with an unanchored \p{Han}), English
// ones are printable ASCII.
func chineseName(example string) matchers.Matcher {
	return matchers.Term(example, `^.*[\x{3400}-\x{9FFF}].*$`)
}
func englishName(example string) matchers.Matcher { return matchers.Term(example, `^[ -~]+$`) }

// tradeList is GetTradeConfigList's TradeList: TradeOneNode {Id, Name,
// Children: TradeTwoNode {Id, Name, TradeInfo (the parent's id)}}, every
// element like the documented example's first, named by name.
func tradeList(name func(string) matchers.Matcher, one, two string) map[string]any {
	return map[string]any{"TradeList": matchers.EachLike(map[string]any{
		"Id":   tradeOneID("kghy_01"),
		"Name": name(one),
		"Children": matchers.EachLike(map[string]any{
			"Id": tradeTwoID("kghy_0101"), "Name": name(two), "TradeInfo": tradeOneID("kghy_01"),
		}, 1),
	}, 1)}
}

// countryCodeList is GetCountryCodes' Data: CountryCodeItem {EnName, Name
// (Chinese), IOS2, IOS3, Code}, every element like the documented example.
var countryCodeList = map[string]any{"Data": matchers.EachLike(map[string]any{
	"EnName": matchers.Like("Albania"),
	"Name":   chineseName("阿尔巴尼亚"),
	"IOS2":   matchers.Term("AL", `^[A-Z]{2}$`),
	"IOS3":   matchers.Term("ALB", `^[A-Z]{3}$`),
	"Code":   matchers.Term("355", `^[1-9][0-9]{0,2}$`),
}, 1)}

// countryCode is a calling code as the APIs take it: digits, optionally
// with a leading +.
func countryCode(cc string) matchers.Matcher { return matchers.Term(cc, `^\+?[0-9]{1,4}$`) }

// ipmCases are every documented SendVerifyCode, CreateAccount,
// GetCountryCodes and GetTradeConfigList answer.
func ipmCases() []tcCase {
	create := ipmCreateExample
	invalid := func(desc, code string, kv ...any) tcCase {
		return tcCase{Desc: "CreateAccount " + desc, State: ipmSent, Action: "CreateAccount", Params: with(create, kv...), Error: code}
	}
	return []tcCase{
		{Desc: "SendVerifyCode: the documented example", State: ipmNothingSent, Action: "SendVerifyCode", Params: ipmSendExample},
		{Desc: "SendVerifyCode with an invalid PhoneNum", State: ipmNothingSent, Action: "SendVerifyCode",
			Params: with(ipmSendExample, "PhoneNum", "123"), Error: "InvalidParameterValue"},
		{Desc: "SendVerifyCode for an unsupported area", State: ipmNothingSent, Action: "SendVerifyCode",
			Params: with(ipmSendExample, "CountryCode", "86", "PhoneNum", "18988888888"), Error: "InvalidParameterValue.UnSupportArea"},
		{Desc: "SendVerifyCode again within 60 seconds", State: ipmSent, Action: "SendVerifyCode",
			Params: ipmSendExample, Error: "FailedOperation.SendVerifyCodeLimit60"},
		{Desc: "SendVerifyCode over the hourly cap", State: ipmHourCap, Action: "SendVerifyCode",
			Params: ipmSendExample, Error: "FailedOperation.SendVerifyCodeLimit"},
		{Desc: "SendVerifyCode to a number with 5 accounts", State: ipmBound, Action: "SendVerifyCode",
			Params: ipmSendExample, Error: "FailedOperation.PhoneBindUpper"},
		{Desc: "SendVerifyCode when the SMS cannot be delivered", State: ipmUndelivered, Action: "SendVerifyCode",
			Params: ipmSendExample, Error: "InternalError"},

		{Desc: "CreateAccount with the code that was sent", State: ipmSent, Action: "CreateAccount", Params: create,
			Output: map[string]any{"Uin": matchers.Term("100000000001", `^[0-9]{5,20}$`),
				"Reason": matchers.Like("The account was created and bound to the calling partner account.")}},
		invalid("without AccountType", "InvalidParameterValue.AccountTypeEmpty", "AccountType", nil),
		invalid("with an unknown AccountType", "InvalidParameter.AccountTypeContentIncorrect", "AccountType", "enterprise"),
		invalid("without Mail", "InvalidParameterValue.MailEmpty", "Mail", nil),
		invalid("with a malformed Mail", "InvalidParameter.MailFormatIncorrect", "Mail", "account.example.com"),
		invalid("without Password", "InvalidParameterValue.PasswordEmpty", "Password", nil, "ConfirmPassword", nil),
		invalid("with a too short Password", "InvalidParameter.PasswordFormatIncorrect", "Password", "Pw0!", "ConfirmPassword", "Pw0!"),
		invalid("with a Password without symbols", "InvalidParameter.PasswordContentIncorrect", "Password", "Passw0rd1", "ConfirmPassword", "Passw0rd1"),
		invalid("with a different ConfirmPassword", "InvalidParameter.ConfirmPasswordContentIncorrect", "ConfirmPassword", "Passw0rd?"),
		invalid("without CountryCode", "InvalidParameterValue.CountryCodeEmpty", "CountryCode", nil),
		invalid("with a CountryCode that is not digits", "InvalidParameter.CountryCodeFormatIncorrect", "CountryCode", "HK"),
		invalid("with an unknown CountryCode", "InvalidParameter.CountryCodeContentIncorrect", "CountryCode", "999"),
		invalid("for an unsupported area", "InvalidParameterValue.UnSupportArea", "CountryCode", "86", "PhoneNum", "18988888888", "Area", "CN"),
		invalid("without PhoneNum", "InvalidParameterValue.PhoneNumEmpty", "PhoneNum", nil),
		invalid("with an invalid PhoneNum", "InvalidParameter.PhoneNumFormatIncorrect", "PhoneNum", "123"),
		invalid("without Area", "InvalidParameterValue.AreaEmpty", "Area", nil),
		invalid("with an Area that is not two letters", "InvalidParameter.AreaFormatIncorrect", "Area", "HKG"),
		invalid("with an unknown Area", "InvalidParameter.AreaContentIncorrect", "Area", "ZZ"),
		invalid("with TradeOne but no TradeTwo", "InvalidParameterValue.TradeInfoEmpty", "TradeTwo", nil),
		invalid("without industry ids", "InvalidParameterValue.TradeInfoEmpty", "TradeOne", nil, "TradeTwo", nil),
		invalid("with a TradeTwo of another industry", "FailedOperation.TradeInfoIncorrect", "TradeTwo", "kghy_1601"),
		invalid("with unknown industry ids", "FailedOperation.TradeInfoIncorrect", "TradeOne", "kghy_99", "TradeTwo", "kghy_9901"),
		invalid("with numeric industry ids", "FailedOperation.TradeInfoIncorrect", "TradeOne", "01", "TradeTwo", "0101"),
		invalid("with an all-digit CustomerName", "InvalidParameterValue", "CustomerName", "12345"),
		invalid("with a wrong code", "FailedOperation.VerificationCodeIllegal", "VerifyCode", sentWrongCode),
		{Desc: "CreateAccount with a Mail already registered", State: ipmMailTaken, Action: "CreateAccount",
			Params: create, Error: "FailedOperation.MailIsRegistered"},
		{Desc: "CreateAccount for a number with 5 accounts", State: ipmBound, Action: "CreateAccount",
			Params: with(create, "VerifyCode", "123456"), Error: "FailedOperation.PhoneBindUpper"},

		// The SDK sends zh-CN unless told otherwise; the names depend on it,
		// so it is pinned.
		{Desc: "GetTradeConfigList: the documented example", State: ipmNothingSent, Action: "GetTradeConfigList",
			Params: map[string]any{}, Language: "zh-CN", Output: tradeList(chineseName, "农林牧渔业", "农业")},
		{Desc: "GetTradeConfigList in English", State: ipmNothingSent, Action: "GetTradeConfigList", Params: map[string]any{},
			Language: "en-US", Output: tradeList(englishName, "Agriculture, Forestry, Animal Husbandry and Fishery", "Agriculture")},
		{Desc: "GetTradeConfigList with a parameter", State: ipmNothingSent, Action: "GetTradeConfigList",
			Params: map[string]any{"Limit": 10}, Error: "UnknownParameter"},
		{Desc: "GetTradeConfigList at another version", State: ipmNothingSent, Action: "GetTradeConfigList",
			Params: map[string]any{}, Version: "2020-01-01", Error: "NoSuchVersion"},
		{Desc: "GetCountryCodes: the documented example", State: ipmNothingSent, Action: "GetCountryCodes",
			Params: map[string]any{}, Output: countryCodeList},
		{Desc: "GetCountryCodes with a parameter", State: ipmNothingSent, Action: "GetCountryCodes",
			Params: map[string]any{"CountryCode": "852"}, Error: "UnknownParameter"},
		{Desc: "GetCountryCodes at another version", State: ipmNothingSent, Action: "GetCountryCodes",
			Params: map[string]any{}, Version: "2020-01-01", Error: "NoSuchVersion"},
	}
}

// ipmFlow is what the cloud function relies on: the registration flow, with
// the lookups for its form.
func ipmFlow() []tcCase {
	return pick(ipmCases(),
		"GetCountryCodes: the documented example",
		"GetTradeConfigList in English",
		"SendVerifyCode: the documented example",
		"SendVerifyCode again within 60 seconds",
		"CreateAccount with the code that was sent",
		"CreateAccount with a wrong code",
	)
}

// ipmStates prepare the stack for each sendverify provider state.
func ipmStates() map[string]state {
	send := func(s *stack, number string) (map[string]any, error) {
		if err := s.call(ipmService, "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": number}); err != nil {
			return nil, err
		}
		code, err := s.lastCode("+852" + number)
		if err != nil {
			return nil, err
		}
		return codeValues(code), nil
	}
	sent := func(s *stack) (map[string]any, error) {
		values, err := send(s, "51234567")
		s.advance(10 * time.Second)
		return values, err
	}
	return map[string]state{
		ipmNothingSent: func(*stack) (map[string]any, error) { return nil, nil },
		ipmSent:        sent,
		ipmHourCap: func(s *stack) (map[string]any, error) {
			for range 5 {
				if _, err := send(s, "51234567"); err != nil {
					return nil, err
				}
				s.advance(61 * time.Second)
			}
			return nil, nil
		},
		ipmBound: func(s *stack) (map[string]any, error) {
			return nil, s.apply(store.Op{Kind: store.Put, Coll: intlpartnersmgt.BoundColl(accounts.DevAccountID), Key: "+85251234567", Value: []byte("5")})
		},
		ipmMailTaken: func(s *stack) (map[string]any, error) {
			// Register the mail with another number, through the API.
			values, err := send(s, "61234567")
			if err != nil {
				return nil, err
			}
			err = s.call(ipmService, "CreateAccount", map[string]any{
				"AccountType": "personal", "Mail": "account@example.com", "Password": "Passw0rd!", "ConfirmPassword": "Passw0rd!",
				"CountryCode": "852", "PhoneNum": "61234567", "Area": "HK", "VerifyCode": values["code"],
				"TradeOne": "kghy_01", "TradeTwo": "kghy_0101",
			})
			if err != nil {
				return nil, err
			}
			return sent(s)
		},
		ipmUndelivered: func(s *stack) (map[string]any, error) { s.failDelivery(); return nil, nil },
	}
}
