package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/delivery"
)

func TestBuiltinTexts(t *testing.T) {
	for _, tc := range []struct {
		ch     delivery.Channel
		locale string
		want   []string
	}{
		{delivery.SMS, "en", []string{"123456", "10 minutes"}},
		{delivery.SMS, "zh_CN", []string{"您的验证码是123456", "10分钟"}},
		{delivery.SMS, "zh_TW", []string{"您的驗證碼是123456", "10分鐘"}},
		{delivery.SMS, "id", []string{"Kode verifikasi Anda adalah 123456", "10 menit"}},
		{delivery.Voice, "en", []string{"1 2 3 4 5 6", "10 minutes"}},
		{delivery.Voice, "zh_CN", []string{"1 2 3 4 5 6", "10分钟"}},
		{delivery.Email, "en", []string{"123456", "10 minutes", "ignore this email"}},
		{delivery.Email, "id", []string{"123456", "10 menit"}},
		{delivery.SMS, "fr", []string{"Your verification code is 123456"}},     // unknown: English
		{delivery.SMS, "zh-HK", []string{"您的驗證碼是123456"}},                      // through NormalizeLocale
		{delivery.SMS, "ZH_cn", []string{"您的验证码是123456"}},                      // case-insensitive
		{delivery.Channel("fax"), "en", []string{"Your verification code is"}}, // unknown channel: sms texts
	} {
		_, text := delivery.DefaultTemplates().Render(delivery.Message{Channel: tc.ch, Locale: tc.locale, Code: "123456", TTL: 10 * time.Minute})
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s/%s: %q lacks %q", tc.ch, tc.locale, text, w)
			}
		}
	}
	subject, _ := delivery.DefaultTemplates().Render(delivery.Message{Channel: delivery.Email, Locale: "zh_CN", Code: "123456", TTL: time.Minute})
	if subject != "您的验证码" {
		t.Errorf("email subject %q", subject)
	}
	if s, _ := delivery.DefaultTemplates().Render(delivery.Message{Channel: delivery.SMS, Code: "1"}); s != "" {
		t.Errorf("an SMS has subject %q", s)
	}
	// The historical Text function keeps its output.
	if got := delivery.Text("en", "123456", 90*time.Second); got != "Your verification code is 123456. It expires in 2 minutes. Do not share it with anyone." {
		t.Errorf("Text = %q", got)
	}
}

func TestViaRendersSubjectAndText(t *testing.T) {
	var got delivery.Message
	rec := delivery.SenderFunc(func(_ context.Context, m delivery.Message) error { got = m; return nil })
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := delivery.Message{Channel: delivery.Email, To: "a@example.com", Locale: "en", Purpose: "verify-contact"}
	if err := m.Via(rec, func() time.Time { return at })(context.Background(), "654321", 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if got.Code != "654321" || got.TTL != 5*time.Minute || !got.At.Equal(at) || got.Subject == "" || !strings.Contains(got.Text, "654321") {
		t.Fatalf("message %+v", got)
	}
}

const templatesYAML = `
sms:
  en:
    default: "ACME code {{code}} ({{minutes}} min)"
    register: "Welcome to ACME! Code {{code}}"
  pt-BR:
    default: "Seu código ACME é {{code}}"
  ja:
    default: "ACMEの確認コード: {{code}}"
voice:
  en:
    default: "ACME. Your code is {{code}}."
email:
  en:
    default:
      subject: "ACME code {{code}}"
      text: "Hello, your ACME code is {{code}}."
  zh_CN:
    default:
      text: "ACME 验证码 {{code}}"
`

func TestParseTemplates(t *testing.T) {
	tpl, err := delivery.ParseTemplates("t.yaml", []byte(templatesYAML))
	if err != nil {
		t.Fatal(err)
	}
	render := func(ch delivery.Channel, locale, purpose string) (string, string) {
		return tpl.Render(delivery.Message{Channel: ch, Locale: locale, Purpose: purpose, Code: "123456", TTL: 5 * time.Minute})
	}
	for _, tc := range []struct {
		ch                     delivery.Channel
		locale, purpose, want  string
		wantSubject, notInText string
	}{
		{ch: delivery.SMS, locale: "en", purpose: "register", want: "Welcome to ACME! Code 123456"},
		{ch: delivery.SMS, locale: "en", purpose: "login", want: "ACME code 123456 (5 min)"},
		{ch: delivery.SMS, locale: "en_US", purpose: "login", want: "ACME code 123456 (5 min)"},
		{ch: delivery.SMS, locale: "pt_BR", want: "Seu código ACME é 123456"},
		{ch: delivery.SMS, locale: "pt-br", want: "Seu código ACME é 123456"},
		{ch: delivery.SMS, locale: "ja", want: "ACMEの確認コード: 123456"},
		{ch: delivery.SMS, locale: "ja_JP", want: "ACMEの確認コード: 123456"},
		// Locales not in the file keep the built-in texts.
		{ch: delivery.SMS, locale: "zh_CN", purpose: "register", want: "您的验证码是123456，5分钟内有效。请勿泄露给他人。"},
		{ch: delivery.Voice, locale: "en", want: "ACME. Your code is 1 2 3 4 5 6."},
		{ch: delivery.Email, locale: "en", want: "Hello, your ACME code is 123456.", wantSubject: "ACME code 123456"},
		// An email entry without a subject keeps the built-in one.
		{ch: delivery.Email, locale: "zh_CN", want: "ACME 验证码 123456", wantSubject: "您的验证码"},
	} {
		subject, text := render(tc.ch, tc.locale, tc.purpose)
		if text != tc.want {
			t.Errorf("%s/%s/%s: text %q, want %q", tc.ch, tc.locale, tc.purpose, text, tc.want)
		}
		if tc.wantSubject != "" && subject != tc.wantSubject {
			t.Errorf("%s/%s: subject %q, want %q", tc.ch, tc.locale, subject, tc.wantSubject)
		}
	}
	// The built-in set is not modified by parsing.
	if _, text := delivery.DefaultTemplates().Render(delivery.Message{Channel: delivery.SMS, Locale: "en", Code: "1", TTL: time.Minute}); strings.Contains(text, "ACME") {
		t.Fatalf("parsing changed the built-in templates: %q", text)
	}
}

func TestParseTemplatesEmpty(t *testing.T) {
	tpl, err := delivery.ParseTemplates("t.yaml", nil)
	if err != nil || tpl != delivery.DefaultTemplates() {
		t.Fatalf("empty file: %v", err)
	}
}

func TestParseTemplatesErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"sms:\n  en:\n    default: \"no code here\"\n", "t.yaml:3: sms.en.default: the text must contain {{code}}"},
		{"sms:\n  en:\n    default: \"{{code}} {{name}}\"\n", "t.yaml:3: sms.en.default: the text has a placeholder other than"},
		{"fax:\n  en:\n    default: \"{{code}}\"\n", `t.yaml:1: unknown channel "fax"`},
		{"sms:\n  english!:\n    default: \"{{code}}\"\n", `t.yaml:2: sms: "english!" is not a locale`},
		{"sms:\n  en:\n    default:\n      subject: \"x\"\n      text: \"{{code}}\"\n", "t.yaml:4: sms.en.default: only email templates have a subject"},
		{"email:\n  en:\n    default:\n      subject: \"a\\nb\"\n      text: \"{{code}}\"\n", "the subject must be one line"},
		{"email:\n  en:\n    default:\n      body: \"{{code}}\"\n", `unknown key "body"`},
		{"- a\n- b\n", "t.yaml:1: the templates file must be a mapping"},
		{"sms: [\n", "t.yaml: yaml:"},
	} {
		_, err := delivery.ParseTemplates("t.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
	// A text is never quoted in an error.
	_, err := delivery.ParseTemplates("t.yaml", []byte("sms:\n  en:\n    default: \"secret-looking text\"\n"))
	if err == nil || strings.Contains(err.Error(), "secret-looking") {
		t.Fatalf("error %v quotes the text", err)
	}
}

func TestWithTemplates(t *testing.T) {
	tpl, err := delivery.ParseTemplates("t.yaml", []byte(templatesYAML))
	if err != nil {
		t.Fatal(err)
	}
	var got delivery.Message
	s := delivery.WithTemplates(tpl, delivery.SenderFunc(func(_ context.Context, m delivery.Message) error { got = m; return nil }))
	m := delivery.Message{Channel: delivery.SMS, To: "+85251234567", Locale: "en", Purpose: "register"}
	if err := m.Via(s, time.Now)(context.Background(), "111222", time.Minute); err != nil {
		t.Fatal(err)
	}
	if got.Text != "Welcome to ACME! Code 111222" {
		t.Fatalf("text %q", got.Text)
	}
}

func TestSpaceDigits(t *testing.T) {
	if got := delivery.SpaceDigits("0123"); got != "0 1 2 3" {
		t.Fatalf("%q", got)
	}
	if got := delivery.SpaceDigits(""); got != "" {
		t.Fatalf("%q", got)
	}
}

func TestRedact(t *testing.T) {
	if delivery.Redact(nil, "x") != nil {
		t.Fatal("Redact(nil) is not nil")
	}
	inner := errors.New(`POST https://api.example.com/?TemplateParam={"code":"123456"} with key s3cr3t failed`)
	err := delivery.Redact(fmt.Errorf("provider: %w", inner), "123456", "", "s3cr3t")
	if strings.Contains(err.Error(), "123456") || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("redacted error %q", err)
	}
	if errors.Is(err, inner) {
		t.Fatal("the redacted error unwraps to the original")
	}
	ctxErr := delivery.Redact(fmt.Errorf("dial: %w", context.DeadlineExceeded), "1")
	if !errors.Is(ctxErr, context.DeadlineExceeded) {
		t.Fatal("context.DeadlineExceeded lost")
	}
	if !errors.Is(delivery.Redact(context.Canceled), context.Canceled) {
		t.Fatal("context.Canceled lost")
	}
}
