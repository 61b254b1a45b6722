package twilio_test

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/twilio"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	authToken  = "0123456789abcdef0123456789abcdef"
)

type seen struct {
	Path string
	Form url.Values
}

// fakeTwilio is the Twilio REST API (2010-04-01) as documented: HTTP basic
// auth with the account SID and auth token, form-encoded POSTs to
// /2010-04-01/Accounts/{Sid}/Messages.json and .../Calls.json, JSON answers
// with status 201, errors as {"code","message","more_info","status"}.
type fakeTwilio struct {
	mu     sync.Mutex
	reqs   []seen
	status int    // 0 = 201
	body   string // "" = a queued resource
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	user, pass, ok := r.BasicAuth()
	if !ok || user != accountSID || pass != authToken {
		w.WriteHeader(401)
		_, _ = io.WriteString(w, `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		w.WriteHeader(405)
		_, _ = io.WriteString(w, `{"code":20004,"message":"Method not allowed","status":405}`)
		return
	}
	if !strings.HasPrefix(r.Header.Get("User-Agent"), "twilio-go/") {
		w.WriteHeader(400)
		return
	}
	b, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(b))
	f.mu.Lock()
	f.reqs = append(f.reqs, seen{Path: r.URL.Path, Form: form})
	status, body := f.status, f.body
	f.mu.Unlock()
	if status == 0 {
		status = 201
	}
	if body == "" {
		kind := "SM"
		if strings.HasSuffix(r.URL.Path, "/Calls.json") {
			kind = "CA"
		}
		body = `{"sid":"` + kind + `0123456789abcdef0123456789abcdef","account_sid":"` + accountSID + `","status":"queued","to":"` + form.Get("To") + `"}`
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (f *fakeTwilio) last(t *testing.T) seen {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("the fake saw no request")
	}
	return f.reqs[len(f.reqs)-1]
}

func config(t *testing.T, f *fakeTwilio) twilio.Config {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return twilio.Config{
		AccountSID: accountSID, AuthToken: accounts.NewSecret(authToken), From: "+15005550006",
		BaseURL: srv.URL, HTTPClient: srv.Client(),
	}
}

func message(ch delivery.Channel) delivery.Message {
	m := delivery.Message{Channel: ch, To: "+85251234567", Code: "314159", Locale: "en", TTL: 10 * time.Minute}
	m.Subject, m.Text = delivery.DefaultTemplates().Render(m)
	return m
}

func TestSMS(t *testing.T) {
	f := &fakeTwilio{}
	s, err := twilio.NewSMS(config(t, f))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), message(delivery.SMS)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := f.last(t)
	if r.Path != "/2010-04-01/Accounts/"+accountSID+"/Messages.json" {
		t.Fatalf("path %s", r.Path)
	}
	if r.Form.Get("To") != "+85251234567" || r.Form.Get("From") != "+15005550006" || !strings.Contains(r.Form.Get("Body"), "314159") {
		t.Fatalf("form %v", r.Form)
	}
}

func TestSMSMessagingService(t *testing.T) {
	f := &fakeTwilio{}
	cfg := config(t, f)
	cfg.From, cfg.MessagingServiceSID = "", "MG0123456789abcdef0123456789abcdef"
	s, err := twilio.NewSMS(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), message(delivery.SMS)); err != nil {
		t.Fatal(err)
	}
	if r := f.last(t); r.Form.Get("MessagingServiceSid") != cfg.MessagingServiceSID || r.Form.Has("From") {
		t.Fatalf("form %v", r.Form)
	}
}

func TestVoice(t *testing.T) {
	f := &fakeTwilio{}
	cfg := config(t, f)
	cfg.Voices = map[string]string{"zh_CN": "Polly.Zhiyu"}
	s, err := twilio.NewVoice(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := message(delivery.Voice)
	m.Locale = "zh_CN"
	m.Subject, m.Text = delivery.DefaultTemplates().Render(m)
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := f.last(t)
	if r.Path != "/2010-04-01/Accounts/"+accountSID+"/Calls.json" || r.Form.Get("To") != "+85251234567" || r.Form.Get("From") != "+15005550006" {
		t.Fatalf("request %+v", r)
	}
	var doc struct {
		XMLName xml.Name `xml:"Response"`
		Say     []struct {
			Text     string `xml:",chardata"`
			Language string `xml:"language,attr"`
			Voice    string `xml:"voice,attr"`
			Loop     string `xml:"loop,attr"`
		}
	}
	if err := xml.Unmarshal([]byte(r.Form.Get("Twiml")), &doc); err != nil || len(doc.Say) != 1 {
		t.Fatalf("Twiml %q: %v", r.Form.Get("Twiml"), err)
	}
	say := doc.Say[0]
	if !strings.Contains(say.Text, "3 1 4 1 5 9") || say.Language != "zh-CN" || say.Voice != "Polly.Zhiyu" || say.Loop != "2" {
		t.Fatalf("<Say> %+v", say)
	}
}

func TestAPIErrorIsRedacted(t *testing.T) {
	f := &fakeTwilio{status: 400, body: `{"code":21211,"message":"Invalid 'To' Phone Number; body was Your verification code is 314159","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`}
	s, err := twilio.NewSMS(config(t, f))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), message(delivery.SMS))
	if err == nil || !strings.Contains(err.Error(), "21211") {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(err.Error(), "314159") || strings.Contains(err.Error(), authToken) {
		t.Fatalf("the error leaks: %v", err)
	}
}

func TestFailedStatus(t *testing.T) {
	f := &fakeTwilio{body: `{"sid":"SM1","status":"failed","error_code":30006,"error_message":"Landline or unreachable carrier"}`}
	s, err := twilio.NewSMS(config(t, f))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), message(delivery.SMS)); err == nil || !strings.Contains(err.Error(), "30006") {
		t.Fatalf("err %v", err)
	}
}

func TestWrongToken(t *testing.T) {
	f := &fakeTwilio{}
	cfg := config(t, f)
	cfg.AuthToken = accounts.NewSecret("ffffffffffffffffffffffffffffffff")
	s, err := twilio.NewSMS(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), message(delivery.SMS))
	if err == nil || !strings.Contains(err.Error(), "20003") || strings.Contains(err.Error(), "ffffffffffffffff") {
		t.Fatalf("err %v", err)
	}
}

func TestContextCancelled(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	t.Cleanup(func() { close(block); srv.Close() })
	s, err := twilio.NewSMS(twilio.Config{AccountSID: accountSID, AuthToken: accounts.NewSecret(authToken), From: "+15005550006", BaseURL: srv.URL,
		Timeout: time.Hour}) // only the caller's context can end the call
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Send(ctx, message(delivery.SMS)); err == nil || time.Since(start) > 30*time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
}

func TestConfigValidation(t *testing.T) {
	for name, cfg := range map[string]twilio.Config{
		"account sid":  {AccountSID: "XX123", AuthToken: accounts.NewSecret(authToken), From: "+1"},
		"token":        {AccountSID: accountSID, From: "+1"},
		"token chars":  {AccountSID: accountSID, AuthToken: accounts.NewSecret("a:b"), From: "+1"},
		"from":         {AccountSID: accountSID, AuthToken: accounts.NewSecret(authToken)},
		"base url":     {AccountSID: accountSID, AuthToken: accounts.NewSecret(authToken), From: "+1", BaseURL: "api.twilio.com"},
		"service sid":  {AccountSID: accountSID, AuthToken: accounts.NewSecret(authToken), MessagingServiceSID: "XX"},
		"loop too big": {AccountSID: accountSID, AuthToken: accounts.NewSecret(authToken), From: "+1", Loop: 99},
	} {
		if _, err := twilio.NewSMS(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), authToken) {
			t.Errorf("%s: the error quotes the token", name)
		}
	}
	if _, err := twilio.NewVoice(twilio.Config{AccountSID: accountSID, AuthToken: accounts.NewSecret(authToken), MessagingServiceSID: "MG0123456789abcdef"}); err == nil {
		t.Error("voice without a calling number accepted")
	}
}
