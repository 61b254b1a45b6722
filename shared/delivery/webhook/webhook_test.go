package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/webhook"
)

// key is the receiver's copy of the secret's key.
var key = []byte("0123456789abcdef0123456789abcdef")

var secret = "whsec_" + base64.StdEncoding.EncodeToString(key)

// delivery is what the receiver saw of one attempt.
type attempt struct {
	ID, Timestamp, Signature string
	Valid                    bool
	Payload                  webhook.Payload
	ContentType              string
}

// receiver verifies each attempt the way the Standard Webhooks reference
// libraries do, independently of webhook.Verify, and answers with the next
// status of statuses (200 once they are used up).
type receiver struct {
	mu       sync.Mutex
	attempts []attempt
	statuses []int
	delay    time.Duration
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	a := attempt{
		ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
		Signature: req.Header.Get("webhook-signature"), ContentType: req.Header.Get("Content-Type"),
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(a.ID + "." + a.Timestamp + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	ts, err := strconv.ParseInt(a.Timestamp, 10, 64)
	a.Valid = err == nil && hmac.Equal([]byte(a.Signature), []byte(want)) && time.Since(time.Unix(ts, 0)).Abs() < 5*time.Minute
	_ = json.Unmarshal(body, &a.Payload)
	r.mu.Lock()
	r.attempts = append(r.attempts, a)
	status := http.StatusNoContent
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	delay := r.delay
	r.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
		}
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "0")
	}
	w.WriteHeader(status)
}

func (r *receiver) all() []attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]attempt(nil), r.attempts...)
}

func newSender(t *testing.T, r *receiver, edit func(*webhook.Config)) *webhook.Sender {
	t.Helper()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	cfg := webhook.Config{
		URL: srv.URL + "/hooks/verifyfn?token=abc", Secret: accounts.NewSecret(secret),
		Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, HTTPClient: srv.Client(),
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := webhook.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var at = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

func message() delivery.Message {
	m := delivery.Message{
		Channel: delivery.SMS, To: "+85251234567", Code: "161803", Locale: "en", Action: "SendVerifyCode",
		Purpose: "register", Account: "200000000001", At: at, TTL: 10 * time.Minute,
	}
	m.Subject, m.Text = delivery.DefaultTemplates().Render(m)
	return m
}

func TestSignedDelivery(t *testing.T) {
	r := &receiver{}
	if err := newSender(t, r, nil).Send(context.Background(), message()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	as := r.all()
	if len(as) != 1 {
		t.Fatalf("%d attempts", len(as))
	}
	a := as[0]
	if !a.Valid || !strings.HasPrefix(a.ID, "msg_") || a.ContentType != "application/json" {
		t.Fatalf("attempt %+v", a)
	}
	p := a.Payload
	if p.Type != "verification.code" || !p.Timestamp.Equal(at) {
		t.Fatalf("payload %+v", p)
	}
	d := p.Data
	if d.Channel != "sms" || d.To != "+85251234567" || d.Code != "161803" || !strings.Contains(d.Text, "161803") ||
		d.Locale != "en" || d.Action != "SendVerifyCode" || d.Purpose != "register" || d.Account != "200000000001" ||
		d.TTLSeconds != 600 || !d.ExpiresAt.Equal(at.Add(10*time.Minute)) || d.Subject != "" {
		t.Fatalf("data %+v", d)
	}
}

func TestSignAndVerify(t *testing.T) {
	body := []byte(`{"a":1}`)
	sig := webhook.Sign(key, "msg_1", 1700000000, body)
	if !webhook.Verify(key, "msg_1", "1700000000", "v1,bogus "+sig, body) {
		t.Fatal("Verify refused its own signature")
	}
	if webhook.Verify(key, "msg_2", "1700000000", sig, body) || webhook.Verify(key, "msg_1", "1700000001", sig, body) ||
		webhook.Verify(key, "msg_1", "1700000000", sig, []byte(`{"a":2}`)) || webhook.Verify(key, "msg_1", "x", sig, body) {
		t.Fatal("Verify accepted a tampered message")
	}
	// The Standard Webhooks specification's example secret, id, timestamp
	// and payload, with the signature its reference libraries compute.
	specKey, err := webhook.DecodeSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := webhook.Sign(specKey, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("signature %s differs from the specification's example", got)
	}
}

func TestRetryAfter500KeepsID(t *testing.T) {
	r := &receiver{statuses: []int{500, 503}}
	if err := newSender(t, r, nil).Send(context.Background(), message()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	as := r.all()
	if len(as) != 3 {
		t.Fatalf("%d attempts, want 3", len(as))
	}
	for _, a := range as {
		if a.ID != as[0].ID || !a.Valid {
			t.Fatalf("attempts %+v", as)
		}
	}
}

func TestRetryAfter429(t *testing.T) {
	r := &receiver{statuses: []int{429}}
	if err := newSender(t, r, nil).Send(context.Background(), message()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if n := len(r.all()); n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
}

func TestNoRetryAfter4xx(t *testing.T) {
	r := &receiver{statuses: []int{400}}
	err := newSender(t, r, nil).Send(context.Background(), message())
	if err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("err %v", err)
	}
	if n := len(r.all()); n != 1 {
		t.Fatalf("%d attempts, want 1", n)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	r := &receiver{statuses: []int{500, 500, 500, 500}}
	err := newSender(t, r, func(c *webhook.Config) { c.MaxAttempts = 2 }).Send(context.Background(), message())
	if err == nil || !strings.Contains(err.Error(), "attempt 2 of 2") || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("err %v", err)
	}
	if n := len(r.all()); n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
}

func TestAttemptTimeout(t *testing.T) {
	r := &receiver{delay: 2 * time.Second}
	s := newSender(t, r, func(c *webhook.Config) { c.Timeout = 50 * time.Millisecond; c.MaxAttempts = 2 })
	start := time.Now()
	err := s.Send(context.Background(), message())
	if err == nil {
		t.Fatal("no error from a receiver that never answers")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Send took %s despite a 50 ms attempt timeout", d)
	}
	if n := len(r.all()); n != 2 {
		t.Fatalf("%d attempts, want 2 (a timeout is retried)", n)
	}
	// Neither the code, the secret nor the URL's token reaches the error.
	for _, leak := range []string{"161803", secret, "token=abc"} {
		if strings.Contains(err.Error(), leak) {
			t.Fatalf("the error %q quotes %q", err, leak)
		}
	}
}

func TestCallerContextStopsRetries(t *testing.T) {
	r := &receiver{statuses: []int{500, 500, 500}}
	s := newSender(t, r, func(c *webhook.Config) { c.Backoff, c.MaxBackoff, c.MaxAttempts = time.Hour, time.Hour, 5 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Send(ctx, message()); err == nil || time.Since(start) > 30*time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
	if n := len(r.all()); n != 1 {
		t.Fatalf("%d attempts", n)
	}
}

func TestUnreachableIsRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	s, err := webhook.New(webhook.Config{URL: url, Secret: accounts.NewSecret(secret), Backoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), message())
	if err == nil || !strings.Contains(err.Error(), "attempt 3 of 3") {
		t.Fatalf("err %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	for name, cfg := range map[string]webhook.Config{
		"no url":       {Secret: accounts.NewSecret(secret)},
		"bad url":      {URL: "ftp://example.com", Secret: accounts.NewSecret(secret)},
		"creds in url": {URL: "https://u:p@example.com", Secret: accounts.NewSecret(secret)},
		"no prefix":    {URL: "https://example.com", Secret: accounts.NewSecret("c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0")},
		"not base64":   {URL: "https://example.com", Secret: accounts.NewSecret("whsec_!!!not-base64!!!")},
		"short key":    {URL: "https://example.com", Secret: accounts.NewSecret("whsec_" + base64.StdEncoding.EncodeToString([]byte("short")))},
		"attempts":     {URL: "https://example.com", Secret: accounts.NewSecret(secret), MaxAttempts: 11},
	} {
		_, err := webhook.New(cfg)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if s := cfg.Secret.Reveal(); strings.Contains(err.Error(), strings.TrimPrefix(s, "whsec_")) {
			t.Errorf("%s: the error quotes the secret", name)
		}
	}
}
