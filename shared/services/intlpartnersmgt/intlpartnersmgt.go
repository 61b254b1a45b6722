// Package intlpartnersmgt implements the Tencent Cloud International partner
// API (service intlpartnersmgt, version 2022-09-28) actions that send and
// consume a registration verification code: SendVerifyCode, and CreateAccount
// which consumes the code; with the two read-only lookups their parameters
// come from: GetCountryCodes (CountryCode, Area) and GetTradeConfigList
// (TradeOne, TradeTwo).
package intlpartnersmgt

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/contact"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/otp"
	"github.com/verifyfn/verifyfn/shared/password"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// Service identity.
const (
	Name    = "intlpartnersmgt"
	Version = "2022-09-28"
)

// Documented error codes of SendVerifyCode.
var (
	ErrPhoneBindUpper    = apierr.New("FailedOperation.PhoneBindUpper", "The number of registered accounts for the current mobile number has reached the maximum limit. Please change the phone number and try again.")
	ErrSendLimit         = apierr.New("FailedOperation.SendVerifyCodeLimit", "Verification codes are sent too frequently. Please try again later.")
	ErrSendLimit60       = apierr.New("FailedOperation.SendVerifyCodeLimit60", "The interval for sending SMS verification codes should be greater than 60 seconds. Please try again later.")
	ErrInvalidValue      = apierr.New("InvalidParameterValue", "Invalid parameter value.")
	ErrSendRefused       = apierr.New("FailedOperation.SendVerifyCodeLimit", "Verification codes to this destination are paused. Please try again later.")
	ErrNumberRefused     = apierr.New("InvalidParameterValue", "Invalid parameter value: this number cannot receive verification codes by SMS.")
	ErrUnsupportedArea   = apierr.New("InvalidParameterValue.UnSupportArea", "The current region does not support creating a Tencent Cloud International account.")
	ErrDeliveryFailed    = apierr.New("InternalError", "Failed to send the verification code. No code was left valid; please retry.")
	defaultUnsupportedCC = []int{7, 380, 86}
)

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
	// UnsupportedCountryCodes are refused with UnSupportArea (default 7, 380, 86).
	UnsupportedCountryCodes []int
	// MaxAccountsPerPhone bounds the accounts bound to one number (default 5).
	MaxAccountsPerPhone int64
	// Passwords hashes CreateAccount's passwords (default: OWASP's argon2id
	// parameters, GOMAXPROCS hashes at a time). Tests may pass a hasher
	// with password.TestOnly parameters; the configuration cannot.
	Passwords *password.Hasher
}

type svc struct {
	cfg Config
	// The lookups' answers, built on first use.
	countries          func() []countryCodeItem
	tradesEN, tradesZH func() []tradeOneNode
}

// New returns the service definition for the Tencent front door.
func New(cfg Config) tcapi.Service {
	s := newSvc(cfg)
	return tcapi.Service{
		Name:    Name,
		Version: Version,
		// A body or form that is not a valid parameter set answers the
		// parameter error these actions document.
		Overrides: map[*apierr.Error]*apierr.Error{
			tcapi.ErrDuplicateParameter: ErrInvalidValue,
			tcapi.ErrInvalidText:        ErrInvalidValue,
			tcapi.ErrTooManyParams:      ErrInvalidValue,
			tcapi.ErrMalformedQuery:     ErrInvalidValue,
		},
		Actions: []tcapi.Action{
			{Name: "SendVerifyCode", Params: []string{"CountryCode", "PhoneNum"}, Handle: s.sendVerifyCode, SelfLimited: true,
				Documented: []*apierr.Error{ErrInvalidValue, ErrUnsupportedArea, ErrSendLimit60, ErrSendLimit, ErrPhoneBindUpper, ErrDeliveryFailed},
				Delivers:   true, Destination: s.destination},
			{Name: "CreateAccount", Params: createAccountParams, Handle: s.createAccount, SelfLimited: true,
				Documented: createAccountErrors, Destination: s.destination},
			// Read-only lookups without parameters: the front door limits
			// their rate and refuses any parameter (UnknownParameter).
			{Name: "GetCountryCodes", Handle: s.getCountryCodes, RateLimit: 5}, // documented: 5 requests a second
			{Name: "GetTradeConfigList", Handle: s.getTradeConfigList},
		},
	}
}

// newSvc applies the defaults of cfg.
func newSvc(cfg Config) *svc {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.UnsupportedCountryCodes == nil {
		cfg.UnsupportedCountryCodes = defaultUnsupportedCC
	}
	if cfg.MaxAccountsPerPhone == 0 {
		cfg.MaxAccountsPerPhone = 5
	}
	if cfg.Passwords == nil {
		cfg.Passwords = password.New(password.OWASP(), 0)
	}
	s := &svc{cfg: cfg}
	s.countries = sync.OnceValue(s.countryCodes)
	s.tradesEN = sync.OnceValue(func() []tradeOneNode { return tradeList(false) })
	s.tradesZH = sync.OnceValue(func() []tradeOneNode { return tradeList(true) })
	return s
}

// BoundColl is the collection counting the accounts bound to each number of
// an account (key: the number's canonical handset key, contact.Phone.Key,
// which is its E.164 form but for the few numbers with two spellings; value:
// decimal count).
func BoundColl(account string) string { return store.Coll(account, "bound") }

// phone validates CountryCode and PhoneNum: both required; the country code
// like "852" or "+852", of a country or region and not an unsupported area
// (callingCode, the rule GetCountryCodes lists by); the number valid for that
// country, in any common spelling.
func (s *svc) phone(req *tcapi.Request) (contact.Phone, error) {
	cc, okc, err := req.String("CountryCode")
	if err != nil || !okc || cc == "" {
		return contact.Phone{}, ErrInvalidValue
	}
	num, okn, err := req.String("PhoneNum")
	if err != nil || !okn || num == "" {
		return contact.Phone{}, ErrInvalidValue
	}
	code, err := contact.ParseCountryCode(cc)
	if err != nil {
		return contact.Phone{}, ErrInvalidValue
	}
	if err := s.callingCode(code); err != nil {
		return contact.Phone{}, err
	}
	p, err := contact.ParsePhone(strconv.Itoa(code), num)
	if err != nil {
		return contact.Phone{}, ErrInvalidValue
	}
	return p, nil
}

// destination is the canonical key of a request's number (CountryCode and
// PhoneNum), "" when invalid.
func (s *svc) destination(req *tcapi.Request) string {
	p, err := s.phone(req)
	if err != nil {
		return ""
	}
	return p.Key()
}

func (s *svc) sendVerifyCode(ctx context.Context, req *tcapi.Request) (any, error) {
	p, err := s.phone(req)
	if err != nil {
		return nil, err
	}
	req.Log(slog.Any("to", p))
	account := req.Account.ID
	msg := delivery.Message{
		Channel: delivery.SMS, To: p.E164(), Region: p.Region(), Locale: delivery.NormalizeLocale(req.Language),
		Action: req.Action, Purpose: "register", Account: account,
	}
	rate := *req.TakeRate()
	err = s.cfg.Engine.Send(ctx, otp.SendRequest{
		Scope:   otp.Scope{Account: account, Family: Name, Purpose: "register", Destination: p.Key()},
		Digits:  6,
		Rate:    &rate,
		Guard:   &store.Guard{Coll: BoundColl(account), Key: p.Key(), Max: s.cfg.MaxAccountsPerPhone},
		Deliver: msg.Via(s.cfg.Sender, s.cfg.Now),
		Phone:   p,
		Channel: string(delivery.SMS),
	})
	return nil, sendOutcomes.Map(err)
}

// sendOutcomes are SendVerifyCode's documented answers to the engine's results.
var sendOutcomes = otp.Outcomes{
	RateLimited:   tcapi.ErrRequestLimit,
	Cooldown:      ErrSendLimit60,
	WindowFull:    ErrSendLimit,
	GuardFull:     ErrPhoneBindUpper,
	Refused:       ErrSendRefused,
	RefusedNumber: ErrNumberRefused,
	Delivery:      ErrDeliveryFailed,
	Unexpected:    tcapi.Internal,
}
