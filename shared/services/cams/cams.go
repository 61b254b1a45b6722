// Package cams implements the Alibaba Cloud Chat App Message Service (service
// cams, version 2020-06-06) phone-number verification of the embedded signup
// flow: GetChatappVerifyCode sends a 6-digit code by SMS or voice call, in one
// of the WhatsApp template languages, to a number that is to be registered in
// a customer space (CustSpaceId), and ChatappVerifyAndRegister consumes the
// code and registers the number in that space, in one atomic store step.
//
// CAMS documents four errors for both actions (HTTP 400): Product.Unsubscript,
// Ram.PermissionDeny, System.LimitControl and Unknown.ResourceOwnerId. It
// documents no code for a wrong, expired or exhausted verification code, nor
// for an already registered number; verifyfn defines VerifyCode.Mismatch,
// VerifyCode.Expired, VerifyCode.Exceeded and PhoneNumber.AlreadyRegistered
// for them (HTTP 400, same body).
//
// A registration is permanent: once ChatappVerifyAndRegister succeeded, a
// GetChatappVerifyCode for the same number in the same space sends nothing
// and answers PhoneNumber.AlreadyRegistered, as Meta answers "already
// verified" for a verified number, and a repeated ChatappVerifyAndRegister
// answers the same without spending an attempt. The check is part of the
// store operation that issues the code, so it holds under concurrency.
package cams

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/verifyfn/verifyfn/shared/acsapi"
	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/contact"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/otp"
	"github.com/verifyfn/verifyfn/shared/store"
)

// Service identity.
const (
	Name    = "cams"
	Product = "Cams"
	Version = "2020-06-06"
	// Purpose binds the codes of this service (otp.Scope.Purpose).
	Purpose = "register"
	// CodeLength is the number of digits of a code.
	CodeLength = 6
)

// Action names.
const (
	GetChatappVerifyCode     = "GetChatappVerifyCode"
	ChatappVerifyAndRegister = "ChatappVerifyAndRegister"
)

// The four errors CAMS documents for both actions, with its own messages.
var (
	ErrUnsubscribed   = apierr.New("Product.Unsubscript", "You have not subscribed to the specified product.")
	ErrPermissionDeny = apierr.New("Ram.PermissionDeny", "You are not authorized to perform the operation.")
	ErrLimitControl   = apierr.New("System.LimitControl", "The system is under flow control.")
	ErrResourceOwner  = apierr.New("Unknown.ResourceOwnerId", "The resource does not belong to the current user.")
)

// System.LimitControl for the number's own send limits: the same documented
// code, with a message that says which limit applies.
var (
	ErrCooldown   = apierr.New("System.LimitControl", "The system is under flow control: a code was sent to this number within the resend cooldown. Retry later.")
	ErrWindowFull = apierr.New("System.LimitControl", "The system is under flow control: this number has reached its verification-code send limit. Retry later.")
	// ErrGuardRefused is the fraud guard's refusal (prefix velocity,
	// conversion, spend budget), ErrNumberRefused its refusal of a number
	// type (premium rate, toll free, ...), the documented parameter error.
	ErrGuardRefused  = apierr.New("System.LimitControl", "The system is under flow control: verification codes to this destination are paused. Retry later.")
	ErrNumberRefused = apierr.New(acsapi.CodeInvalidParameter, "Specified parameter PhoneNumber is not valid: this number cannot receive verification codes.")
)

// Codes verifyfn defines where CAMS documents none (HTTP 400).
var (
	ErrCodeMismatch      = apierr.New("VerifyCode.Mismatch", "The verification code is incorrect.")
	ErrCodeExpired       = apierr.New("VerifyCode.Expired", "There is no valid verification code for this number: it expired, was already used, or was never sent. Request a new one with GetChatappVerifyCode.")
	ErrCodeExceeded      = apierr.New("VerifyCode.Exceeded", "The verification code was entered incorrectly too many times and is no longer valid. Request a new one with GetChatappVerifyCode.")
	ErrAlreadyRegistered = apierr.New("PhoneNumber.AlreadyRegistered", "The phone number is already verified and registered in this space; no verification code is needed.")
	ErrDelivery          = apierr.New(acsapi.CodeInternalError, "The verification code could not be delivered and is not left valid. Retry the request.")
)

// Locales are the values Locale accepts: the WhatsApp template language codes
// of Alibaba's "Language codes" page (68 codes, underscore form,
// case-sensitive).
var Locales = []string{
	"af", "sq", "ar", "az", "bn", "bg", "ca", "hr", "cs", "da", "nl", "en", "en_GB", "en_US", "et", "fil", "fi",
	"fr", "de", "el", "gu", "ha", "he", "hi", "hu", "id", "ga", "it", "ja", "kn", "kk", "ko", "lo", "lv", "lt",
	"mk", "ms", "ml", "mr", "nb", "fa", "pl", "pt_BR", "pt_PT", "pa", "ro", "ru", "sr", "zh_CN", "sk", "sl", "es",
	"es_AR", "es_MX", "es_ES", "sw", "sv", "ta", "te", "th", "zh_HK", "zh_TW", "tr", "uk", "ur", "uz", "vi", "zu",
}

var locales = func() map[string]bool {
	m := make(map[string]bool, len(Locales))
	for _, l := range Locales {
		m[l] = true
	}
	return m
}()

// Engine is what the service needs from the verification-code engine.
type Engine interface {
	Send(ctx context.Context, req otp.SendRequest) error
	Check(ctx context.Context, req otp.CheckRequest) error
}

// Config wires the service.
type Config struct {
	Engine Engine
	Sender delivery.Sender
	Now    func() time.Time
	// RateLimit is requests per second per account and action (default 10,
	// as CAMS documents).
	RateLimit int
}

// RegisteredColl holds the numbers registered in the account's spaces. The
// key is RegisteredKey(space, number); the value is "1", a counter, so that
// the store refuses a new code for a registered number in the same atomic
// operation that would issue it (store.Guard).
func RegisteredColl(account string) string { return store.Coll(account, "cams-registered") }

// RegisteredKey is the key of a number registered in a space; handset is the
// number's canonical handset key (contact.Phone.Key, its E.164 form but for
// the few numbers with two spellings).
func RegisteredKey(space, handset string) string { return space + "|" + handset }

type svc struct{ cfg Config }

// New returns the service definition for the Alibaba front door.
func New(cfg Config) acsapi.Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = acsapi.DefaultRateLimit
	}
	s := &svc{cfg: cfg}
	return acsapi.Service{
		Name:    Name,
		Product: Product,
		Version: Version,
		Actions: []acsapi.Action{
			{Name: GetChatappVerifyCode, Handle: s.getChatappVerifyCode, SelfLimited: true,
				Documented: []*apierr.Error{ErrUnsubscribed, ErrPermissionDeny, ErrLimitControl, ErrResourceOwner, ErrAlreadyRegistered, ErrDelivery},
				Delivers:   true, Destination: destination},
			{Name: ChatappVerifyAndRegister, Handle: s.chatappVerifyAndRegister, SelfLimited: true,
				Documented:  []*apierr.Error{ErrUnsubscribed, ErrPermissionDeny, ErrLimitControl, ErrResourceOwner, ErrCodeMismatch, ErrCodeExpired, ErrCodeExceeded, ErrAlreadyRegistered},
				Destination: destination},
		},
		Overrides: map[*apierr.Error]*apierr.Error{
			acsapi.ErrPermissionDenied: ErrPermissionDeny,
			acsapi.ErrNotSubscribed:    ErrUnsubscribed,
			acsapi.ErrThrottled:        ErrLimitControl,
		},
		RateLimit: cfg.RateLimit,
	}
}

// target is a validated space and number.
type target struct {
	space string
	phone contact.Phone
}

func (t target) scope(account string) otp.Scope {
	return otp.Scope{Account: account, Family: Name, Purpose: Purpose, Destination: t.phone.Key(), Extra: t.space}
}

// parsePhone reads PhoneNumber: the country code and the number, without
// "+" (a leading "+" or "00" is accepted too). A code sent by SMS needs a
// mobile number; a voice call reaches any valid number.
func parsePhone(raw string, mobile bool) (contact.Phone, error) {
	var p contact.Phone
	var err error
	if mobile {
		p, err = contact.ParseMobile("", raw)
	} else {
		p, err = contact.ParsePhone("", raw)
	}
	if errors.Is(err, contact.ErrNotMobile) {
		return p, apierr.New(acsapi.CodeInvalidParameter, "Specified parameter PhoneNumber is not valid: it is not a mobile number and cannot receive SMS; use Method voice.")
	}
	if err != nil {
		return p, acsapi.InvalidParameter("PhoneNumber")
	}
	return p, nil
}

// destination is the canonical key of a request's PhoneNumber, "" when
// invalid.
func destination(req *acsapi.Request) string {
	raw, err := req.RequiredString("PhoneNumber")
	if err != nil {
		return ""
	}
	p, err := parsePhone(raw, false)
	if err != nil {
		return ""
	}
	return p.Key()
}

// space checks that CustSpaceId belongs to the caller's account.
func space(req *acsapi.Request, id string) error {
	if !req.Account.HasCAMSSpace(id) {
		return ErrResourceOwner
	}
	return nil
}

func (s *svc) getChatappVerifyCode(ctx context.Context, req *acsapi.Request) (any, error) {
	var vals [4]string
	for i, name := range []string{"CustSpaceId", "PhoneNumber", "Method", "Locale"} {
		v, err := req.RequiredString(name)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	spaceID, number, method, locale := vals[0], vals[1], vals[2], vals[3]
	var channel delivery.Channel
	switch {
	case strings.EqualFold(method, "sms"):
		channel = delivery.SMS
	case strings.EqualFold(method, "voice"):
		channel = delivery.Voice
	default:
		return nil, acsapi.InvalidParameter("Method")
	}
	if !locales[locale] {
		return nil, acsapi.InvalidParameter("Locale")
	}
	phone, err := parsePhone(number, channel == delivery.SMS)
	if err != nil {
		return nil, err
	}
	req.Log(slog.Any("to", phone))
	req.Log(slog.String("method", string(channel)))
	if err := space(req, spaceID); err != nil {
		return nil, err
	}
	t := target{space: spaceID, phone: phone}
	msg := delivery.Message{
		Channel: channel, To: phone.E164(), Region: phone.Region(), Locale: locale,
		Action: req.Action, Purpose: Purpose, Account: req.Account.ID,
	}
	rate := *req.TakeRate()
	err = s.cfg.Engine.Send(ctx, otp.SendRequest{
		Scope:   t.scope(req.Account.ID),
		Digits:  CodeLength,
		Rate:    &rate,
		Guard:   &store.Guard{Coll: RegisteredColl(req.Account.ID), Key: RegisteredKey(spaceID, phone.Key()), Max: 1},
		Deliver: msg.Via(s.cfg.Sender, s.cfg.Now),
		Phone:   phone,
		Channel: string(channel),
	})
	return nil, sendOutcomes.Map(err)
}

// unexpected answers a store failure the way the gateway does
// (ServiceUnavailable or InternalError).
func unexpected(err error) error { return acsapi.Unexpected(err) }

// sendOutcomes are GetChatappVerifyCode's documented (and defined) answers
// to the engine's results.
var sendOutcomes = otp.Outcomes{
	RateLimited:   ErrLimitControl,
	Cooldown:      ErrCooldown,
	WindowFull:    ErrWindowFull,
	GuardFull:     ErrAlreadyRegistered,
	Refused:       ErrGuardRefused,
	RefusedNumber: ErrNumberRefused,
	Delivery:      ErrDelivery,
	Unexpected:    unexpected,
}

// registerOutcomes are ChatappVerifyAndRegister's.
var registerOutcomes = otp.Outcomes{
	RateLimited: ErrLimitControl,
	Mismatch:    ErrCodeMismatch,
	NoCode:      ErrCodeExpired,
	Exhausted:   ErrCodeExceeded,
	Conflicts:   []*apierr.Error{ErrAlreadyRegistered},
	Unexpected:  unexpected,
}

func (s *svc) chatappVerifyAndRegister(ctx context.Context, req *acsapi.Request) (any, error) {
	var vals [3]string
	for i, name := range []string{"CustSpaceId", "PhoneNumber", "VerifyCode"} {
		v, err := req.RequiredString(name)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	spaceID, number, code := vals[0], vals[1], vals[2]
	if len(code) != CodeLength || strings.Trim(code, "0123456789") != "" {
		// A code of the wrong shape can never match; it costs no attempt.
		return nil, acsapi.InvalidParameter("VerifyCode")
	}
	phone, err := parsePhone(number, false)
	if err != nil {
		return nil, err
	}
	req.Log(slog.Any("to", phone))
	if err := space(req, spaceID); err != nil {
		return nil, err
	}
	t := target{space: spaceID, phone: phone}
	rate := *req.TakeRate()
	err = s.cfg.Engine.Check(ctx, otp.CheckRequest{
		Scope: t.scope(req.Account.ID),
		Code:  code,
		Rate:  &rate,
		Phone: phone,
		Ops: []store.Op{{
			Kind: store.Insert, Coll: RegisteredColl(req.Account.ID), Key: RegisteredKey(spaceID, phone.Key()), Value: []byte("1"),
		}},
	})
	return nil, registerOutcomes.Map(err)
}
