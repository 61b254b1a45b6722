// Package twilio delivers codes by Twilio with the official
// github.com/twilio/twilio-go library: SMS through the Messages resource
// (the rendered text as Body) and voice through the Calls resource (inline
// TwiML whose <Say> speaks the rendered voice text, in which the code's
// digits are separated by spaces so they are read one by one).
//
// twilio-go builds its own requests without a context and from a fixed base
// URL, so the sender hands it a per-message client whose transport carries
// the caller's context and, when BaseURL is set (tests, a regional proxy),
// rewrites the scheme and host of each request.
package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	tclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
	"github.com/twilio/twilio-go/twiml"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery"
)

// Config configures a Twilio sender. AuthToken must come from the
// environment or a secret reference, never from a file.
type Config struct {
	AccountSID string // AC...
	AuthToken  accounts.Secret
	// From is the sending number (E.164) or, for SMS, an alphanumeric
	// sender id. For SMS, MessagingServiceSID (MG...) may replace it.
	From                string
	MessagingServiceSID string
	// BaseURL replaces https://api.twilio.com (scheme and host only), for
	// tests or a forwarding proxy. Edge and Region select Twilio's edge
	// locations and processing region as TWILIO_EDGE / TWILIO_REGION would
	// (the environment variables themselves are ignored).
	BaseURL      string
	Edge, Region string
	// Voice names the <Say> voice (e.g. "Polly.Joanna"); Voices overrides it
	// per message locale ("en", "zh_CN", ...). Empty lets Twilio choose.
	Voice  string
	Voices map[string]string
	// Loop is how many times the voice text is spoken; default 2.
	Loop       int
	HTTPClient *http.Client  // its Transport is used; nil means http.DefaultTransport
	Timeout    time.Duration // whole request; default 10 s
}

// Sender sends SMS or calls. It is safe for concurrent use.
type Sender struct {
	cfg   Config
	voice bool
	base  *url.URL
	rt    http.RoundTripper
}

// NewSMS returns a sender of SMS messages (channel sms).
func NewSMS(cfg Config) (*Sender, error) { return newSender(cfg, false) }

// NewVoice returns a sender of voice calls (channel voice).
func NewVoice(cfg Config) (*Sender, error) { return newSender(cfg, true) }

func newSender(cfg Config, voice bool) (*Sender, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Loop == 0 {
		cfg.Loop = 2
	}
	var errs []error
	if !sid(cfg.AccountSID, "AC") {
		errs = append(errs, errors.New("account_sid must be an account SID (AC followed by letters and digits)"))
	}
	if cfg.AuthToken.IsZero() {
		errs = append(errs, errors.New("auth_token is required"))
	} else if !alnum(cfg.AuthToken.Reveal()) {
		errs = append(errs, errors.New("auth_token must be letters and digits only"))
	}
	switch {
	case voice && cfg.From == "":
		errs = append(errs, errors.New("from (the calling number) is required"))
	case voice && cfg.MessagingServiceSID != "":
		errs = append(errs, errors.New("messaging_service_sid applies to SMS only"))
	case !voice && cfg.From == "" && cfg.MessagingServiceSID == "":
		errs = append(errs, errors.New("from or messaging_service_sid is required"))
	case cfg.MessagingServiceSID != "" && !sid(cfg.MessagingServiceSID, "MG"):
		errs = append(errs, errors.New("messaging_service_sid must start with MG"))
	}
	if cfg.Timeout < 0 || cfg.Loop < 1 || cfg.Loop > 10 {
		errs = append(errs, errors.New("timeout must be positive and loop between 1 and 10"))
	}
	s := &Sender{voice: voice, rt: http.DefaultTransport}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil {
			errs = append(errs, errors.New("base_url must be an http(s) URL without a path"))
		}
		s.base = u
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		s.rt = cfg.HTTPClient.Transport
	}
	s.cfg = cfg
	return s, nil
}

// Send delivers m: an SMS with m.Text, or a call speaking m.Text.
func (s *Sender) Send(ctx context.Context, m delivery.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !strings.HasPrefix(m.To, "+") {
		return errors.New("twilio: the destination is not an E.164 phone number")
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	api := s.api(ctx)
	if s.voice {
		return s.call(api, m)
	}
	p := &openapi.CreateMessageParams{}
	p.SetTo(m.To).SetBody(m.Text)
	if s.cfg.MessagingServiceSID != "" {
		p.SetMessagingServiceSid(s.cfg.MessagingServiceSID)
	} else {
		p.SetFrom(s.cfg.From)
	}
	msg, err := api.CreateMessage(p)
	if err != nil {
		return s.fail(err, m)
	}
	if err := outcome(msg.Status, msg.ErrorCode, msg.ErrorMessage); err != nil {
		return s.fail(err, m)
	}
	return nil
}

func (s *Sender) call(api *openapi.ApiService, m delivery.Message) error {
	voice := s.cfg.Voice
	if v, ok := s.cfg.Voices[m.Locale]; ok {
		voice = v
	}
	doc, err := twiml.Voice([]twiml.Element{twiml.VoiceSay{
		Message:  m.Text,
		Voice:    voice,
		Language: sayLanguage(m.Locale),
		Loop:     strconv.Itoa(s.cfg.Loop),
	}})
	if err != nil {
		return s.fail(err, m)
	}
	p := &openapi.CreateCallParams{}
	p.SetTo(m.To).SetFrom(s.cfg.From).SetTwiml(doc)
	c, err := api.CreateCall(p)
	if err != nil {
		return s.fail(err, m)
	}
	if err := outcome(c.Status, nil, nil); err != nil {
		return s.fail(err, m)
	}
	return nil
}

// outcome turns the status of a created message or call into an error when
// Twilio already knows it failed.
func outcome(status *string, code *int, message *string) error {
	st := ""
	if status != nil {
		st = *status
	}
	switch st {
	case "failed", "undelivered", "canceled", "busy", "no-answer":
		msg := ""
		if message != nil {
			msg = *message
		}
		if code != nil {
			return fmt.Errorf("status %s, error %d %s", st, *code, msg)
		}
		return fmt.Errorf("status %s", st)
	}
	return nil
}

// sayLanguage maps a message locale to a <Say> language.
func sayLanguage(locale string) string {
	switch delivery.NormalizeLocale(locale) {
	case "zh_CN":
		return "zh-CN"
	case "zh_TW":
		return "zh-TW"
	case "id":
		return "id-ID"
	}
	return "en-US"
}

// api returns a Twilio API service whose requests run under ctx.
func (s *Sender) api(ctx context.Context) *openapi.ApiService {
	c := &tclient.Client{
		Credentials: tclient.NewCredentials(s.cfg.AccountSID, s.cfg.AuthToken.Reveal()),
		HTTPClient: &http.Client{
			Transport:     &transport{ctx: ctx, base: s.base, rt: s.rt},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(s.cfg.AccountSID)
	h := tclient.NewRequestHandler(c)
	h.Edge, h.Region = s.cfg.Edge, s.cfg.Region
	return openapi.NewApiService(h)
}

// transport runs each request under ctx and, when base is set, sends it to
// base's scheme and host.
type transport struct {
	ctx  context.Context
	base *url.URL
	rt   http.RoundTripper
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(t.ctx)
	if t.base != nil {
		r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, t.base.Host
	}
	return t.rt.RoundTrip(r)
}

// fail wraps err for the caller with the code, the text and the token
// removed.
func (s *Sender) fail(err error, m delivery.Message) error {
	return delivery.Redact(fmt.Errorf("twilio: %w", err), m.Code, delivery.SpaceDigits(m.Code), s.cfg.AuthToken.Reveal())
}

func sid(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	return ok && len(rest) >= 8 && len(rest) <= 64 && alnum(rest)
}

func alnum(s string) bool {
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return s != ""
}
