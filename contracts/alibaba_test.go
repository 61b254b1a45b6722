//go:build contract

package contracts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/alibabacloud-go/tea/tea"
	"github.com/pact-foundation/pact-go/v2/consumer"
	"github.com/pact-foundation/pact-go/v2/matchers"

	"github.com/verifyfn/verifyfn/internal/acsclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/acsauth"
)

// acsService is one Alibaba Cloud OpenAPI RPC product served by one function.
type acsService struct {
	Provider string // the function: chatappcode
	Version  string
}

// acsCase is one Alibaba interaction: the API parameters (in the query, as
// darabonba sends them for RPC-style APIs, with matchers), the provider state
// and the documented answer: a success, or an error code with its HTTP status.
type acsCase struct {
	Desc   string
	State  string
	Action string
	Query  map[string]any // values: strings or matchers
	Error  string         // the documented error code; "" for a success
	Status int            // the HTTP status of the error (default 400)
}

// acs3Authorization is an ACS3-HMAC-SHA256 Authorization header as
// darabonba sends it. Pact reads its commas as separating three values and
// applies the header's rule to each, so the regex accepts each part.
var acs3Authorization = matchers.Term(
	"ACS3-HMAC-SHA256 Credential="+accounts.DevSecretID+","+
		"SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,"+
		"Signature=9d3b2c6f1a0e4d5c8b7a69584736251403f2e1d0c9b8a7968574635241302f1e",
	`^(ACS3-HMAC-SHA256 Credential=[^,/ ]+`+
		`|SignedHeaders=host(;[a-z0-9-]+)*`+
		`|Signature=[0-9a-f]{64})$`)

// The x-acs-* signature headers.
var (
	acsDate  = matchers.Term("2025-11-21T08:00:00Z", `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`)
	acsNonce = matchers.Term("3f1e6a1c9b2d4e5f8a7b6c5d4e3f2a1b", `^[0-9A-Za-z-]{8,128}$`)
	acsHash  = matchers.Term("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", `^[0-9a-f]{64}$`)
)

// status is the HTTP status of c's answer.
func (c acsCase) status() int {
	switch {
	case c.Error == "":
		return http.StatusOK
	case c.Status != 0:
		return c.Status
	}
	return http.StatusBadRequest
}

// responseBody is the documented answer of c: a success is
// {RequestId, Code "OK", Message, Success true, AccessDeniedDetail}; an
// error carries Code exactly c.Error, a Message and a RequestId.
func (c acsCase) responseBody() map[string]any {
	if c.Error != "" {
		return map[string]any{"Code": c.Error, "Message": message, "RequestId": requestID}
	}
	return map[string]any{
		"RequestId":          requestID,
		"Code":               "OK",
		"Message":            matchers.Like("None"),
		"Success":            true,
		"AccessDeniedDetail": matchers.Like("None"),
	}
}

// The signatures a darabonba client may be configured with.
const (
	// signACS3Header is the default: ACS3-HMAC-SHA256 in the Authorization
	// header, with x-acs-* headers.
	signACS3Header = ""
	// signRPC is SignatureAlgorithm "v2": the legacy RPC signature
	// (HMAC-SHA1, SignatureVersion 1.0), every parameter in the query.
	signRPC = "v2"
)

// The RPC common parameters.
var (
	rpcTimestamp = matchers.Term("2025-11-21T08:00:00Z", `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`)
	rpcSignature = matchers.Term("a5D1mf7I0qszIYTR3cGekCtn4q8=", `^[A-Za-z0-9+/]{27}=$`)
)

// consumeAlibaba records cases as the pact between consumerName and svc's
// function, each played by the official darabonba client (acsclient),
// signing with signature (signACS3Header or signRPC), against the mock
// server.
func consumeAlibaba(t *testing.T, consumerName string, svc acsService, signature string, cases []acsCase) {
	dir := t.TempDir()
	pact, err := consumer.NewV4Pact(consumer.MockHTTPProviderConfig{
		Consumer: consumerName, Provider: svc.Provider, PactDir: dir, LogDir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		pact.AddInteraction().
			Given(c.State).
			UponReceiving(c.Desc).
			WithRequest(http.MethodPost, "/", func(b *consumer.V4RequestBuilder) {
				for k, v := range c.Query {
					m, ok := v.(matchers.Matcher)
					if !ok {
						m = matchers.String(fmt.Sprint(v))
					}
					b.Query(k, m)
				}
				if signature == signRPC {
					b.Query("Action", matchers.String(c.Action))
					b.Query("Version", matchers.String(svc.Version))
					b.Query("Format", matchers.Term("json", `^(?i:json)$`))
					b.Query("AccessKeyId", matchers.Like(accounts.DevSecretID))
					b.Query("SignatureMethod", matchers.String("HMAC-SHA1"))
					b.Query("SignatureVersion", matchers.String("1.0"))
					b.Query("SignatureNonce", acsNonce)
					b.Query("Timestamp", rpcTimestamp)
					b.Query("Signature", rpcSignature)
					return
				}
				b.Header("Authorization", acs3Authorization)
				b.Header("x-acs-action", matchers.String(c.Action))
				b.Header("x-acs-version", matchers.String(svc.Version))
				b.Header("x-acs-date", acsDate)
				b.Header("x-acs-signature-nonce", acsNonce)
				b.Header("x-acs-content-sha256", acsHash)
			}).
			WillRespondWith(c.status(), func(b *consumer.V4ResponseBuilder) {
				b.Header("Content-Type", jsonType)
				b.JSONBody(c.responseBody())
			})
		err := pact.ExecuteTest(t, func(ms consumer.MockServerConfig) error {
			client, err := acsclient.New(acsclient.Options{
				Endpoint:           fmt.Sprintf("%s:%d", ms.Host, ms.Port),
				AccessKeyID:        accounts.DevSecretID,
				AccessKeySecret:    accounts.DevSecretKey,
				SignatureAlgorithm: signature,
			})
			if err != nil {
				return err
			}
			out, err := client.Call(c.Action, svc.Version, example(c.Query).(map[string]any))
			return c.checkSDK(out, err)
		})
		if err != nil {
			t.Errorf("%s: %v", c.Desc, err)
		}
	}
	if !t.Failed() {
		publishPact(t, dir, consumerName, svc.Provider)
	}
}

// checkSDK checks what the darabonba client made of the mock's answer.
func (c acsCase) checkSDK(out json.RawMessage, err error) error {
	if c.Error != "" {
		var sdkErr *tea.SDKError
		if !errors.As(err, &sdkErr) {
			return fmt.Errorf("the SDK returned %v, want an SDKError %s", err, c.Error)
		}
		if got := tea.StringValue(sdkErr.Code); got != c.Error {
			return fmt.Errorf("the SDK saw code %s, want %s", got, c.Error)
		}
		if got := tea.IntValue(sdkErr.StatusCode); got != c.status() {
			return fmt.Errorf("the SDK saw HTTP %d, want %d", got, c.status())
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("the SDK failed: %w", err)
	}
	var body struct {
		Code    string
		Success bool
	}
	if err := json.Unmarshal(out, &body); err != nil {
		return err
	}
	if body.Code != "OK" || !body.Success {
		return fmt.Errorf("the SDK's response is not a success: %s", out)
	}
	return nil
}

// signACS is the request filter of the Alibaba provider tests. A replayed
// request gets a fresh time (the app's clock) and signature nonce (the
// provider refuses a nonce twice) and is signed with the stack's current
// credential, the way its pact says the caller signs: ACS3-HMAC-SHA256 in
// the Authorization header for the host the proxy forwards to, or the RPC
// signature over the query.
func (s *stack) signACS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := s.signer()
		now := s.now().UTC().Format(acsauth.TimestampLayout)
		query, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if query.Has("Signature") {
			query.Set("AccessKeyId", c.id)
			query.Set("Timestamp", now)
			query.Set("SignatureNonce", nonce())
			query.Del("Signature")
			acsauth.SignRPC([]byte(c.secret), r.Method, query)
			r.URL.RawQuery = query.Encode()
			r.RequestURI = ""
			next.ServeHTTP(w, r)
			return
		}
		r.Host = s.host()
		r.Header.Set(acsauth.HeaderDate, now)
		r.Header.Set(acsauth.HeaderNonce, nonce())
		// The body is empty: the parameters travel in the query.
		if err := acsauth.SignACS3Request(r, nil, c.id, []byte(c.secret)); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func nonce() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// alibaba calls the stack's own handler (signed like darabonba, at the
// app's clock, with the development credential) and returns the error code
// of the answer, "" for a success.
func (s *stack) alibaba(svc acsService, action string, params map[string]string) (string, error) {
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	req, err := acsauth.ACS3Request{
		Endpoint: s.srv.URL, Action: action, Version: svc.Version, Query: q, Time: s.now(),
		AccessKeyID: devCredential.id, Secret: []byte(devCredential.secret),
	}.HTTPRequest(context.Background())
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct{ Code string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", err
	}
	if body.Code == "OK" {
		return "", nil
	}
	return body.Code, nil
}

// callAlibaba is alibaba for a call that must succeed.
func (s *stack) callAlibaba(svc acsService, action string, params map[string]string) error {
	code, err := s.alibaba(svc, action, params)
	if err == nil && code != "" {
		err = fmt.Errorf("%s answered %s", action, code)
	}
	return err
}
