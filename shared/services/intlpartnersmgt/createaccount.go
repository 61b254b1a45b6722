package intlpartnersmgt

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/contact"
	"github.com/verifyfn/verifyfn/shared/otp"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// Documented error codes of CreateAccount.
var (
	ErrCodeIllegal      = apierr.New("FailedOperation.VerificationCodeIllegal", "Incorrect verification code.")
	ErrMailRegistered   = apierr.New("FailedOperation.MailIsRegistered", "The email address is already registered.")
	ErrTradeIncorrect   = apierr.New("FailedOperation.TradeInfoIncorrect", "The primary industry id and secondary industry id do not match.")
	ErrAccountTypeEmpty = apierr.New("InvalidParameterValue.AccountTypeEmpty", "AccountType is empty.")
	ErrAccountType      = apierr.New("InvalidParameter.AccountTypeContentIncorrect", "AccountType must be personal or company.")
	ErrMailEmpty        = apierr.New("InvalidParameterValue.MailEmpty", "Mail is empty.")
	ErrMailFormat       = apierr.New("InvalidParameter.MailFormatIncorrect", "Mail is not a valid email address.")
	ErrPasswordEmpty    = apierr.New("InvalidParameterValue.PasswordEmpty", "Password is empty.")
	ErrPasswordFormat   = apierr.New("InvalidParameter.PasswordFormatIncorrect", "Password must be 8 to 20 characters without spaces.")
	ErrPasswordContent  = apierr.New("InvalidParameter.PasswordContentIncorrect", "Password must contain digits, letters and symbols (!@#$%^&*()).")
	ErrConfirmPassword  = apierr.New("InvalidParameter.ConfirmPasswordContentIncorrect", "ConfirmPassword does not match Password.")
	ErrPhoneNumEmpty    = apierr.New("InvalidParameterValue.PhoneNumEmpty", "PhoneNum is empty.")
	ErrPhoneNumFormat   = apierr.New("InvalidParameter.PhoneNumFormatIncorrect", "PhoneNum is not a valid mobile number for CountryCode.")
	ErrCountryCodeEmpty = apierr.New("InvalidParameterValue.CountryCodeEmpty", "CountryCode is empty.")
	ErrCountryFormat    = apierr.New("InvalidParameter.CountryCodeFormatIncorrect", "CountryCode must be digits, optionally with a leading +.")
	ErrCountryContent   = apierr.New("InvalidParameter.CountryCodeContentIncorrect", "CountryCode is not a country calling code.")
	ErrAreaEmpty        = apierr.New("InvalidParameterValue.AreaEmpty", "Area is empty.")
	ErrAreaFormat       = apierr.New("InvalidParameter.AreaFormatIncorrect", "Area must be an ISO 3166-1 alpha-2 code such as HK.")
	ErrAreaContent      = apierr.New("InvalidParameter.AreaContentIncorrect", "Area is not a known ISO 3166-1 alpha-2 region.")
	ErrTradeEmpty       = apierr.New("InvalidParameterValue.TradeInfoEmpty", "The primary industry id or secondary industry id is empty.")
	ErrCustomerName     = apierr.New("InvalidParameterValue", "CustomerName must be 2 to 200 characters and not only digits.")
)

// createAccountErrors are CreateAccount's documented errors, in the order
// of the API's error list.
var createAccountErrors = []*apierr.Error{
	ErrCodeIllegal, ErrMailRegistered, ErrPhoneBindUpper, ErrTradeIncorrect, ErrAccountType, ErrConfirmPassword,
	ErrAreaContent, ErrAreaFormat, ErrCountryContent, ErrCountryFormat, ErrMailFormat, ErrPasswordContent,
	ErrPasswordFormat, ErrPhoneNumFormat, ErrCustomerName, ErrAccountTypeEmpty, ErrAreaEmpty, ErrCountryCodeEmpty,
	ErrMailEmpty, ErrPasswordEmpty, ErrPhoneNumEmpty, ErrTradeEmpty, ErrUnsupportedArea,
}

// Collections of the durable records CreateAccount writes, per partner account.
func mailColl(account string) string    { return store.Coll(account, "mail") }
func accountColl(account string) string { return store.Coll(account, "uin") }

// createdAccount is the durable record of an account created by CreateAccount.
// The password is kept only as an argon2id hash (package password).
type createdAccount struct {
	Uin          string `json:"uin"`
	AccountType  string `json:"account_type"`
	Mail         string `json:"mail"`
	Phone        string `json:"phone"`
	Area         string `json:"area"`
	PasswordHash string `json:"password_hash"`
	TradeOne     string `json:"trade_one,omitempty"`
	TradeTwo     string `json:"trade_two,omitempty"`
	CustomerName string `json:"customer_name,omitempty"`
	Extended     string `json:"extended,omitempty"`
}

// createAccountParams are the parameters of CreateAccount.
var createAccountParams = []string{"AccountType", "Mail", "Password", "ConfirmPassword", "PhoneNum", "CountryCode",
	"Area", "VerifyCode", "TradeOne", "TradeTwo", "Extended", "CustomerName"}

// createAccount validates every field, checks the code sent by
// SendVerifyCode, hashes the password and then, in one atomic store step,
// consumes the code, binds the number (at most MaxAccountsPerPhone), claims
// the mail and records the account.
func (s *svc) createAccount(ctx context.Context, req *tcapi.Request) (any, error) {
	in := map[string]string{}
	for _, name := range createAccountParams {
		v, _, err := req.String(name)
		if err != nil {
			return nil, err
		}
		if name != "Password" && name != "ConfirmPassword" {
			// Passwords keep their spaces: they are refused, not trimmed.
			v = strings.TrimSpace(v)
		}
		in[name] = v
	}

	switch in["AccountType"] {
	case "":
		return nil, ErrAccountTypeEmpty
	case "personal", "company":
	default:
		return nil, ErrAccountType
	}
	if in["Mail"] == "" {
		return nil, ErrMailEmpty
	}
	mail, err := contact.ParseEmail(in["Mail"])
	if err != nil {
		return nil, ErrMailFormat
	}
	if e := checkPassword(in["Password"]); e != nil {
		return nil, e
	}
	if in["ConfirmPassword"] != in["Password"] {
		return nil, ErrConfirmPassword
	}
	if in["CountryCode"] == "" {
		return nil, ErrCountryCodeEmpty
	}
	if strings.Trim(strings.TrimPrefix(in["CountryCode"], "+"), "0123456789") != "" || len(in["CountryCode"]) > 5 {
		return nil, ErrCountryFormat
	}
	cc, err := contact.ParseCountryCode(in["CountryCode"])
	if err != nil {
		return nil, ErrCountryContent
	}
	switch err := s.callingCode(cc); err {
	case nil:
	case ErrUnsupportedArea:
		return nil, err
	default: // a non-geographic code: no country, no account
		return nil, ErrCountryContent
	}
	if in["PhoneNum"] == "" {
		return nil, ErrPhoneNumEmpty
	}
	phone, err := contact.ParsePhone(strconv.Itoa(cc), in["PhoneNum"])
	if err != nil {
		return nil, ErrPhoneNumFormat
	}
	if e := checkArea(in["Area"]); e != nil {
		return nil, e
	}
	// Both industry ids are required; TradeTwo must be a child of TradeOne
	// in GetTradeConfigList's tree.
	if in["TradeOne"] == "" || in["TradeTwo"] == "" {
		return nil, ErrTradeEmpty
	}
	if !validTrade(in["TradeOne"], in["TradeTwo"]) {
		return nil, ErrTradeIncorrect
	}
	if n := in["CustomerName"]; n != "" && (utf8.RuneCountInString(n) < 2 || utf8.RuneCountInString(n) > 200 || strings.Trim(n, "0123456789") == "") {
		return nil, ErrCustomerName
	}
	code := in["VerifyCode"]
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return nil, ErrCodeIllegal
	}
	req.Log(slog.Any("to", phone))

	// The work is ordered cheap to costly, in two store steps. The first
	// (one round trip, as for any SelfLimited action) consumes the request
	// rate and checks the code and the records' preconditions without
	// consuming the code (Keep): a burst beyond the rate, a wrong, used or
	// burned code, a registered mail or a number with its maximum of
	// accounts is answered before any password is hashed. Only then is the
	// password hashed (argon2id, 19 MiB each), a bounded number of hashes at
	// once (shared/password), waiting with the request's context. The second step consumes the
	// code and writes every record atomically, so the record holding the
	// hash is never half-written. A concurrent request may consume or burn
	// the code between the two steps; the second step then answers like any
	// used code (VerificationCodeIllegal) and writes nothing. It carries no
	// rate: the request was counted once.
	uin, err := newUin()
	if err != nil {
		return nil, tcapi.ErrInternal.Wrap(err)
	}
	account := req.Account.ID
	acct := createdAccount{
		Uin: uin, AccountType: in["AccountType"], Mail: mail.Address(), Phone: phone.E164(), Area: strings.ToUpper(in["Area"]),
		TradeOne: in["TradeOne"], TradeTwo: in["TradeTwo"], CustomerName: in["CustomerName"], Extended: in["Extended"],
	}
	rate := req.TakeRate()
	scope := otp.Scope{Account: account, Family: Name, Purpose: "register", Destination: phone.Key()}
	ops := func(rec []byte) []store.Op {
		return []store.Op{
			{Kind: store.Incr, Coll: BoundColl(account), Key: phone.Key(), Max: s.cfg.MaxAccountsPerPhone},
			{Kind: store.Insert, Coll: mailColl(account), Key: mail.Key(), Value: []byte(uin)},
			{Kind: store.Insert, Coll: accountColl(account), Key: uin, Value: rec},
		}
	}
	if err := s.cfg.Engine.Check(ctx, otp.CheckRequest{Scope: scope, Code: code, Rate: rate, Ops: ops(nil), Keep: true, Phone: phone}); err != nil {
		return nil, createOutcomes.Map(err)
	}
	if acct.PasswordHash, err = s.cfg.Passwords.Hash(ctx, in["Password"]); err != nil {
		return nil, tcapi.ErrInternal.Wrap(err) // the request ended while waiting: nothing was written
	}
	rec, err := json.Marshal(acct)
	if err != nil {
		return nil, tcapi.ErrInternal.Wrap(err)
	}
	err = s.cfg.Engine.Check(ctx, otp.CheckRequest{Scope: scope, Code: code, Ops: ops(rec), Phone: phone})
	if err != nil {
		return nil, createOutcomes.Map(err)
	}
	return createAccountResponse{Uin: uin, Reason: bindReason(req)}, nil
}

// createAccountResponse is the SDK's CreateAccountResponseParams: Uin, and
// Reason, "Binding Results" (models.go): the account is bound to the calling
// partner account as it is created, so it states that binding.
type createAccountResponse struct {
	Uin    string
	Reason string
}

// bindReason is Reason in the request's language.
func bindReason(req *tcapi.Request) string {
	if chinese(req) {
		return "账号已创建并绑定到当前合作伙伴账号。"
	}
	return "The account was created and bound to the calling partner account."
}

// createOutcomes are CreateAccount's documented answers to the engine's
// results; Conflicts follow the order of the ops above.
var createOutcomes = otp.Outcomes{
	RateLimited: tcapi.ErrRequestLimit,
	Mismatch:    ErrCodeIllegal,
	NoCode:      ErrCodeIllegal,
	Exhausted:   ErrCodeIllegal,
	Conflicts:   []*apierr.Error{ErrPhoneBindUpper, ErrMailRegistered},
	Unexpected:  tcapi.Internal,
}

// checkPassword applies the documented rule: 8 to 20 characters, no space,
// with digits, letters and symbols from !@#$%^&*().
func checkPassword(p string) *apierr.Error {
	if p == "" {
		return ErrPasswordEmpty
	}
	n := utf8.RuneCountInString(p)
	if n < 8 || n > 20 || strings.ContainsFunc(p, unicode.IsSpace) {
		return ErrPasswordFormat
	}
	var digit, letter, symbol bool
	for _, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			letter = true
		case strings.ContainsRune("!@#$%^&*()", r):
			symbol = true
		default:
			return ErrPasswordContent
		}
	}
	if !digit || !letter || !symbol {
		return ErrPasswordContent
	}
	return nil
}

// checkArea accepts an ISO 3166-1 alpha-2 region that libphonenumber knows.
func checkArea(a string) *apierr.Error {
	if a == "" {
		return ErrAreaEmpty
	}
	if len(a) != 2 || strings.Trim(strings.ToUpper(a), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return ErrAreaFormat
	}
	if _, ok := phonenumbers.GetSupportedRegions()[strings.ToUpper(a)]; !ok {
		return ErrAreaContent
	}
	return nil
}

// newUin draws a 12-digit account UIN.
func newUin() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1e11))
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(1e11+n.Int64(), 10), nil
}
