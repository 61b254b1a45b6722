package email_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/email"
)

const (
	user     = "mailer@example.com"
	password = "smtp-test-password-0001"
)

// selfSigned returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "verifyfn test smtp"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// received is one message the server accepted.
type received struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	Auth bool
}

type backend struct {
	mu   sync.Mutex
	msgs []received
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) { return &session{b: b, c: c}, nil }

func (b *backend) all() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

type session struct {
	b   *backend
	c   *smtp.Conn
	cur received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, pass string) error {
		if username != user || pass != password {
			return errors.New("invalid credentials")
		}
		s.cur.Auth = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.cur.Auth {
		return smtp.ErrAuthRequired
	}
	_, s.cur.TLS = s.c.TLSConnectionState()
	s.cur.From = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.cur)
	s.b.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = received{Auth: s.cur.Auth} }
func (s *session) Logout() error { return nil }

// startServer runs a go-smtp server on 127.0.0.1:0 with STARTTLS, or with
// implicit TLS when implicit is set. It returns the port.
func startServer(t *testing.T, be *backend, implicit bool) (int, *x509.CertPool) {
	t.Helper()
	cert, pool := selfSigned(t)
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.ErrorLog = log.New(io.Discard, "", 0)
	var ln net.Listener
	var err error
	if implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", srv.TLSConfig)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port, pool
}

func message() delivery.Message {
	m := delivery.Message{Channel: delivery.Email, To: "alice@example.org", Code: "602214", Locale: "en", TTL: 10 * time.Minute, Purpose: "verify-contact"}
	m.Subject, m.Text = delivery.DefaultTemplates().Render(m)
	return m
}

var now = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func newSender(t *testing.T, port int, pool *x509.CertPool, mode, pass string) *email.Sender {
	t.Helper()
	s, err := email.New(email.Config{
		Host: "127.0.0.1", Port: port, TLS: mode, Username: user, Password: accounts.NewSecret(pass),
		From: "Example Verify <verify@example.com>", TLSConfig: &tls.Config{RootCAs: pool},
		Timeout: 5 * time.Second, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkMessage(t *testing.T, got received) {
	t.Helper()
	if got.From != "verify@example.com" || len(got.To) != 1 || got.To[0] != "alice@example.org" {
		t.Fatalf("envelope from %q to %v", got.From, got.To)
	}
	if !got.TLS || !got.Auth {
		t.Fatalf("TLS %v, AUTH %v", got.TLS, got.Auth)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatalf("not a message: %v\n%s", err, got.Data)
	}
	h := msg.Header
	if from, err := mail.ParseAddress(h.Get("From")); err != nil || from.Address != "verify@example.com" || from.Name != "Example Verify" {
		t.Fatalf("From %q", h.Get("From"))
	}
	if to, err := mail.ParseAddress(h.Get("To")); err != nil || to.Address != "alice@example.org" {
		t.Fatalf("To %q", h.Get("To"))
	}
	dec := new(mime.WordDecoder)
	if subj, err := dec.DecodeHeader(h.Get("Subject")); err != nil || subj != "Your verification code" {
		t.Fatalf("Subject %q", h.Get("Subject"))
	}
	if d, err := h.Date(); err != nil || !d.Equal(now) {
		t.Fatalf("Date %q", h.Get("Date"))
	}
	if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") || len(id) < 20 {
		t.Fatalf("Message-ID %q", id)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "text/plain" || !strings.EqualFold(params["charset"], "UTF-8") {
		t.Fatalf("Content-Type %q", h.Get("Content-Type"))
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "Your verification code is 602214.") || !strings.Contains(string(text), "10 minutes") {
		t.Fatalf("body %q does not state the code and its lifetime", text)
	}
}

func TestStartTLS(t *testing.T) {
	be := &backend{}
	port, pool := startServer(t, be, false)
	if err := newSender(t, port, pool, email.StartTLS, password).Send(context.Background(), message()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := be.all()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	checkMessage(t, msgs[0])
}

func TestImplicitTLS(t *testing.T) {
	be := &backend{}
	port, pool := startServer(t, be, true)
	if err := newSender(t, port, pool, email.ImplicitTLS, password).Send(context.Background(), message()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := be.all()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	checkMessage(t, msgs[0])
}

func TestUntrustedCertificate(t *testing.T) {
	be := &backend{}
	port, _ := startServer(t, be, false)
	_, otherPool := selfSigned(t)
	err := newSender(t, port, otherPool, email.StartTLS, password).Send(context.Background(), message())
	if err == nil {
		t.Fatal("sent over TLS to an untrusted server")
	}
	if len(be.all()) != 0 {
		t.Fatal("a message was accepted")
	}
}

func TestWrongPasswordIsRedacted(t *testing.T) {
	be := &backend{}
	port, pool := startServer(t, be, false)
	err := newSender(t, port, pool, email.StartTLS, "not-the-password-42").Send(context.Background(), message())
	if err == nil {
		t.Fatal("sent with a wrong password")
	}
	if strings.Contains(err.Error(), "not-the-password-42") || strings.Contains(err.Error(), "602214") {
		t.Fatalf("the error leaks: %v", err)
	}
}

func TestContextCancelled(t *testing.T) {
	// A server that accepts and never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	_, pool := selfSigned(t)
	// Only the caller's context can end the call: the sender's own
	// timeout is an hour.
	s, err := email.New(email.Config{
		Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, TLS: email.StartTLS, Username: user, Password: accounts.NewSecret(password),
		From: "Example Verify <verify@example.com>", TLSConfig: &tls.Config{RootCAs: pool}, Timeout: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Send(ctx, message()); err == nil || time.Since(start) > 30*time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
}

func TestConfigValidation(t *testing.T) {
	_, err := email.New(email.Config{Host: "", TLS: "none", Username: "u", From: "not an address"})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"host", "tls", "password", "from"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	s, err := email.New(email.Config{Host: "smtp.example.com", From: "a@example.com"})
	if err != nil || s == nil {
		t.Fatalf("minimal config: %v", err)
	}
	if err := s.Send(context.Background(), delivery.Message{To: "Alice <a@example.com>"}); err == nil {
		t.Fatal("a display-name destination was accepted")
	}
}
