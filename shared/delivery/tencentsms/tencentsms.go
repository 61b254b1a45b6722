// Package tencentsms delivers codes by Tencent Cloud SMS: the SendSms action
// (service sms, version 2021-01-11) called through the official SDK's
// generic client (tencentcloud-sdk-go common.NewCommonClient), which signs
// with TC3-HMAC-SHA256.
//
// Tencent SMS sends pre-approved templates only, so the message text is not
// sent: the request names a TemplateId and passes the code (and, if the
// template has a second parameter, the lifetime in minutes) in
// TemplateParamSet. The per-number result in SendStatusSet decides success:
// Code "Ok" is delivered, anything else is an error.
package tencentsms

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

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/delivery"
)

// API identity.
const (
	Service = "sms"
	Version = "2021-01-11"
	Action  = "SendSms"
	// DefaultEndpoint is Tencent's SMS endpoint.
	DefaultEndpoint = "https://sms.tencentcloudapi.com"
	// DefaultRegion serves mainland and international SMS.
	DefaultRegion = "ap-guangzhou"
)

// Template parameters, in the order the template's {1}, {2}, ... expect.
const (
	ParamCode    = "code"
	ParamMinutes = "minutes"
)

// Config configures the provider. SecretKey must come from the environment
// or a secret reference, never from a file.
type Config struct {
	SecretID   string
	SecretKey  accounts.Secret
	Region     string // default ap-guangzhou
	Endpoint   string // URL; default https://sms.tencentcloudapi.com
	SDKAppID   string // SmsSdkAppId, e.g. "1400000000"
	SignName   string // required by Tencent for mainland China numbers
	TemplateID string // the approved template's id
	// TemplateIDs picks a template per message locale ("en", "zh_CN", ...)
	// when one is configured for it; TemplateID is the fallback.
	TemplateIDs map[string]string
	// TemplateParams lists what fills the template's {1}, {2}, ...: "code"
	// and "minutes". Default ["code"].
	TemplateParams []string
	// HTTPClient provides the transport (its Transport; nil means
	// http.DefaultTransport). The SDK keeps its own *http.Client around it.
	HTTPClient *http.Client
	Timeout    time.Duration // whole request; default 10 s, rounded up to seconds
}

// Sender sends SendSms requests. It is safe for concurrent use.
type Sender struct {
	cfg    Config
	client *common.Client
}

// New validates cfg and returns a sender.
func New(cfg Config) (*Sender, error) {
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if len(cfg.TemplateParams) == 0 {
		cfg.TemplateParams = []string{ParamCode}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	var errs []error
	if cfg.SecretID == "" {
		errs = append(errs, errors.New("secret_id is required"))
	}
	if cfg.SecretKey.IsZero() {
		errs = append(errs, errors.New("secret_key is required"))
	}
	if cfg.SDKAppID == "" {
		errs = append(errs, errors.New("sdk_app_id is required"))
	}
	if cfg.TemplateID == "" {
		errs = append(errs, errors.New("template_id is required"))
	}
	for _, p := range cfg.TemplateParams {
		if p != ParamCode && p != ParamMinutes {
			errs = append(errs, fmt.Errorf("template_params: %q is neither code nor minutes", p))
		}
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("timeout must be positive"))
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		errs = append(errs, errors.New("endpoint must be an http(s) URL without a path, such as https://sms.tencentcloudapi.com"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	cp := profile.NewClientProfile()
	cp.HttpProfile.Endpoint = u.Host
	cp.HttpProfile.Scheme = strings.ToUpper(u.Scheme)
	cp.HttpProfile.ReqMethod = http.MethodPost
	cp.HttpProfile.ReqTimeout = int((cfg.Timeout + time.Second - 1) / time.Second)
	cp.SignMethod = "TC3-HMAC-SHA256"
	cp.Language = "en-US"
	// The region breaker would redirect requests to a backup domain of its
	// own choosing; failover is the router's job.
	cp.DisableRegionBreaker = true
	client := common.NewCommonClient(common.NewCredential(cfg.SecretID, cfg.SecretKey.Reveal()), cfg.Region, cp)
	transport := http.DefaultTransport
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		transport = cfg.HTTPClient.Transport
	}
	client.WithHttpTransport(transport)
	return &Sender{cfg: cfg, client: client}, nil
}

type sendStatus struct {
	SerialNo    string
	PhoneNumber string
	Code        string
	Message     string
}

// Send sends m.Code to m.To (E.164) with the configured template.
func (s *Sender) Send(ctx context.Context, m delivery.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !strings.HasPrefix(m.To, "+") {
		return errors.New("tencentsms: the destination is not an E.164 phone number")
	}
	minutes := strconv.Itoa(int((m.TTL + time.Minute - 1) / time.Minute))
	params := make([]string, 0, len(s.cfg.TemplateParams))
	for _, p := range s.cfg.TemplateParams {
		if p == ParamMinutes {
			params = append(params, minutes)
		} else {
			params = append(params, m.Code)
		}
	}
	body := map[string]any{
		"SmsSdkAppId":      s.cfg.SDKAppID,
		"TemplateId":       s.templateID(m.Locale),
		"TemplateParamSet": params,
		"PhoneNumberSet":   []string{m.To},
	}
	if s.cfg.SignName != "" {
		body["SignName"] = s.cfg.SignName
	}
	req := tchttp.NewCommonRequest(Service, Version, Action)
	req.SetContext(ctx)
	if err := req.SetActionParameters(body); err != nil {
		return s.fail(err, m)
	}
	resp := tchttp.NewCommonResponse()
	if err := s.client.Send(req, resp); err != nil {
		return s.fail(err, m)
	}
	var env struct {
		Response struct {
			SendStatusSet []sendStatus
			RequestID     string `json:"RequestId"`
		}
	}
	if err := json.Unmarshal(resp.GetBody(), &env); err != nil {
		return s.fail(fmt.Errorf("malformed response: %w", err), m)
	}
	for _, st := range env.Response.SendStatusSet {
		if st.PhoneNumber != "" && st.PhoneNumber != m.To {
			continue
		}
		if st.Code == "Ok" {
			return nil
		}
		return s.fail(fmt.Errorf("SendStatusSet Code=%s Message=%s RequestId=%s", st.Code, st.Message, env.Response.RequestID), m)
	}
	return s.fail(fmt.Errorf("no SendStatusSet entry for the destination (RequestId=%s)", env.Response.RequestID), m)
}

func (s *Sender) templateID(locale string) string {
	return delivery.ByLocale(s.cfg.TemplateIDs, locale, s.cfg.TemplateID)
}

// fail wraps err for the caller with the code and the secret removed.
func (s *Sender) fail(err error, m delivery.Message) error {
	return delivery.Redact(fmt.Errorf("tencentsms: %w", err), m.Code, s.cfg.SecretKey.Reveal())
}
