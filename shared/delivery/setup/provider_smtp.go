//go:build !verifyfn_providers || provider_smtp

package setup

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/email"
)

// smtpProvider builds smtp (email through an SMTP server, package email).
func smtpProvider() builder {
	return func(p *parser, where string, n *yaml.Node) (delivery.Sender, io.Closer, bool, error) {
		var sp smtpSpec
		if !p.decode(where, n, &sp) {
			return nil, nil, false, nil
		}
		var tc *tls.Config
		if sp.CAFile != "" {
			pem, rerr := p.opt.ReadFile(sp.CAFile)
			pool := x509.NewCertPool()
			if rerr != nil || !pool.AppendCertsFromPEM(pem) {
				p.fail(value(n, "ca_file"), "%s.ca_file: cannot read PEM certificates from it", where)
				return nil, nil, false, nil
			}
			tc = &tls.Config{RootCAs: pool}
		}
		s, err := email.New(email.Config{
			Host: sp.Host, Port: sp.Port, TLS: sp.TLS, Username: sp.Username, Password: accounts.NewSecret(sp.Password), Auth: sp.Auth,
			From: sp.From, TLSConfig: tc, Timeout: sp.Timeout, Now: p.opt.Now,
		})
		if err != nil {
			return nil, nil, true, err
		}
		return s, nil, true, nil
	}
}

// smtpSpec is smtp's keys. Fields tagged secret:"true" must be references;
// every string field may be one.
type smtpSpec struct {
	Type     string        `yaml:"type"`
	Host     string        `yaml:"host"`
	Port     int           `yaml:"port"`
	TLS      string        `yaml:"tls"`
	Username string        `yaml:"username"`
	Password string        `yaml:"password" secret:"true"`
	Auth     string        `yaml:"auth"`
	From     string        `yaml:"from"`
	CAFile   string        `yaml:"ca_file"`
	Timeout  time.Duration `yaml:"timeout"`
}
