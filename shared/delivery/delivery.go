// Package delivery describes a verification message and renders its localised
// text. Senders (the development outbox, SMS, voice and email providers)
// implement Sender in their own sub-packages.
package delivery

import (
	"context"
	"fmt"
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

// template texts take the code and the lifetime in minutes.
var templates = map[string]string{
	"en":    "Your verification code is %s. It expires in %d minutes. Do not share it with anyone.",
	"zh_CN": "您的验证码是%s，%d分钟内有效。请勿泄露给他人。",
	"zh_TW": "您的驗證碼是%s，%d分鐘內有效。請勿洩露給他人。",
	"id":    "Kode verifikasi Anda adalah %s. Berlaku selama %d menit. Jangan bagikan kepada siapa pun.",
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

// Text renders the message text for code in locale: it states the code and
// its lifetime (rounded up to whole minutes).
func Text(locale, code string, ttl time.Duration) string {
	minutes := int((ttl + time.Minute - 1) / time.Minute)
	return fmt.Sprintf(templates[NormalizeLocale(locale)], code, minutes)
}

// Via returns a function that delivers a code through s, using m as the
// template (Channel, To, Locale, Action, Purpose, Account). Its signature
// matches otp.Deliverer.
func (m Message) Via(s Sender, now func() time.Time) func(ctx context.Context, code string, ttl time.Duration) error {
	return func(ctx context.Context, code string, ttl time.Duration) error {
		msg := m
		msg.Code, msg.TTL, msg.At = code, ttl, now()
		msg.Text = Text(m.Locale, code, ttl)
		return s.Send(ctx, msg)
	}
}
