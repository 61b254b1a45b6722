// Package smh implements the Tencent Smart Media Hosting (service smh,
// version 2021-07-12) verification actions: SendSmsCode sends a code to the
// phone that is to become, or already is, an official cloud-disk instance's
// super admin, and VerifySmsCode consumes it. A verified BindSuperAdmin makes
// the number the instance's super admin; a verified ChannelUpdateVerify is
// recorded for the instance.
package smh

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/contact"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/otp"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// Service identity.
const (
	Name    = "smh"
	Version = "2021-07-12"
)

// Purposes.
const (
	BindSuperAdmin      = "BindSuperAdmin"
	ChannelUpdateVerify = "ChannelUpdateVerify"
)

// Documented error codes (texts from the SDK's errors.go, in English).
var (
	ErrSendSms          = apierr.New("InternalError.SendSms", "Error occurs when sending sms verification code.")
	ErrCountryCode      = apierr.New("InvalidParameterValue.CountryCode", "The specified country code is invalid.")
	ErrNotModified      = apierr.New("InvalidParameterValue.NotModified", "The specified phone number is the same as the current one.")
	ErrNotSuperAdmin    = apierr.New("InvalidParameterValue.NotSuperAdmin", "The specified phone number is not the super administrator of the enterprise.")
	ErrPhoneNumber      = apierr.New("InvalidParameterValue.PhoneNumber", "The specified phone number is invalid.")
	ErrSendLimit        = apierr.New("RequestLimitExceeded.SendSms", "The sms verification code sent to the designated mobile number has reached the rate limit.")
	ErrSendRefused      = apierr.New("RequestLimitExceeded.SendSms", "Sms verification codes to this destination are paused. Please try again later.")
	ErrNumberRefused    = apierr.New("InvalidParameterValue.PhoneNumber", "The specified phone number is invalid: it cannot receive sms verification codes.")
	ErrInstanceNotFound = apierr.New("ResourceNotFound.OfficialInstance", "The official cloud disk instance does not exist or does not belong to the current account.")
	ErrPurpose          = apierr.New("UnsupportedOperation.Purpose", "The specified purpose is unsupported.")
	ErrSmsCode          = apierr.New("UnauthorizedOperation.SmsCode", "The SMS verification code is wrong or has expired.")
	ErrSmsCodeExceeded  = apierr.New("UnauthorizedOperation.SmsCodeExceeded", "The SMS verification code was tried too many times. Please send a new one.")
	// ErrUserLimit is documented for VerifySmsCode; verifyfn has no user
	// quotas, so only the test kit's faults answer it.
	ErrUserLimit = apierr.New("LimitExceeded.UserLimit", "The number of users has been reached. Please first upgrade the product spec.")
)

// Engine is what the service needs from the verification-code engine.
type Engine interface {
	Send(ctx context.Context, req otp.SendRequest) error
	Check(ctx context.Context, req otp.CheckRequest) error
}

// Records reads the durable records the service keeps.
type Records interface {
	Get(ctx context.Context, coll, key string) ([]byte, bool, error)
}

// Config wires the service.
type Config struct {
	Engine     Engine
	Records    Records
	Sender     delivery.Sender
	Now        func() time.Time
	CodeLength int // digits per code, 4 to 10 (default 6)
}

// AdminColl holds each instance's current super admin (key: instance id,
// value: E.164 number) once changed by a verified BindSuperAdmin.
func AdminColl(account string) string { return store.Coll(account, "smh-admin") }

// ChannelColl records verified ChannelUpdateVerify checks (key: instance id).
func ChannelColl(account string) string { return store.Coll(account, "smh-channel") }

type svc struct{ cfg Config }

var params = []string{"Purpose", "PhoneNumber", "InstanceId", "CountryCode"}

// New returns the service definition for the Tencent front door.
func New(cfg Config) tcapi.Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CodeLength == 0 {
		cfg.CodeLength = 6
	}
	s := &svc{cfg: cfg}
	return tcapi.Service{
		Name:    Name,
		Version: Version,
		Actions: []tcapi.Action{
			{Name: "SendSmsCode", Params: params, Handle: s.sendSmsCode, SelfLimited: true, Unavailable: ErrSendSms,
				Documented: []*apierr.Error{ErrPurpose, ErrCountryCode, ErrPhoneNumber, ErrInstanceNotFound, ErrNotModified, ErrNotSuperAdmin, ErrSendLimit, ErrSendSms},
				Delivers:   true, Destination: destination},
			{Name: "VerifySmsCode", Params: append(params[:len(params):len(params)], "Code"), Handle: s.verifySmsCode, SelfLimited: true,
				Documented:  []*apierr.Error{ErrPurpose, ErrCountryCode, ErrPhoneNumber, ErrInstanceNotFound, ErrSmsCode, ErrSmsCodeExceeded, ErrUserLimit},
				Destination: destination},
		},
	}
}

// target is a validated request: who, for what, on which instance.
type target struct {
	purpose  string
	phone    contact.Phone
	instance string
	admin    string // the instance's current super admin (its handset key, contact.Phone.Key), "" when unknown
}

// phone reads CountryCode (default +86) and PhoneNumber, a mobile number.
func phone(req *tcapi.Request) (contact.Phone, error) {
	number, err := req.RequiredString("PhoneNumber")
	if err != nil {
		return contact.Phone{}, err
	}
	cc, ok, err := req.String("CountryCode")
	if err != nil {
		return contact.Phone{}, err
	}
	if !ok || strings.TrimSpace(cc) == "" {
		cc = "+86"
	}
	code, err := contact.ParseCountryCode(cc)
	if err != nil {
		return contact.Phone{}, ErrCountryCode
	}
	p, err := contact.ParseMobile(strconv.Itoa(code), number)
	if err != nil {
		return contact.Phone{}, ErrPhoneNumber
	}
	return p, nil
}

// destination is the canonical key of a request's number, "" when invalid.
func destination(req *tcapi.Request) string {
	p, err := phone(req)
	if err != nil {
		return ""
	}
	return p.Key()
}

// parse validates Purpose, CountryCode, PhoneNumber and InstanceId, in the
// order the documented errors suggest, and finds the current super admin.
func (s *svc) parse(ctx context.Context, req *tcapi.Request) (target, error) {
	var t target
	purpose, err := req.RequiredString("Purpose")
	if err != nil {
		return t, err
	}
	if purpose != BindSuperAdmin && purpose != ChannelUpdateVerify {
		return t, ErrPurpose
	}
	t.purpose = purpose
	if t.phone, err = phone(req); err != nil {
		return t, err
	}
	req.Log(slog.Any("to", t.phone))
	if id, _, err := req.String("InstanceId"); err != nil {
		return t, err
	} else if id != "" {
		inst, ok := req.Account.SMHInstance(id)
		if !ok {
			return t, ErrInstanceNotFound
		}
		t.instance = id
		if t.admin, err = s.currentAdmin(ctx, req.Account, inst); err != nil {
			return t, tcapi.ErrInternal.Wrap(err)
		}
	}
	return t, nil
}

// currentAdmin is the handset key of the super admin recorded in the store,
// else of the one in the accounts file, so that it compares equal to the
// key of any spelling of that number.
func (s *svc) currentAdmin(ctx context.Context, account *accounts.Account, inst accounts.SMHInstance) (string, error) {
	v, ok, err := s.cfg.Records.Get(ctx, AdminColl(account.ID), inst.ID)
	if err != nil {
		return "", err
	}
	number := inst.SuperAdmin
	if ok {
		number = string(v)
	}
	if number == "" {
		return "", nil
	}
	p, err := contact.ParsePhone("", number)
	if err != nil {
		p, err = contact.ParsePhone("86", number)
	}
	if err != nil {
		if ok {
			return number, nil // a stored value is an E.164 number; kept as a guard
		}
		return "", nil
	}
	return p.Key(), nil
}

func (t target) scope(account string) otp.Scope {
	return otp.Scope{Account: account, Family: Name, Purpose: t.purpose, Destination: t.phone.Key(), Extra: t.instance}
}

func (s *svc) sendSmsCode(ctx context.Context, req *tcapi.Request) (any, error) {
	t, err := s.parse(ctx, req)
	if err != nil {
		return nil, err
	}
	if t.instance != "" {
		switch {
		case t.purpose == BindSuperAdmin && t.admin == t.phone.Key():
			return nil, ErrNotModified
		case t.purpose == ChannelUpdateVerify && t.admin != t.phone.Key():
			return nil, ErrNotSuperAdmin
		}
	}
	msg := delivery.Message{
		Channel: delivery.SMS, To: t.phone.E164(), Region: t.phone.Region(), Locale: delivery.NormalizeLocale(req.Language),
		Action: req.Action, Purpose: t.purpose, Account: req.Account.ID,
	}
	rate := *req.TakeRate()
	err = s.cfg.Engine.Send(ctx, otp.SendRequest{
		Scope: t.scope(req.Account.ID), Digits: s.cfg.CodeLength, Rate: &rate, Deliver: msg.Via(s.cfg.Sender, s.cfg.Now),
		Phone: t.phone, Channel: string(delivery.SMS),
	})
	return nil, sendOutcomes.Map(err)
}

// sendOutcomes are SendSmsCode's documented answers to the engine's results.
var sendOutcomes = otp.Outcomes{
	RateLimited:   tcapi.ErrRequestLimit,
	Cooldown:      ErrSendLimit,
	WindowFull:    ErrSendLimit,
	Refused:       ErrSendRefused,
	RefusedNumber: ErrNumberRefused,
	Delivery:      ErrSendSms,
	Unexpected:    tcapi.Internal,
}

// verifyOutcomes are VerifySmsCode's.
var verifyOutcomes = otp.Outcomes{
	RateLimited: tcapi.ErrRequestLimit,
	Mismatch:    ErrSmsCode,
	NoCode:      ErrSmsCode,
	Exhausted:   ErrSmsCodeExceeded,
	Unexpected:  tcapi.Internal,
}

// channelRecord is what a verified ChannelUpdateVerify leaves behind.
type channelRecord struct {
	Phone      string    `json:"phone"`
	VerifiedAt time.Time `json:"verified_at"`
}

func (s *svc) verifySmsCode(ctx context.Context, req *tcapi.Request) (any, error) {
	t, err := s.parse(ctx, req)
	if err != nil {
		return nil, err
	}
	code, err := req.RequiredString("Code")
	if err != nil {
		return nil, err
	}
	code = strings.TrimSpace(code)
	if len(code) != s.cfg.CodeLength || strings.Trim(code, "0123456789") != "" {
		// A code of the wrong shape can never match; it costs no attempt.
		return nil, ErrSmsCode
	}
	var ops []store.Op
	if t.instance != "" {
		switch t.purpose {
		case BindSuperAdmin:
			ops = []store.Op{{Kind: store.Put, Coll: AdminColl(req.Account.ID), Key: t.instance, Value: []byte(t.phone.E164())}}
		case ChannelUpdateVerify:
			rec, _ := json.Marshal(channelRecord{Phone: t.phone.E164(), VerifiedAt: s.cfg.Now().UTC()})
			ops = []store.Op{{Kind: store.Put, Coll: ChannelColl(req.Account.ID), Key: t.instance, Value: rec}}
		}
	}
	rate := *req.TakeRate()
	err = s.cfg.Engine.Check(ctx, otp.CheckRequest{Scope: t.scope(req.Account.ID), Code: code, Rate: &rate, Ops: ops, Phone: t.phone})
	return nil, verifyOutcomes.Map(err)
}
