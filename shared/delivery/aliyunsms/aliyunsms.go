// Package aliyunsms delivers codes by Alibaba Cloud SMS: the dysmsapi
// SendSms action (version 2017-05-25, RPC style), sent as darabonba-openapi/v2
// CallApi sends it (a POST to / with the parameters in a form body, the
// x-acs-* headers) and signed with ACS3-HMAC-SHA256 by package acsauth, whose
// signatures are checked against the official SDKs' in its tests. It does not
// link the SDK itself: darabonba's JSON library (json-iterator, through
// modern-go/reflect2) calls reflect's MethodByName with computed names, which
// stops the linker from dropping unused methods anywhere in the binary, and
// so made every function that links this provider 10 MB larger.
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
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/acsauth"
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
	cfg      Config
	endpoint string // scheme://host
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
	return &Sender{cfg: cfg, endpoint: u.Scheme + "://" + u.Host}, nil
}

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 64 << 10

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
	form := url.Values{
		// Alibaba takes international numbers as country code + number
		// without "+", and mainland numbers with or without 86.
		"PhoneNumbers":  {strings.TrimPrefix(m.To, "+")},
		"SignName":      {s.cfg.SignName},
		"TemplateCode":  {s.templateCode(m.Locale)},
		"TemplateParam": {string(tp)},
	}
	req, err := acsauth.ACS3Request{
		Endpoint: s.endpoint, Action: Action, Version: Version,
		Body: []byte(form.Encode()), ContentType: "application/x-www-form-urlencoded",
		AccessKeyID: s.cfg.AccessKeyID, Secret: []byte(s.cfg.AccessKeySecret.Reveal()),
	}.HTTPRequest(ctx)
	if err != nil {
		return s.fail(err, m)
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return s.fail(err, m)
	}
	defer resp.Body.Close()
	var answer struct{ Code, Message, RequestId string }
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return s.fail(fmt.Errorf("HTTP %d: reading the answer: %w", resp.StatusCode, err), m)
	}
	if err := json.Unmarshal(data, &answer); err != nil {
		return s.fail(fmt.Errorf("HTTP %d: the answer is not a JSON object", resp.StatusCode), m)
	}
	if resp.StatusCode == http.StatusOK && answer.Code == "OK" {
		return nil
	}
	return s.fail(fmt.Errorf("HTTP %d Code=%s Message=%s RequestId=%s", resp.StatusCode, answer.Code, answer.Message, answer.RequestId), m)
}

func (s *Sender) templateCode(locale string) string {
	return delivery.ByLocale(s.cfg.TemplateCodes, locale, s.cfg.TemplateCode)
}

// fail wraps err for the caller with the code and the secret removed.
func (s *Sender) fail(err error, m delivery.Message) error {
	return delivery.Redact(fmt.Errorf("aliyunsms: %w", err), m.Code, s.cfg.AccessKeySecret.Reveal())
}
