// Package webhook delivers codes by POSTing a JSON message to a configured
// URL, signed the Standard Webhooks way (https://www.standardwebhooks.com):
//
//	webhook-id:        msg_<random>, the same on every retry of one message
//	webhook-timestamp: Unix seconds of the attempt
//	webhook-signature: v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>
//
// where key is the base64 part of the "whsec_..." secret. Each attempt has a
// bounded timeout; network errors, 5xx and 429 answers are retried with
// exponential backoff (a Retry-After of at most MaxBackoff is honoured), any
// other non-2xx answer fails at once. Redirects count as failures.
//
// The body is
//
//	{"type":"verification.code","timestamp":"<RFC 3339>","data":{
//	  "channel":"sms","to":"+85251234567","code":"123456","text":"...",
//	  "subject":"...","locale":"en","action":"SendVerifyCode",
//	  "purpose":"register","account":"200000000001",
//	  "ttl_seconds":600,"expires_at":"<RFC 3339>"}}
//
// (subject only for email).
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery"
)

// EventType is the "type" of every message.
const EventType = "verification.code"

// SecretPrefix starts every webhook secret.
const SecretPrefix = "whsec_"

// Config configures the webhook. Secret must come from the environment or a
// secret reference, never from a file.
type Config struct {
	URL         string
	Secret      accounts.Secret // "whsec_" + base64 of 24 to 64 random bytes
	Timeout     time.Duration   // per attempt; default 5 s
	MaxAttempts int             // default 3, at most 10
	Backoff     time.Duration   // delay before the first retry, doubled each time; default 1 s
	MaxBackoff  time.Duration   // cap of the delay; default 10 s
	HTTPClient  *http.Client    // default: a client of its own
	Now         func() time.Time
}

// Sender posts messages. It is safe for concurrent use.
type Sender struct {
	cfg Config
	key []byte
}

// New validates cfg and returns a sender.
func New(cfg Config) (*Sender, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Second
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var errs []error
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		errs = append(errs, errors.New("url must be an http(s) URL without credentials"))
	}
	key, err := DecodeSecret(cfg.Secret.Reveal())
	if err != nil {
		errs = append(errs, err)
	}
	if cfg.Timeout < 0 || cfg.Backoff < 0 || cfg.MaxBackoff < cfg.Backoff {
		errs = append(errs, errors.New("timeout and backoff must be positive, max_backoff at least backoff"))
	}
	if cfg.MaxAttempts < 1 || cfg.MaxAttempts > 10 {
		errs = append(errs, errors.New("max_attempts must be 1 to 10"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Sender{cfg: cfg, key: key}, nil
}

// DecodeSecret returns the key of a "whsec_<base64>" secret. Its errors never
// quote the secret.
func DecodeSecret(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, errors.New(`secret must start with "whsec_"`)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New(`secret: the part after "whsec_" is not standard base64`)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, errors.New("secret: the key must be 24 to 64 bytes")
	}
	return key, nil
}

// Sign returns the webhook-signature value "v1,<base64>" of body.
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify checks a webhook-signature header (which may list several
// space-separated signatures) against body in constant time, as a receiver
// does.
func Verify(key []byte, id, timestamp, signatures string, body []byte) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	want := []byte(Sign(key, id, ts, body))
	ok := false
	for _, sig := range strings.Fields(signatures) {
		if hmac.Equal([]byte(sig), want) {
			ok = true
		}
	}
	return ok
}

// Payload is the JSON body.
type Payload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      Data      `json:"data"`
}

// Data is the message inside a Payload.
type Data struct {
	Channel    string    `json:"channel"`
	To         string    `json:"to"`
	Code       string    `json:"code"`
	Text       string    `json:"text"`
	Subject    string    `json:"subject,omitempty"`
	Locale     string    `json:"locale,omitempty"`
	Action     string    `json:"action,omitempty"`
	Purpose    string    `json:"purpose,omitempty"`
	Account    string    `json:"account,omitempty"`
	TTLSeconds int64     `json:"ttl_seconds"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// Send posts m, retrying as described in the package documentation.
func (s *Sender) Send(ctx context.Context, m delivery.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	at := m.At
	if at.IsZero() {
		at = s.cfg.Now()
	}
	body, err := json.Marshal(Payload{Type: EventType, Timestamp: at.UTC(), Data: Data{
		Channel: string(m.Channel), To: m.To, Code: m.Code, Text: m.Text, Subject: m.Subject,
		Locale: m.Locale, Action: m.Action, Purpose: m.Purpose, Account: m.Account,
		TTLSeconds: int64(m.TTL / time.Second), ExpiresAt: at.Add(m.TTL).UTC(),
	}})
	if err != nil {
		return s.fail(err, m)
	}
	id, err := newID()
	if err != nil {
		return s.fail(err, m)
	}
	delay := s.cfg.Backoff
	for attempt := 1; ; attempt++ {
		retry, wait, err := s.post(ctx, id, body)
		if err == nil {
			return nil
		}
		if !retry || attempt >= s.cfg.MaxAttempts || ctx.Err() != nil {
			return s.fail(fmt.Errorf("attempt %d of %d: %w", attempt, s.cfg.MaxAttempts, err), m)
		}
		if wait <= 0 || wait > s.cfg.MaxBackoff {
			wait = delay
		}
		delay = min(2*delay, s.cfg.MaxBackoff)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return s.fail(fmt.Errorf("attempt %d of %d: %w (then %w)", attempt, s.cfg.MaxAttempts, err, ctx.Err()), m)
		case <-t.C:
		}
	}
}

// post makes one attempt. It reports whether a failure may be retried and
// the delay a Retry-After header asked for.
func (s *Sender) post(ctx context.Context, id string, body []byte) (retry bool, wait time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return false, 0, err
	}
	ts := s.cfg.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "verifyfn-webhook/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Sign(s.key, id, ts, body))
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		// A network error or this attempt's timeout: retry (the caller stops
		// when its own context has ended).
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = fmt.Errorf("%s: %w", uerr.Op, uerr.Err) // without the URL, which may hold a token
		}
		return true, 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs >= 0 {
			wait = time.Duration(secs) * time.Second
		}
		return true, wait, fmt.Errorf("HTTP %d", resp.StatusCode)
	default:
		return false, 0, fmt.Errorf("HTTP %d (not retried)", resp.StatusCode)
	}
}

func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "msg_" + hex.EncodeToString(b[:]), nil
}

// fail wraps err for the caller with the code and the secret removed.
func (s *Sender) fail(err error, m delivery.Message) error {
	return delivery.Redact(fmt.Errorf("webhook: %w", err), m.Code, s.cfg.Secret.Reveal())
}
