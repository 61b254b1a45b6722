//go:build !verifyfn_providers || provider_webhook

package setup

import (
	"io"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/webhook"
)

// webhookProvider builds webhook (signed HTTPS POSTs, package webhook).
func webhookProvider() builder {
	return func(p *parser, where string, n *yaml.Node) (delivery.Sender, io.Closer, bool, error) {
		var sp webhookSpec
		if !p.decode(where, n, &sp) {
			return nil, nil, false, nil
		}
		s, err := webhook.New(webhook.Config{
			URL: sp.URL, Secret: accounts.NewSecret(sp.Secret), Timeout: sp.Timeout, MaxAttempts: sp.MaxAttempts,
			Backoff: sp.Backoff, MaxBackoff: sp.MaxBackoff, HTTPClient: p.opt.HTTPClient, Now: p.opt.Now,
		})
		if err != nil {
			return nil, nil, true, err
		}
		return s, nil, true, nil
	}
}

// webhookSpec is webhook's keys. Fields tagged secret:"true" must be
// references; every string field may be one.
type webhookSpec struct {
	Type        string        `yaml:"type"`
	URL         string        `yaml:"url"`
	Secret      string        `yaml:"secret" secret:"true"`
	Timeout     time.Duration `yaml:"timeout"`
	MaxAttempts int           `yaml:"max_attempts"`
	Backoff     time.Duration `yaml:"backoff"`
	MaxBackoff  time.Duration `yaml:"max_backoff"`
}
