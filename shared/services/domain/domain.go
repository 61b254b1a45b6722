// Package domain implements the Tencent Cloud Domain (service domain, version
// 2018-08-08) international contact verification actions:
// SendIntlPhoneEmailCode sends a code to a phone (Type 1) or an email address
// (Type 2), CreateIntlPhoneEmail consumes it and records the contact as
// verified, DescribeIntlPhoneEmailList lists verified contacts in
// verification order, and DeleteIntlPhoneEmail removes one.
//
// This API documents its own codes for conditions other services answer with
// common codes (MethodNotMatch, ReadBodyError, JsonMarshal, NeedLogin,
// ForbiddenRequest, ActionNotFound); the service maps them.
package domain

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/verifyfn/verifyfn/shared/apierr"
	"github.com/verifyfn/verifyfn/shared/contact"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/otp"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// Service identity.
const (
	Name    = "domain"
	Version = "2018-08-08"
)

// Documented error codes.
var (
	ErrAddPhoneEmail      = apierr.New("InternalError.AddPhoneEmailErr", "Failed to add the mobile number or email address.")
	ErrCheckVerifyCode    = apierr.New("InternalError.CheckVerifyCodeErr", "Failed to verify the verification code.")
	ErrForbidden          = apierr.New("InternalError.ForbiddenRequest", "Forbidden request.")
	ErrJSONMarshal        = apierr.New("InternalError.JsonMarshal", "Error in converting to JSON.")
	ErrMethodNotMatch     = apierr.New("InternalError.MethodNotMatch", "Method mismatch.")
	ErrNeedLogin          = apierr.New("InternalError.NeedLogin", "Login is required.")
	ErrReadBody           = apierr.New("InternalError.ReadBodyError", "Failed to read the body.")
	ErrVerified           = apierr.New("InternalError.VerifiedPhoneEmailErr", "The mobile number or email address has already been verified.")
	ErrVerifyCode         = apierr.New("InternalError.VerifyCodeErr", "Incorrect verification code.")
	ErrSendVerifyCode     = apierr.New("InternalError.SendVerifyCodeErr", "Failed to send a verification code.")
	ErrDescribeList       = apierr.New("InternalError.DescribePhoneEmailListErr", "Failed to query the list of verified mobile numbers and email addresses.")
	ErrDelete             = apierr.New("InternalError.DeletePhoneEmailVerifyErr", "Failed to delete the verified mobile number or email address.")
	ErrInvalidFormat      = apierr.New("InvalidParameterValue.InvalidParameterFormat", "Invalid parameter value.")
	ErrActionNotFound     = apierr.New("MissingParameter.ActionNotFound", "The route is not defined.")
	ErrSendLimited        = apierr.New(tcapi.CodeRequestLimitExceeded, "Verification codes are sent to this contact too often. Please try again later.")
	ErrSendRefused        = apierr.New(tcapi.CodeRequestLimitExceeded, "Verification codes to this destination are paused. Please try again later.")
	ErrNumberRefused      = apierr.New("InvalidParameterValue.InvalidParameterFormat", "Invalid parameter value: this number cannot receive verification codes by SMS.")
	errNotVerifiedContact = apierr.New("InternalError.DeletePhoneEmailVerifyErr", "The mobile number or email address is not verified.")
)

// Contact types.
const (
	TypePhone = 1
	TypeEmail = 2
)

// Engine is what the service needs from the verification-code engine.
type Engine interface {
	Send(ctx context.Context, req otp.SendRequest) error
	Check(ctx context.Context, req otp.CheckRequest) error
}

// Records is what the service needs from the durable records.
type Records interface {
	List(ctx context.Context, coll string, offset, limit int) ([]store.Record, int, error)
	Apply(ctx context.Context, ops []store.Op) (int, error)
}

// Config wires the service.
type Config struct {
	Engine  Engine
	Records Records
	Sender  delivery.Sender
	Now     func() time.Time
}

// ContactsColl holds an account's verified contacts (key "<type>:<canonical
// contact>", see target; the record keeps the contact as it was verified).
func ContactsColl(account string) string { return store.Coll(account, "contacts") }

type svc struct{ cfg Config }

// New returns the service definition for the Tencent front door.
func New(cfg Config) tcapi.Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &svc{cfg: cfg}
	return tcapi.Service{
		Name:    Name,
		Version: Version,
		Actions: []tcapi.Action{
			{Name: "SendIntlPhoneEmailCode", Params: []string{"Type", "Code"}, Handle: s.send, SelfLimited: true, Unavailable: ErrSendVerifyCode,
				Documented: []*apierr.Error{ErrInvalidFormat, ErrSendLimited, ErrSendVerifyCode}, Delivers: true, Destination: destination},
			{Name: "CreateIntlPhoneEmail", Params: []string{"Type", "Code", "VerifyCode"}, Handle: s.create, SelfLimited: true, Unavailable: ErrAddPhoneEmail,
				Documented: []*apierr.Error{ErrInvalidFormat, ErrVerifyCode, ErrCheckVerifyCode, ErrVerified, ErrAddPhoneEmail}, Destination: destination},
			{Name: "DescribeIntlPhoneEmailList", Params: []string{"Type", "Limit", "Offset"}, Handle: s.list, Unavailable: ErrDescribeList,
				Documented: []*apierr.Error{ErrInvalidFormat, ErrDescribeList}},
			{Name: "DeleteIntlPhoneEmail", Params: []string{"Type", "Code"}, Handle: s.remove, Unavailable: ErrDelete,
				Documented: []*apierr.Error{ErrInvalidFormat, ErrDelete}, Destination: destination},
		},
		Overrides: map[*apierr.Error]*apierr.Error{
			tcapi.ErrUnsupportedProtocol: ErrMethodNotMatch,
			tcapi.ErrRequestTooLarge:     ErrReadBody,
			tcapi.ErrReadBody:            ErrReadBody,
			tcapi.ErrMalformedJSON:       ErrJSONMarshal,
			tcapi.ErrNoCredential:        ErrNeedLogin,
			tcapi.ErrUnauthorized:        ErrForbidden,
			tcapi.ErrNotSubscribed:       ErrForbidden,
			tcapi.ErrInvalidAction:       ErrActionNotFound,
			// Bodies and forms that are not valid parameter sets.
			tcapi.ErrDuplicateParameter: ErrInvalidFormat,
			tcapi.ErrInvalidText:        ErrInvalidFormat,
			tcapi.ErrTooManyParams:      ErrInvalidFormat,
			tcapi.ErrMalformedQuery:     ErrInvalidFormat,
		},
	}
}

// target is a parsed contact: its type, the address to deliver to (the
// contact as given, normalised: E.164 or the parsed address), its canonical
// identity (contact.Phone.Key or contact.Email.Key), on which the send
// limits, the code and the verified record are keyed, and a masked form for
// logs.
type target struct {
	typ      int64
	contact  string
	region   string // a phone's ISO region
	identity string
	masked   slog.Value
	phone    contact.Phone // Type 1
}

func (t target) key() string { return strconv.FormatInt(t.typ, 10) + ":" + t.identity }

// parseContact reads Type (a JSON number, or "1" from form and GET clients)
// and Code: a phone number (E.164, or national digits taken as +86 as in the
// documented example) or an email address.
func parseContact(req *tcapi.Request) (target, error) {
	var t target
	typ, ok, err := req.Int("Type")
	if err != nil || !ok || (typ != TypePhone && typ != TypeEmail) {
		return t, ErrInvalidFormat
	}
	code, ok, err := req.String("Code")
	if err != nil || !ok {
		return t, ErrInvalidFormat
	}
	code = strings.TrimSpace(code)
	t.typ = typ
	if typ == TypePhone {
		p, err := contact.ParsePhone("", code)
		if err != nil {
			p, err = contact.ParsePhone("86", code)
		}
		if err != nil {
			return t, ErrInvalidFormat
		}
		t.contact, t.region, t.identity, t.masked, t.phone = p.E164(), p.Region(), p.Key(), p.LogValue(), p
		return t, nil
	}
	e, err := contact.ParseEmail(code)
	if err != nil {
		return t, ErrInvalidFormat
	}
	t.contact, t.identity, t.masked = e.Address(), e.Key(), e.LogValue()
	return t, nil
}

// destination is the canonical key of a request's contact, "" when invalid.
func destination(req *tcapi.Request) string {
	t, err := parseContact(req)
	if err != nil {
		return ""
	}
	return t.identity
}

func (t target) scope(account string) otp.Scope {
	return otp.Scope{Account: account, Family: Name, Purpose: "verify-contact", Destination: t.identity}
}

func (s *svc) send(ctx context.Context, req *tcapi.Request) (any, error) {
	t, err := parseContact(req)
	if err != nil {
		return nil, err
	}
	req.Log(slog.Attr{Key: "to", Value: t.masked})
	channel := delivery.SMS
	if t.typ == TypeEmail {
		channel = delivery.Email
	}
	msg := delivery.Message{
		Channel: channel, To: t.contact, Region: t.region, Locale: delivery.NormalizeLocale(req.Language),
		Action: req.Action, Purpose: "verify-contact", Account: req.Account.ID,
	}
	rate := *req.TakeRate()
	err = s.cfg.Engine.Send(ctx, otp.SendRequest{
		Scope: t.scope(req.Account.ID), Digits: 6, Rate: &rate, Deliver: msg.Via(s.cfg.Sender, s.cfg.Now),
		Phone: t.phone, Channel: string(channel),
	})
	return nil, sendOutcomes.Map(err)
}

// sendOutcomes are SendIntlPhoneEmailCode's documented answers to the
// engine's results: any failure other than a limit is SendVerifyCodeErr.
var sendOutcomes = otp.Outcomes{
	RateLimited:   tcapi.ErrRequestLimit,
	Cooldown:      ErrSendLimited,
	WindowFull:    ErrSendLimited,
	Refused:       ErrSendRefused,
	RefusedNumber: ErrNumberRefused,
	Unexpected:    func(err error) error { return ErrSendVerifyCode.Wrap(err) },
}

// createOutcomes are CreateIntlPhoneEmail's. The check and the record are
// one atomic store step, so a store failure means neither happened.
var createOutcomes = otp.Outcomes{
	RateLimited: tcapi.ErrRequestLimit,
	Mismatch:    ErrVerifyCode,
	NoCode:      ErrCheckVerifyCode,
	Exhausted:   ErrCheckVerifyCode,
	Conflicts:   []*apierr.Error{ErrVerified},
	Unexpected:  func(err error) error { return ErrAddPhoneEmail.Wrap(err) },
}

// contactRecord is a verified contact.
type contactRecord struct {
	Type       int64     `json:"type"`
	Code       string    `json:"code"`
	VerifiedAt time.Time `json:"verified_at"`
}

func (s *svc) create(ctx context.Context, req *tcapi.Request) (any, error) {
	t, err := parseContact(req)
	if err != nil {
		return nil, err
	}
	code, ok, err := req.String("VerifyCode")
	code = strings.TrimSpace(code)
	if err != nil || !ok || len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return nil, ErrInvalidFormat
	}
	req.Log(slog.Attr{Key: "to", Value: t.masked})
	rec, _ := json.Marshal(contactRecord{Type: t.typ, Code: t.contact, VerifiedAt: s.cfg.Now().UTC()})
	rate := *req.TakeRate()
	err = s.cfg.Engine.Check(ctx, otp.CheckRequest{
		Scope: t.scope(req.Account.ID), Code: code, Rate: &rate, Phone: t.phone,
		Ops: []store.Op{{Kind: store.Insert, Coll: ContactsColl(req.Account.ID), Key: t.key(), Value: rec}},
	})
	return nil, createOutcomes.Map(err)
}

// IntlPhoneEmail is one entry of PhoneEmailList.
type IntlPhoneEmail struct {
	Code      string
	Type      int64
	CreatedOn string
}

// listOutput is DescribeIntlPhoneEmailList's output.
type listOutput struct {
	PhoneEmailList []IntlPhoneEmail
	TotalCount     int64
}

func (s *svc) list(ctx context.Context, req *tcapi.Request) (any, error) {
	typ, _, err := req.Int("Type")
	if err != nil || typ < 0 || typ > 2 {
		return nil, ErrInvalidFormat
	}
	limit, ok, err := req.Int("Limit")
	if err != nil || ok && (limit < 1 || limit > 200) {
		return nil, ErrInvalidFormat
	}
	if !ok {
		limit = 20
	}
	offset, _, err := req.Int("Offset")
	if err != nil || offset < 0 {
		return nil, ErrInvalidFormat
	}
	coll := ContactsColl(req.Account.ID)
	var page []store.Record
	var total int
	if typ == 0 {
		// All types: the store pages in verification order.
		page, total, err = s.cfg.Records.List(ctx, coll, int(min(offset, 1<<30)), int(limit))
	} else {
		// One type: keys start with "<type>:", so filter without decoding
		// and decode only the page.
		var all []store.Record
		all, _, err = s.cfg.Records.List(ctx, coll, 0, 1<<30)
		prefix := strconv.FormatInt(typ, 10) + ":"
		for _, r := range all {
			if !strings.HasPrefix(r.Key, prefix) {
				continue
			}
			if int64(total) >= offset && int64(len(page)) < limit {
				page = append(page, r)
			}
			total++
		}
	}
	if err != nil {
		return nil, ErrDescribeList.Wrap(err)
	}
	out := listOutput{PhoneEmailList: make([]IntlPhoneEmail, 0, len(page)), TotalCount: int64(total)}
	for _, r := range page {
		var c contactRecord
		if err := json.Unmarshal(r.Value, &c); err != nil {
			return nil, ErrDescribeList.Wrap(err)
		}
		out.PhoneEmailList = append(out.PhoneEmailList, IntlPhoneEmail{Code: c.Code, Type: c.Type, CreatedOn: c.VerifiedAt.Format(time.DateTime)})
	}
	return out, nil
}

func (s *svc) remove(ctx context.Context, req *tcapi.Request) (any, error) {
	t, err := parseContact(req)
	if err != nil {
		return nil, err
	}
	req.Log(slog.Attr{Key: "to", Value: t.masked})
	i, err := s.cfg.Records.Apply(ctx, []store.Op{{Kind: store.Remove, Coll: ContactsColl(req.Account.ID), Key: t.key()}})
	switch {
	case err != nil:
		return nil, ErrDelete.Wrap(err)
	case i >= 0:
		return nil, errNotVerifiedContact
	}
	return nil, nil
}
