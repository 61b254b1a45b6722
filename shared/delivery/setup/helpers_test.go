package setup_test

import (
	"encoding/base64"
	"path/filepath"
	"testing"

	"github.com/verifyfn/verifyfn/shared/config"
)

var (
	whKey    = []byte("setup-test-webhook-key-000000000")
	whSecret = "whsec_" + base64.StdEncoding.EncodeToString(whKey)
)

// environment is a fake environment for env: references.
type environment map[string]string

func (e environment) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

var secrets = environment{
	"TC_KEY":     "tencent-secret-key-value-0001",
	"ALI_SECRET": "aliyun-secret-value-0001",
	"TW_TOKEN":   "0123456789abcdef0123456789abcdef",
	"SMTP_PASS":  "smtp-password-value-0001",
	"WH_SECRET":  whSecret,
}

func baseConfig(t *testing.T) config.Config {
	t.Helper()
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Outbox = filepath.Join(t.TempDir(), "outbox.jsonl")
	return cfg
}

const fullYAML = `
providers:
  tencent:
    type: tencent_sms
    secret_id: AKIDexample000000000000000000000001
    secret_key: env:TC_KEY
    sdk_app_id: 1400000001
    sign_name: ACME
    template_id: "100001"
    template_params: [code, minutes]
    timeout: 5s
  aliyun:
    type: aliyun_sms
    access_key_id: LTAI5texample0001
    access_key_secret: env:ALI_SECRET
    sign_name: ACME
    template_code: SMS_0001
  twilio:
    type: twilio_sms
    account_sid: AC0123456789abcdef0123456789abcdef
    auth_token: env:TW_TOKEN
    from: "+15005550006"
  twilio-voice:
    type: twilio_voice
    account_sid: AC0123456789abcdef0123456789abcdef
    auth_token: env:TW_TOKEN
    from: "+15005550006"
  mail:
    type: smtp
    host: smtp.example.com
    username: verify@example.com
    password: env:SMTP_PASS
    from: "ACME <verify@example.com>"
  hook:
    type: webhook
    url: https://hooks.example.com/verifyfn
    secret: env:WH_SECRET
    max_attempts: 2
routes:
  sms:
    "86": [tencent, aliyun]
    "*": [twilio, hook]
  voice:
    "*": [twilio-voice]
  email:
    "*": [mail, hook]
`
