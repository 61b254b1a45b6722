//go:build !verifyfn_providers || provider_aliyun_sms

package setup

import (
	"io"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/aliyunsms"
)

// aliyunSMSProvider builds aliyun_sms (Alibaba Cloud SMS, package aliyunsms).
func aliyunSMSProvider() builder {
	return func(p *parser, where string, n *yaml.Node) (delivery.Sender, io.Closer, bool, error) {
		var sp aliyunSpec
		if !p.decode(where, n, &sp) {
			return nil, nil, false, nil
		}
		s, err := aliyunsms.New(aliyunsms.Config{
			AccessKeyID: sp.AccessKeyID, AccessKeySecret: accounts.NewSecret(sp.AccessKeySecret), Endpoint: sp.Endpoint,
			SignName: sp.SignName, TemplateCode: sp.TemplateCode, TemplateCodes: sp.TemplateCodes,
			CodeParam: sp.CodeParam, MinutesParam: sp.MinutesParam, HTTPClient: p.opt.HTTPClient, Timeout: sp.Timeout,
		})
		if err != nil {
			return nil, nil, true, err
		}
		return s, nil, true, nil
	}
}

// aliyunSpec is aliyun_sms's keys. Fields tagged secret:"true" must be
// references; every string field may be one.
type aliyunSpec struct {
	Type            string            `yaml:"type"`
	AccessKeyID     string            `yaml:"access_key_id"`
	AccessKeySecret string            `yaml:"access_key_secret" secret:"true"`
	Endpoint        string            `yaml:"endpoint"`
	SignName        string            `yaml:"sign_name"`
	TemplateCode    string            `yaml:"template_code"`
	TemplateCodes   map[string]string `yaml:"template_codes"`
	CodeParam       string            `yaml:"code_param"`
	MinutesParam    string            `yaml:"minutes_param"`
	Timeout         time.Duration     `yaml:"timeout"`
}
