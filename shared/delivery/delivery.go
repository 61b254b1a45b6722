// Package delivery describes a verification message and renders its localised
// text from templates (per channel, locale and purpose). Senders (the
// development outbox, SMS, voice, email and webhook providers, and the router
// that picks among them) implement Sender in their own sub-packages.
//
// A Message carries the code because a sender must put it in the text;
// senders never log it, and the errors they return go through Redact so that
// neither the code nor a credential reaches a log line.
package delivery

import (
	"context"
	"strings"
	"time"
)

// Channel is how a message reaches its recipient.
type Channel string

// Channels.
const (
	SMS   Channel = "sms"
	Voice Channel = "voice"
	Email Channel = "email"
)

// Message is one verification message. Code is present because a sender must
// put it in the text; senders never log it.
type Message struct {
	Channel Channel
	To      string // E.164 phone number or email address
	Region  string // ISO 3166 region of a phone number, as the service parsed it ("" for email or unknown)
	Subject string // email subject, rendered with Text
	Text    string
	Code    string
	Locale  string
	Action  string
	Purpose string
	Account string
	At      time.Time
	TTL     time.Duration
}

// Sender delivers messages. Implementations must be safe for concurrent use
// and honour ctx.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, m Message) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

type deliveredByKey struct{}

// WithDeliveredBy returns a context in which the sender that delivers a
// message reports the name of the provider that delivered it to report (the
// router does; the test kit's message list shows it).
func WithDeliveredBy(ctx context.Context, report func(provider string)) context.Context {
	return context.WithValue(ctx, deliveredByKey{}, report)
}

// DeliveredBy reports provider as the one that delivered the message sent
// with ctx; it does nothing without WithDeliveredBy.
func DeliveredBy(ctx context.Context, provider string) {
	if report, ok := ctx.Value(deliveredByKey{}).(func(string)); ok {
		report(provider)
	}
}

// NormalizeLocale maps the language tags the APIs use (zh-CN, zh_CN, en-US,
// en_US, en, pt_BR, ...) to a template locale, falling back to English.
func NormalizeLocale(tag string) string {
	t := strings.ReplaceAll(strings.TrimSpace(tag), "-", "_")
	switch {
	case strings.EqualFold(t, "zh_TW"), strings.EqualFold(t, "zh_HK"):
		return "zh_TW"
	case strings.EqualFold(t, "zh_CN"), strings.EqualFold(t, "zh"):
		return "zh_CN"
	case strings.EqualFold(t, "id"), strings.EqualFold(t, "id_ID"):
		return "id"
	}
	return "en"
}

// Via returns a function that delivers a code through s, using m as the
// template (Channel, To, Locale, Action, Purpose, Account). The subject and
// text are rendered from the built-in templates; WithTemplates re-renders
// them from configured ones. Its signature matches otp.Deliverer.
func (m Message) Via(s Sender, now func() time.Time) func(ctx context.Context, code string, ttl time.Duration) error {
	return func(ctx context.Context, code string, ttl time.Duration) error {
		msg := m
		msg.Code, msg.TTL, msg.At = code, ttl, now()
		msg.Subject, msg.Text = builtin.Render(msg)
		return s.Send(ctx, msg)
	}
}
