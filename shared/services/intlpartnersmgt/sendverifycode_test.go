package intlpartnersmgt_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
	"github.com/verifyfn/verifyfn/shared/store"
)

const (
	service = intlpartnersmgt.Name
	version = intlpartnersmgt.Version
)

// sdkCode returns the Code of a TencentCloudSDKError, "" for nil, and fails
// the test for any other error.
func sdkCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *tcerr.TencentCloudSDKError
	if !errors.As(err, &e) {
		t.Fatalf("not an SDK API error: %v", err)
	}
	if e.RequestId == "" {
		t.Fatalf("SDK error without RequestId: %v", e)
	}
	return e.Code
}

func sendCode(c *tcclient.Client, params map[string]any) error {
	_, err := c.Call(service, version, "SendVerifyCode", params)
	return err
}

func TestSendVerifyCodeSuccess(t *testing.T) {
	s := apitest.Start(t)
	c := s.Tencent(tcclient.Options{Language: "en-US"})
	resp, err := c.Call(service, version, "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234567"})
	if err != nil {
		t.Fatalf("SendVerifyCode: %v", err)
	}
	if !strings.Contains(string(resp), `"RequestId"`) {
		t.Fatalf("response %s has no RequestId", resp)
	}
	msgs := s.Messages(t)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Channel != "sms" || m.To != "+85251234567" || m.Action != "SendVerifyCode" || m.Account != accounts.DevAccountID || m.Purpose == "" {
		t.Fatalf("message %+v", m)
	}
	if len(m.Code) != 6 || strings.Trim(m.Code, "0123456789") != "" {
		t.Fatalf("code %q is not 6 digits", m.Code)
	}
	if !strings.Contains(m.Text, m.Code) || !strings.Contains(m.Text, "10 minutes") {
		t.Fatalf("text %q does not state the code and its lifetime", m.Text)
	}
	if m.At.IsZero() {
		t.Fatal("message without time")
	}
}

func TestSendVerifyCodeChineseText(t *testing.T) {
	s := apitest.Start(t)
	c := s.Tencent(tcclient.Options{Language: "zh-CN"})
	if err := sendCode(c, map[string]any{"CountryCode": "+852", "PhoneNum": "51234567"}); err != nil {
		t.Fatal(err)
	}
	m := s.Messages(t)[0]
	if !strings.Contains(m.Text, "验证码") || !strings.Contains(m.Text, "10分钟") {
		t.Fatalf("zh-CN text %q", m.Text)
	}
}

func TestSendVerifyCodeDocumentedErrors(t *testing.T) {
	cases := []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"missing CountryCode", map[string]any{"PhoneNum": "51234567"}, "InvalidParameterValue"},
		{"missing PhoneNum", map[string]any{"CountryCode": "852"}, "InvalidParameterValue"},
		{"empty PhoneNum", map[string]any{"CountryCode": "852", "PhoneNum": ""}, "InvalidParameterValue"},
		{"letters in CountryCode", map[string]any{"CountryCode": "abc", "PhoneNum": "51234567"}, "InvalidParameterValue"},
		{"unknown CountryCode", map[string]any{"CountryCode": "999", "PhoneNum": "51234567"}, "InvalidParameterValue"},
		{"too short PhoneNum", map[string]any{"CountryCode": "852", "PhoneNum": "12"}, "InvalidParameterValue"},
		{"33 digits", map[string]any{"CountryCode": "852", "PhoneNum": strings.Repeat("5", 33)}, "InvalidParameterValue"},
		{"letters in PhoneNum", map[string]any{"CountryCode": "852", "PhoneNum": "5123abcd"}, "InvalidParameterValue"},
		{"Russia", map[string]any{"CountryCode": "7", "PhoneNum": "9123456789"}, "InvalidParameterValue.UnSupportArea"},
		{"Ukraine", map[string]any{"CountryCode": "380", "PhoneNum": "501234567"}, "InvalidParameterValue.UnSupportArea"},
		{"China", map[string]any{"CountryCode": "86", "PhoneNum": "13800138000"}, "InvalidParameterValue.UnSupportArea"},
		{"China with plus", map[string]any{"CountryCode": "+86", "PhoneNum": "13800138000"}, "InvalidParameterValue.UnSupportArea"},
		{"CountryCode as a number", map[string]any{"CountryCode": 852, "PhoneNum": "51234567"}, "InvalidParameterValue"},
		{"undefined parameter", map[string]any{"CountryCode": "852", "PhoneNum": "51234567", "Extra": "x"}, "UnknownParameter"},
	}
	s := apitest.Start(t)
	c := s.Tencent(tcclient.Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := sdkCode(t, sendCode(c, tc.params)); got != tc.want {
				t.Fatalf("code = %q, want %q", got, tc.want)
			}
		})
	}
	if n := len(s.Messages(t)); n != 0 {
		t.Fatalf("%d messages sent for invalid requests", n)
	}
}

func TestSendVerifyCodeLimits(t *testing.T) {
	s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) {
		c.Cooldown = 60 * time.Second
		c.Windows = []store.Window{{Period: time.Hour, Max: 3}}
	}))
	c := s.Tencent(tcclient.Options{})
	p := map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}
	if err := sendCode(c, p); err != nil {
		t.Fatal(err)
	}
	if got := sdkCode(t, sendCode(c, p)); got != "FailedOperation.SendVerifyCodeLimit60" {
		t.Fatalf("second send within 60 s: %q", got)
	}
	s.Clock.Advance(61 * time.Second)
	if err := sendCode(c, p); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(61 * time.Second)
	if err := sendCode(c, p); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(61 * time.Second)
	if got := sdkCode(t, sendCode(c, p)); got != "FailedOperation.SendVerifyCodeLimit" {
		t.Fatalf("fourth send in the hour: %q", got)
	}
	if n := len(s.Messages(t)); n != 3 {
		t.Fatalf("%d messages, want 3", n)
	}
}

func TestSendVerifyCodePhoneBindUpper(t *testing.T) {
	s := apitest.Start(t)
	for range 5 {
		s.App.Store.Apply(context.Background(), []store.Op{{Kind: store.Incr, Coll: intlpartnersmgt.BoundColl(accounts.DevAccountID), Key: "+85251234567"}})
	}
	c := s.Tencent(tcclient.Options{})
	if got := sdkCode(t, sendCode(c, map[string]any{"CountryCode": "852", "PhoneNum": "5123 4567"})); got != "FailedOperation.PhoneBindUpper" {
		t.Fatalf("code = %q, want FailedOperation.PhoneBindUpper", got)
	}
	if err := sendCode(c, map[string]any{"CountryCode": "852", "PhoneNum": "51234568"}); err != nil {
		t.Fatalf("another number: %v", err)
	}
}

func TestSendVerifyCodeRequestLimit(t *testing.T) {
	s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) { c.RateLimit = 5 }))
	c := s.Tencent(tcclient.Options{})
	numbers := []string{"51234560", "51234561", "51234562", "51234563", "51234564", "51234565"}
	for i, n := range numbers {
		got := sdkCode(t, sendCode(c, map[string]any{"CountryCode": "852", "PhoneNum": n}))
		want := ""
		if i == 5 {
			want = "RequestLimitExceeded"
		}
		if got != want {
			t.Fatalf("request %d: code %q, want %q", i+1, got, want)
		}
	}
	s.Clock.Advance(time.Second)
	if err := sendCode(c, map[string]any{"CountryCode": "852", "PhoneNum": "51234566"}); err != nil {
		t.Fatalf("after a second: %v", err)
	}
}

func TestSpellingsShareOneCooldown(t *testing.T) {
	s := apitest.Start(t)
	c := s.Tencent(tcclient.Options{})
	spellings := []map[string]any{
		{"CountryCode": "852", "PhoneNum": "51234567"},
		{"CountryCode": "+852", "PhoneNum": "5123 4567"},
		{"CountryCode": "852", "PhoneNum": "5123-4567"},
		{"CountryCode": "852", "PhoneNum": "+852 5123 4567"},
		{"CountryCode": "852", "PhoneNum": "00852 51234567"},
		{"CountryCode": "852", "PhoneNum": "(5123) 4567"},
		{"CountryCode": "852", "PhoneNum": "５１２３４５６７"},
		{"CountryCode": " 852 ", "PhoneNum": " 51234567 "},
		{"CountryCode": "+852", "PhoneNum": "5123.4567"},
	}
	if err := sendCode(c, spellings[0]); err != nil {
		t.Fatal(err)
	}
	for _, p := range spellings[1:] {
		if got := sdkCode(t, sendCode(c, p)); got != "FailedOperation.SendVerifyCodeLimit60" {
			t.Errorf("%v: code %q, want the shared cooldown", p, got)
		}
	}
}

func TestConcurrentSendVerifyCode(t *testing.T) {
	s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) { c.RateLimit = 1000 }))
	c := s.Tencent(tcclient.Options{})
	var ok, limited atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			switch err := sendCode(c, map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}); {
			case err == nil:
				ok.Add(1)
			case sdkCode(t, err) == "FailedOperation.SendVerifyCodeLimit60":
				limited.Add(1)
			default:
				t.Errorf("unexpected: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || limited.Load() != 99 {
		t.Fatalf("ok=%d limited=%d, want 1 and 99", ok.Load(), limited.Load())
	}
	if n := len(s.Messages(t)); n != 1 {
		t.Fatalf("%d messages in the outbox, want 1", n)
	}
}
