// Package aliyunsms delivers codes by Alibaba Cloud SMS: the dysmsapi
// SendSms action (version 2017-05-25, RPC style) called through the official
// generic client, darabonba-openapi/v2 CallApi, which signs with
// ACS3-HMAC-SHA256.
//
// Alibaba SMS sends pre-approved templates only: the request names a
// TemplateCode and passes the code (and optionally the lifetime in minutes)
// in the TemplateParam JSON object. The parameters travel in a form body
// rather than the query string, which Alibaba accepts for RPC actions, so
// the code never appears in a URL. The answer's Code "OK" is delivered;
// anything else is an error.
package aliyunsms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery"
)

// API identity.
const (
	Action  = "SendSms"
	Version = "2017-05-25"
	// DefaultEndpoint is Alibaba's SMS endpoint.
	DefaultEndpoint = "https://dysmsapi.aliyuncs.com"
)

// Config configures the provider. AccessKeySecret must come from the
// environment or a secret reference, never from a file.
type Config struct {
	AccessKeyID     string
	AccessKeySecret accounts.Secret
	Endpoint        string // URL; default https://dysmsapi.aliyuncs.com
	SignName        string
	TemplateCode    string // e.g. SMS_123456789
	// TemplateCodes picks a template per message locale ("en", "zh_CN",
	// ...) when one is configured for it; TemplateCode is the fallback.
	TemplateCodes map[string]string
	CodeParam     string // the template variable of the code; default "code"
	MinutesParam  string // the template variable of the lifetime in minutes; default none
	HTTPClient    *http.Client
	Timeout       time.Duration // whole request; default 10 s
}

// Sender sends SendSms requests. It is safe for concurrent use.
type Sender struct {
	cfg    Config
	client *openapi.Client
}

// New validates cfg and returns a sender.
func New(cfg Config) (*Sender, error) {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if cfg.CodeParam == "" {
		cfg.CodeParam = "code"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	var errs []error
	if cfg.AccessKeyID == "" {
		errs = append(errs, errors.New("access_key_id is required"))
	}
	if cfg.AccessKeySecret.IsZero() {
		errs = append(errs, errors.New("access_key_secret is required"))
	}
	if cfg.SignName == "" {
		errs = append(errs, errors.New("sign_name is required"))
	}
	if cfg.TemplateCode == "" {
		errs = append(errs, errors.New("template_code is required"))
	}
	if cfg.CodeParam == cfg.MinutesParam {
		errs = append(errs, errors.New("code_param and minutes_param must differ"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("timeout must be positive"))
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		errs = append(errs, errors.New("endpoint must be an http(s) URL without a path, such as https://dysmsapi.aliyuncs.com"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	client, err := openapi.NewClient(&openapi.Config{
		AccessKeyId:     dara.String(cfg.AccessKeyID),
		AccessKeySecret: dara.String(cfg.AccessKeySecret.Reveal()),
		Endpoint:        dara.String(u.Host),
		Protocol:        dara.String(u.Scheme),
		HttpClient:      doer{cfg.HTTPClient},
	})
	if err != nil {
		return nil, delivery.Redact(fmt.Errorf("aliyunsms: %w", err), cfg.AccessKeySecret.Reveal())
	}
	return &Sender{cfg: cfg, client: client}, nil
}

// doer makes darabonba use the injected *http.Client.
type doer struct{ c *http.Client }

func (d doer) Call(req *http.Request, _ *http.Transport) (*http.Response, error) { return d.c.Do(req) }

// Send sends m.Code to m.To (E.164) with the configured template.
func (s *Sender) Send(ctx context.Context, m delivery.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !strings.HasPrefix(m.To, "+") {
		return errors.New("aliyunsms: the destination is not an E.164 phone number")
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	vars := map[string]string{s.cfg.CodeParam: m.Code}
	if s.cfg.MinutesParam != "" {
		vars[s.cfg.MinutesParam] = strconv.Itoa(int((m.TTL + time.Minute - 1) / time.Minute))
	}
	tp, err := json.Marshal(vars)
	if err != nil {
		return s.fail(err, m)
	}
	params := &openapi.Params{
		Action:      dara.String(Action),
		Version:     dara.String(Version),
		Protocol:    dara.String("HTTPS"),
		Pathname:    dara.String("/"),
		Method:      dara.String(http.MethodPost),
		AuthType:    dara.String("AK"),
		Style:       dara.String("RPC"),
		ReqBodyType: dara.String("formData"),
		BodyType:    dara.String("json"),
	}
	req := &openapi.OpenApiRequest{Body: map[string]any{
		// Alibaba takes international numbers as country code + number
		// without "+", and mainland numbers with or without 86.
		"PhoneNumbers":  strings.TrimPrefix(m.To, "+"),
		"SignName":      s.cfg.SignName,
		"TemplateCode":  s.templateCode(m.Locale),
		"TemplateParam": string(tp),
	}}
	res, err := s.client.CallApiWithCtx(ctx, params, req, &dara.RuntimeOptions{})
	if err != nil {
		return s.fail(err, m)
	}
	body, _ := res["body"].(map[string]any)
	code, _ := body["Code"].(string)
	if code == "OK" {
		return nil
	}
	msg, _ := body["Message"].(string)
	rid, _ := body["RequestId"].(string)
	return s.fail(fmt.Errorf("Code=%s Message=%s RequestId=%s", code, msg, rid), m)
}

func (s *Sender) templateCode(locale string) string {
	return delivery.ByLocale(s.cfg.TemplateCodes, locale, s.cfg.TemplateCode)
}

// fail wraps err for the caller with the code and the secret removed.
func (s *Sender) fail(err error, m delivery.Message) error {
	return delivery.Redact(fmt.Errorf("aliyunsms: %w", err), m.Code, s.cfg.AccessKeySecret.Reveal())
}
