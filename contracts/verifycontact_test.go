//go:build contract

package contracts

import (
	"time"

	"github.com/pact-foundation/pact-go/v2/matchers"

	"github.com/verifyfn/verifyfn/shared/services/domain"
)

// verifycontact serves Tencent Domain 2018-08-08's international contact
// verification: SendIntlPhoneEmailCode, CreateIntlPhoneEmail (consumes the
// code), DescribeIntlPhoneEmailList, DeleteIntlPhoneEmail.
var domainService = tcService{Provider: "verifycontact", Service: domain.Name, Version: domain.Version}

// Provider states of verifycontact.
const (
	domainNothing      = "nothing was sent to or verified for +86 18766554433"
	domainPhoneSent    = "a code was sent to +86 18766554433 10 seconds ago"
	domainEmailSent    = "a code was sent to user@example.com 10 seconds ago"
	domainVerified     = "+86 18766554433 is verified"
	domainBothVerified = "+86 18766554433 and user@example.com are verified"
	domainUndelivered  = "codes cannot be delivered"
	domainStoreDown    = "the store is unavailable"
	domainLimited      = "the caller's credential may only call smh"
)

// Request examples and matchers. Type is a JSON integer: the SDK's field is
// an int64.
var (
	// domainSendExample is the documented SendIntlPhoneEmailCode example.
	domainSendExample = map[string]any{"Type": matchers.Integer(1), "Code": matchers.Like("18766554433")}
	// domainEmail is the same for an email address.
	domainEmail = map[string]any{"Type": matchers.Integer(2), "Code": matchers.Like("user@example.com")}
	// domainCreateExample is the documented CreateIntlPhoneEmail example,
	// with the code that was sent.
	domainCreateExample = with(domainSendExample, "VerifyCode", sentCode)
	// domainListExample lists every verified contact.
	domainListExample = map[string]any{"Type": matchers.Integer(0), "Offset": matchers.Integer(0), "Limit": matchers.Integer(20)}
)

// domainCases are every documented answer of the four actions, and the two
// front-door codes the domain API documents that an SDK caller can meet.
func domainCases() []tcCase {
	return []tcCase{
		{Desc: "SendIntlPhoneEmailCode: the documented example", State: domainNothing, Action: "SendIntlPhoneEmailCode", Params: domainSendExample},
		{Desc: "SendIntlPhoneEmailCode to an email address", State: domainNothing, Action: "SendIntlPhoneEmailCode", Params: domainEmail},
		{Desc: "SendIntlPhoneEmailCode with an unknown Type", State: domainNothing, Action: "SendIntlPhoneEmailCode",
			Params: with(domainSendExample, "Type", 3), Error: "InvalidParameterValue.InvalidParameterFormat"},
		{Desc: "SendIntlPhoneEmailCode again within the cooldown", State: domainPhoneSent, Action: "SendIntlPhoneEmailCode",
			Params: domainSendExample, Error: "RequestLimitExceeded"},
		{Desc: "SendIntlPhoneEmailCode when the code cannot be delivered", State: domainUndelivered, Action: "SendIntlPhoneEmailCode",
			Params: domainSendExample, Error: "InternalError.SendVerifyCodeErr"},

		{Desc: "CreateIntlPhoneEmail: the documented example", State: domainPhoneSent, Action: "CreateIntlPhoneEmail", Params: domainCreateExample},
		{Desc: "CreateIntlPhoneEmail for an email address", State: domainEmailSent, Action: "CreateIntlPhoneEmail",
			Params: with(domainEmail, "VerifyCode", sentCode)},
		{Desc: "CreateIntlPhoneEmail with a VerifyCode that is not 6 digits", State: domainPhoneSent, Action: "CreateIntlPhoneEmail",
			Params: with(domainCreateExample, "VerifyCode", "12345"), Error: "InvalidParameterValue.InvalidParameterFormat"},
		{Desc: "CreateIntlPhoneEmail with a wrong code", State: domainPhoneSent, Action: "CreateIntlPhoneEmail",
			Params: with(domainCreateExample, "VerifyCode", sentWrongCode), Error: "InternalError.VerifyCodeErr"},
		{Desc: "CreateIntlPhoneEmail without a pending code", State: domainNothing, Action: "CreateIntlPhoneEmail",
			Params: with(domainCreateExample, "VerifyCode", "123456"), Error: "InternalError.CheckVerifyCodeErr"},
		{Desc: "CreateIntlPhoneEmail for a verified contact", State: domainVerified, Action: "CreateIntlPhoneEmail",
			Params: with(domainCreateExample, "VerifyCode", "123456"), Error: "InternalError.VerifiedPhoneEmailErr"},
		{Desc: "CreateIntlPhoneEmail when the store is unavailable", State: domainStoreDown, Action: "CreateIntlPhoneEmail",
			Params: with(domainCreateExample, "VerifyCode", "123456"), Error: "InternalError.AddPhoneEmailErr"},

		{Desc: "DescribeIntlPhoneEmailList of every verified contact", State: domainBothVerified, Action: "DescribeIntlPhoneEmailList",
			Params: domainListExample, Output: map[string]any{
				"PhoneEmailList": matchers.EachLike(map[string]any{
					"Code":      matchers.Like("+8618766554433"),
					"Type":      matchers.Integer(1),
					"CreatedOn": matchers.Term("2025-11-21 08:00:00", `^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$`),
				}, 1),
				"TotalCount": matchers.Integer(2),
			}},
		{Desc: "DescribeIntlPhoneEmailList with a Limit over 200", State: domainNothing, Action: "DescribeIntlPhoneEmailList",
			Params: with(domainListExample, "Limit", 500), Error: "InvalidParameterValue.InvalidParameterFormat"},
		{Desc: "DescribeIntlPhoneEmailList when the store is unavailable", State: domainStoreDown, Action: "DescribeIntlPhoneEmailList",
			Params: domainListExample, Error: "InternalError.DescribePhoneEmailListErr"},

		{Desc: "DeleteIntlPhoneEmail of a verified contact", State: domainVerified, Action: "DeleteIntlPhoneEmail", Params: domainSendExample},
		{Desc: "DeleteIntlPhoneEmail with an unknown Type", State: domainVerified, Action: "DeleteIntlPhoneEmail",
			Params: with(domainSendExample, "Type", 3), Error: "InvalidParameterValue.InvalidParameterFormat"},
		{Desc: "DeleteIntlPhoneEmail of a contact that is not verified", State: domainNothing, Action: "DeleteIntlPhoneEmail",
			Params: domainSendExample, Error: "InternalError.DeletePhoneEmailVerifyErr"},

		{Desc: "DescribeIntlPhoneEmailList with a credential that may not call domain", State: domainLimited, Action: "DescribeIntlPhoneEmailList",
			Params: domainListExample, Error: "InternalError.ForbiddenRequest"},
		{Desc: "SendPhoneEmailCode, the mainland action, which is not served", State: domainNothing, Action: "SendPhoneEmailCode",
			Params: domainSendExample, Error: "MissingParameter.ActionNotFound"},
	}
}

// domainFlow is what the cloud function relies on: verifying an email
// contact and listing the verified ones.
func domainFlow() []tcCase {
	return pick(domainCases(),
		"SendIntlPhoneEmailCode to an email address",
		"CreateIntlPhoneEmail for an email address",
		"CreateIntlPhoneEmail with a wrong code",
		"DescribeIntlPhoneEmailList of every verified contact",
	)
}

// domainStates prepare the stack for each verifycontact provider state.
func domainStates() map[string]state {
	send := func(s *stack, typ int, contact, to string) (map[string]any, error) {
		if err := s.call(domainService, "SendIntlPhoneEmailCode", map[string]any{"Type": typ, "Code": contact}); err != nil {
			return nil, err
		}
		code, err := s.lastCode(to)
		if err != nil {
			return nil, err
		}
		s.advance(10 * time.Second)
		return codeValues(code), nil
	}
	verify := func(s *stack, typ int, contact, to string) error {
		values, err := send(s, typ, contact, to)
		if err != nil {
			return err
		}
		return s.call(domainService, "CreateIntlPhoneEmail", map[string]any{"Type": typ, "Code": contact, "VerifyCode": values["code"]})
	}
	return map[string]state{
		domainNothing: func(*stack) (map[string]any, error) { return nil, nil },
		domainPhoneSent: func(s *stack) (map[string]any, error) {
			return send(s, domain.TypePhone, "18766554433", "+8618766554433")
		},
		domainEmailSent: func(s *stack) (map[string]any, error) {
			return send(s, domain.TypeEmail, "user@example.com", "user@example.com")
		},
		domainVerified: func(s *stack) (map[string]any, error) {
			return nil, verify(s, domain.TypePhone, "18766554433", "+8618766554433")
		},
		domainBothVerified: func(s *stack) (map[string]any, error) {
			if err := verify(s, domain.TypePhone, "18766554433", "+8618766554433"); err != nil {
				return nil, err
			}
			return nil, verify(s, domain.TypeEmail, "user@example.com", "user@example.com")
		},
		domainUndelivered: func(s *stack) (map[string]any, error) { s.failDelivery(); return nil, nil },
		domainStoreDown:   func(s *stack) (map[string]any, error) { s.failStore(); return nil, nil },
		domainLimited:     func(s *stack) (map[string]any, error) { s.useCredential(limitedCredential); return nil, nil },
	}
}
