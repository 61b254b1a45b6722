package invoke_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/invoke"
	"github.com/verifyfn/verifyfn/shared/runtime/awslambda"
	"github.com/verifyfn/verifyfn/shared/runtime/scf"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

func request(now time.Time) invoke.Request {
	return invoke.Request{
		Service: "intlpartnersmgt", Version: "2022-09-28", Action: "SendVerifyCode",
		Params:   map[string]any{"CountryCode": "852", "PhoneNum": "51234567"},
		SecretID: accounts.DevSecretID, SecretKey: accounts.DevSecretKey,
		Path: "/sendverify", Language: "en-US", Now: func() time.Time { return now },
	}
}

func envelopeCode(t *testing.T, body string) string {
	t.Helper()
	var env struct {
		Response struct {
			Error     *struct{ Code string }
			RequestID string `json:"RequestId"`
		}
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil || env.Response.RequestID == "" {
		t.Fatalf("body %q: %v", body, err)
	}
	if env.Response.Error == nil {
		return ""
	}
	return env.Response.Error.Code
}

func TestLambdaV2(t *testing.T) {
	s := apitest.Start(t)
	ev, err := invoke.LambdaV2(request(s.Clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Headers["host"] != "intlpartnersmgt.tencentcloudapi.com" || ev.RequestContext.DomainName != ev.Headers["host"] {
		t.Errorf("host %q, domain %q", ev.Headers["host"], ev.RequestContext.DomainName)
	}
	payload, _ := json.Marshal(ev)
	out, err := awslambda.New(s.App.Handler).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct{ Body string }
	_ = json.Unmarshal(out, &resp)
	if got := envelopeCode(t, resp.Body); got != "" {
		t.Fatalf("code %q", got)
	}
	// The same event, tampered, is refused.
	tampered := bytes.Replace(payload, []byte("51234567"), []byte("51234568"), 1)
	out, _ = awslambda.New(s.App.Handler).Invoke(context.Background(), tampered)
	_ = json.Unmarshal(out, &resp)
	if got := envelopeCode(t, resp.Body); got != tcapi.CodeSignatureFailure {
		t.Fatalf("tampered: code %q", got)
	}
}

func TestSCF(t *testing.T) {
	s := apitest.Start(t)
	r := request(s.Clock.Now())
	r.Host = "service-abc-123.gz.apigw.tencentcs.com"
	ev, err := invoke.SCF(r)
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON, as SCF delivers it.
	b, _ := json.Marshal(ev)
	var req scf.Request
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatal(err)
	}
	resp, err := scf.Handler(s.App.Handler)(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := envelopeCode(t, resp.Body); got != "" {
		t.Fatalf("code %q", got)
	}
}

func TestSignErrors(t *testing.T) {
	for name, r := range map[string]invoke.Request{
		"no action":      {Service: "s", Version: "v", SecretID: "i", SecretKey: "k"},
		"no credential":  {Service: "s", Version: "v", Action: "a"},
		"params a list":  {Service: "s", Version: "v", Action: "a", SecretID: "i", SecretKey: "k", Params: []int{1}},
		"params invalid": {Service: "s", Version: "v", Action: "a", SecretID: "i", SecretKey: "k", Params: func() {}},
	} {
		if _, err := invoke.Sign(r); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	s, err := invoke.Sign(invoke.Request{Service: "s", Version: "v", Action: "a", SecretID: "i", SecretKey: "k"})
	if err != nil || string(s.Body) != "{}" || !strings.HasPrefix(s.Header["authorization"], "TC3-HMAC-SHA256 Credential=i/") {
		t.Fatalf("%+v %v", s, err)
	}
}
