// Package email delivers codes by email over SMTP with
// github.com/wneessen/go-mail: a text/plain UTF-8 message with the rendered
// subject and text, sent over STARTTLS (mandatory, port 587 by default) or
// implicit TLS (port 465 by default), with SMTP AUTH (PLAIN by default)
// when a username is set. Plain-text SMTP is not offered. The caller's
// context bounds the whole exchange: the connection is closed when it ends.
package email

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery"
)

// TLS modes.
const (
	StartTLS    = "starttls" // connect in clear text, then STARTTLS (required)
	ImplicitTLS = "tls"      // TLS from the first byte (SMTPS)
)

// Config configures the SMTP sender. Password must come from the environment
// or a secret reference, never from a file.
type Config struct {
	Host     string
	Port     int    // default 587 for starttls, 465 for tls
	TLS      string // "starttls" (default) or "tls"
	Username string // SMTP AUTH user; empty sends without AUTH
	Password accounts.Secret
	// Auth is the SMTP AUTH mechanism: "plain" (default), "login",
	// "cram-md5" or "scram-sha-256". Credentials only travel over TLS.
	Auth string
	From string // "Name <verify@example.com>" or a bare address
	// TLSConfig verifies the server (RootCAs, ServerName); nil uses the
	// system roots and Host. MinVersion is raised to TLS 1.2.
	TLSConfig *tls.Config
	Timeout   time.Duration    // connection and each command; default 15 s
	Now       func() time.Time // Date header; default time.Now
}

// Sender sends one message per SMTP connection. It is safe for concurrent
// use.
type Sender struct {
	cfg    Config
	from   *mail.Address
	domain string
	tls    *tls.Config
}

// New validates cfg and returns a sender.
func New(cfg Config) (*Sender, error) {
	if cfg.TLS == "" {
		cfg.TLS = StartTLS
	}
	if cfg.Port == 0 {
		cfg.Port = gomail.DefaultPortTLS
		if cfg.TLS == ImplicitTLS {
			cfg.Port = gomail.DefaultPortSSL
		}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Auth == "" {
		cfg.Auth = "plain"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var errs []error
	if cfg.Host == "" || strings.ContainsAny(cfg.Host, " /@") {
		errs = append(errs, errors.New("host must be a host name or address"))
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		errs = append(errs, errors.New("port must be 1 to 65535"))
	}
	if cfg.TLS != StartTLS && cfg.TLS != ImplicitTLS {
		errs = append(errs, errors.New(`tls must be "starttls" or "tls"`))
	}
	if _, ok := authTypes[cfg.Auth]; !ok {
		errs = append(errs, errors.New(`auth must be "plain", "login", "cram-md5" or "scram-sha-256"`))
	}
	if cfg.Username != "" && cfg.Password.IsZero() {
		errs = append(errs, errors.New("password is required with a username"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("timeout must be positive"))
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		errs = append(errs, errors.New("from must be an address such as \"Example <verify@example.com>\""))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	tc := &tls.Config{}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	tc.MinVersion = max(tc.MinVersion, tls.VersionTLS12)
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	return &Sender{cfg: cfg, from: from, domain: domain, tls: tc}, nil
}

// Send mails m.Subject and m.Text to m.To.
func (s *Sender) Send(ctx context.Context, m delivery.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil || to.Name != "" {
		return errors.New("email: the destination is not an email address")
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(s.from.Name, s.from.Address); err != nil {
		return s.fail(err, m)
	}
	if err := msg.To(to.Address); err != nil {
		return s.fail(err, m)
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(s.cfg.Now())
	id, err := messageID(s.domain)
	if err != nil {
		return s.fail(err, m)
	}
	msg.SetMessageIDWithValue(id)
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)

	d := &dialer{ctx: ctx, tls: s.tls, implicit: s.cfg.TLS == ImplicitTLS}
	defer d.stop()
	opts := []gomail.Option{
		gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithTLSConfig(s.tls),
		gomail.WithDialContextFunc(d.dial),
	}
	if d.implicit {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	opts = append(opts, gomail.WithPort(s.cfg.Port))
	if s.cfg.Username != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(authTypes[s.cfg.Auth]),
			gomail.WithUsername(s.cfg.Username),
			gomail.WithPassword(s.cfg.Password.Reveal()))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return s.fail(err, m)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return s.fail(err, m)
	}
	return nil
}

var authTypes = map[string]gomail.SMTPAuthType{
	"plain":         gomail.SMTPAuthPlain,
	"login":         gomail.SMTPAuthLogin,
	"cram-md5":      gomail.SMTPAuthCramMD5,
	"scram-sha-256": gomail.SMTPAuthSCRAMSHA256,
}

// dialer connects (with TLS from the start in implicit mode) and closes the
// connection when ctx, the caller's context, ends: go-mail itself only
// honours a context while dialing.
type dialer struct {
	ctx      context.Context
	tls      *tls.Config
	implicit bool
	mu       sync.Mutex
	stops    []func() bool
}

func (d *dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := &net.Dialer{}
	var conn net.Conn
	var err error
	if d.implicit {
		conn, err = (&tls.Dialer{NetDialer: nd, Config: d.tls}).DialContext(ctx, network, addr)
	} else {
		conn, err = nd.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(d.ctx, func() { _ = conn.Close() })
	d.mu.Lock()
	d.stops = append(d.stops, stop)
	d.mu.Unlock()
	return conn, nil
}

func (d *dialer) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.stops {
		s()
	}
}

// messageID returns "<32 hex digits@domain>".
func messageID(domain string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]) + "@" + domain, nil
}

// fail wraps err for the caller with the code and the password removed.
func (s *Sender) fail(err error, m delivery.Message) error {
	return delivery.Redact(fmt.Errorf("email: %w", err), m.Code, s.cfg.Password.Reveal())
}
