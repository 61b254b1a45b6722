//go:build !verifyfn_providers || provider_tencent_sms

package setup

import (
	"io"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/tencentsms"
)

// tencentSMSProvider builds tencent_sms (Tencent Cloud SMS, package tencentsms).
func tencentSMSProvider() builder {
	return func(p *parser, where string, n *yaml.Node) (delivery.Sender, io.Closer, bool, error) {
		var sp tencentSpec
		if !p.decode(where, n, &sp) {
			return nil, nil, false, nil
		}
		s, err := tencentsms.New(tencentsms.Config{
			SecretID: sp.SecretID, SecretKey: accounts.NewSecret(sp.SecretKey), Region: sp.Region, Endpoint: sp.Endpoint,
			SDKAppID: sp.SDKAppID, SignName: sp.SignName, TemplateID: sp.TemplateID, TemplateIDs: sp.TemplateIDs,
			TemplateParams: sp.TemplateParams, HTTPClient: p.opt.HTTPClient, Timeout: sp.Timeout,
		})
		if err != nil {
			return nil, nil, true, err
		}
		return s, nil, true, nil
	}
}

// tencentSpec is tencent_sms's keys. Fields tagged secret:"true" must be
// references; every string field may be one.
type tencentSpec struct {
	Type           string            `yaml:"type"`
	SecretID       string            `yaml:"secret_id"`
	SecretKey      string            `yaml:"secret_key" secret:"true"`
	Region         string            `yaml:"region"`
	Endpoint       string            `yaml:"endpoint"`
	SDKAppID       string            `yaml:"sdk_app_id"`
	SignName       string            `yaml:"sign_name"`
	TemplateID     string            `yaml:"template_id"`
	TemplateIDs    map[string]string `yaml:"template_ids"`
	TemplateParams []string          `yaml:"template_params"`
	Timeout        time.Duration     `yaml:"timeout"`
}
