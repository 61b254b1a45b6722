//go:build contract

package contracts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/pact-foundation/pact-go/v2/consumer"
	"github.com/pact-foundation/pact-go/v2/matchers"
	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/tcauth"
)

// tcService is one Tencent Cloud API 3.0 service served by one function.
type tcService struct {
	Provider string // the function: sendsms, sendverify, verifycontact
	Service  string // smh, intlpartnersmgt, domain
	Version  string
}

// tcCase is one interaction: a request example (with matchers; their
// examples are what the SDK sends), the provider state it needs and the
// documented answer: the output fields of a success, or an error code.
type tcCase struct {
	Desc   string
	State  string
	Action string
	Params map[string]any
	Output map[string]any // success only: the output fields besides RequestId
	Error  string         // the documented error code; "" for a success
	// Version, if set, is sent instead of the service's (an error case).
	Version string
	// Language, if set, is sent and pinned as X-TC-Language instead of the
	// consumer's: an answer that depends on it needs it replayed.
	Language string
}

// version is the API version the case sends.
func (c tcCase) version(svc tcService) string {
	if c.Version != "" {
		return c.Version
	}
	return svc.Version
}

// Matchers shared by the Tencent pacts.
var (
	// requestID is any string: Tencent's are UUIDs, but callers only log them.
	requestID = matchers.Like("4f1f2b2e-6c1d-4e0c-9d55-2b7e1f0c3a9d")
	// message is any string: Tencent documents that texts may change and
	// callers must key on Code.
	message = matchers.Like("A human-readable message; its text may change, key on Code.")
	// jsonType pins Content-Type to exactly application/json: Tencent's
	// Python SDK ignores an error envelope under any other value.
	jsonType = matchers.Term("application/json", `^application/json$`)
	// timestamp is X-TC-Timestamp: Unix seconds.
	timestamp = matchers.Term("1763683200", `^[0-9]{9,11}$`)
)

// notError matches every object key except "Error" (the Rust regex engine
// has no look-ahead).
const notError = `^(.{0,4}|.{6,}|[^E].{4}|E[^r].{3}|Er[^r].{2}|Err[^o].|Erro[^r])$`

// eachKey applies a regex to every key of an object (Pact V4 "eachKey").
func eachKey(regex string, value map[string]any) map[string]any {
	return map[string]any{
		"pact:matcher:type": "eachKey",
		"rules":             []any{map[string]any{"pact:matcher:type": "regex", "regex": regex}},
		"value":             value,
	}
}

// authorization is a TC3-HMAC-SHA256 Authorization header for service, of
// the form the official SDKs send. Pact reads a header with commas as a list
// of values and applies the header's matching rule to each, so the regex
// accepts each of the three parts.
func authorization(service string) matchers.Matcher {
	return matchers.Term(
		"TC3-HMAC-SHA256 Credential="+accounts.DevSecretID+"/2025-11-21/"+service+"/tc3_request, SignedHeaders=content-type;host, "+
			"Signature=5f2d6a9c0b1e4f3a8d7c6b5a4e3f2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e",
		`^(TC3-HMAC-SHA256 Credential=[^/ ]+/[0-9]{4}-[0-9]{2}-[0-9]{2}/`+service+`/tc3_request`+
			`|SignedHeaders=([a-z0-9-]+;)*content-type(;[a-z0-9-]+)*`+
			`|Signature=[0-9a-f]{64})$`)
}

// responseBody is the documented envelope of c:
//   - an error: Error.Code exactly c.Error, a Message, a RequestId;
//   - a success with output fields: those fields and a RequestId, which must
//     be present (an error envelope lacks them);
//   - a success with no output: a RequestId and no Error key. Pact's
//     "eachKey" rule forbids the key, but while it is on a map the Rust
//     matcher no longer reports missing keys, so it is used only here, where
//     the error interactions already require RequestId.
func (c tcCase) responseBody() map[string]any {
	if c.Error != "" {
		return map[string]any{"Response": map[string]any{
			"Error":     map[string]any{"Code": c.Error, "Message": message},
			"RequestId": requestID,
		}}
	}
	if len(c.Output) == 0 {
		return map[string]any{"Response": eachKey(notError, map[string]any{"RequestId": requestID})}
	}
	out := map[string]any{"RequestId": requestID}
	maps.Copy(out, c.Output)
	return map[string]any{"Response": out}
}

// example replaces matchers by their example values: what the SDK sends.
func example(v any) any {
	switch x := v.(type) {
	case matchers.Matcher:
		return example(x.GetValue())
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = example(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = example(e)
		}
		return out
	}
	return v
}

// consumeTencent records cases as the pact between consumerName and svc's
// function: each interaction is played by the official SDK client against
// the mock server, which checks the request, and the SDK's outcome is
// checked against the documented answer. lang, if set, is sent (and pinned)
// as X-TC-Language; a case's own Language overrides it.
func consumeTencent(t *testing.T, consumerName string, svc tcService, lang string, cases []tcCase) {
	dir := t.TempDir()
	pact, err := consumer.NewV4Pact(consumer.MockHTTPProviderConfig{
		Consumer: consumerName, Provider: svc.Provider, PactDir: dir, LogDir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		lang := lang
		if c.Language != "" {
			lang = c.Language
		}
		pact.AddInteraction().
			Given(c.State).
			UponReceiving(c.Desc).
			WithRequest(http.MethodPost, "/", func(b *consumer.V4RequestBuilder) {
				b.Header("Content-Type", matchers.String("application/json"))
				b.Header("Authorization", authorization(svc.Service))
				b.Header("X-TC-Action", matchers.String(c.Action))
				b.Header("X-TC-Version", matchers.String(c.version(svc)))
				b.Header("X-TC-Timestamp", timestamp)
				if lang != "" {
					b.Header("X-TC-Language", matchers.String(lang))
				}
				b.JSONBody(c.Params)
			}).
			WillRespondWith(http.StatusOK, func(b *consumer.V4ResponseBuilder) {
				b.Header("Content-Type", jsonType)
				b.JSONBody(c.responseBody())
			})
		err := pact.ExecuteTest(t, func(ms consumer.MockServerConfig) error {
			client := tcclient.New(tcclient.Options{
				Endpoint:  fmt.Sprintf("%s:%d", ms.Host, ms.Port),
				SecretID:  accounts.DevSecretID,
				SecretKey: accounts.DevSecretKey,
				Language:  lang,
			})
			params := example(c.Params).(map[string]any)
			out, err := client.Call(svc.Service, c.version(svc), c.Action, params)
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

// checkSDK checks what the official SDK made of the mock's answer.
func (c tcCase) checkSDK(out json.RawMessage, err error) error {
	if c.Error != "" {
		var sdkErr *sdkerrors.TencentCloudSDKError
		if !errors.As(err, &sdkErr) {
			return fmt.Errorf("the SDK returned %v, want a TencentCloudSDKError %s", err, c.Error)
		}
		if sdkErr.GetCode() != c.Error {
			return fmt.Errorf("the SDK saw code %s, want %s", sdkErr.GetCode(), c.Error)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("the SDK failed: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(out, &fields); err != nil {
		return err
	}
	for k := range c.Output {
		if _, ok := fields[k]; !ok {
			return fmt.Errorf("the SDK's response lacks %s: %s", k, out)
		}
	}
	return nil
}

// signTC3 is the request filter of the Tencent provider tests: it signs each
// replayed request with TC3-HMAC-SHA256 for service, at the app's clock, with
// the stack's current credential, for the host the proxy forwards to.
func (s *stack) signTC3(service string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			ts := s.now().Unix()
			r.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
			r.Header.Set("Authorization", tc3Authorization(s.signer(), r.Method, s.host(), service, r.Header.Get("Content-Type"), r.URL.RawQuery, body, ts))
			next.ServeHTTP(w, r)
		})
	}
}

// tc3Authorization signs a request with TC3-HMAC-SHA256 (signed headers
// content-type and host, as the official SDKs do).
func tc3Authorization(c credential, method, host, service, contentType, rawQuery string, body []byte, ts int64) string {
	return tcauth.Sign(c.id, []byte(c.secret), service, method, host, contentType, rawQuery, body, ts)
}

// tencent calls the stack's own handler (signed like the SDK, at the app's
// clock) and returns the error code of the answer, "" for a success.
// Provider states put the stack in a state through the real API rather than
// writing the store behind its back.
func (s *stack) tencent(svc tcService, action string, params map[string]any) (string, error) {
	body, err := json.Marshal(params)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequest(http.MethodPost, s.srv.URL+"/", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	ts := s.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-TC-Action", action)
	req.Header.Set("X-TC-Version", svc.Version)
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("Authorization", tc3Authorization(devCredential, http.MethodPost, s.host(), svc.Service, "application/json", "", body, ts))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var env struct {
		Response struct {
			Error *struct{ Code, Message string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return "", err
	}
	if e := env.Response.Error; e != nil {
		return e.Code, nil
	}
	return "", nil
}

// call is tencent for a call that must succeed.
func (s *stack) call(svc tcService, action string, params map[string]any) error {
	code, err := s.tencent(svc, action, params)
	if err == nil && code != "" {
		err = fmt.Errorf("%s answered %s", action, code)
	}
	return err
}

// wrongCode returns a code of the same length that is not code.
func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// codeValues are the values a "code was sent" state injects: the code that
// was delivered and one that is wrong.
func codeValues(code string) map[string]any {
	return map[string]any{"code": code, "wrongCode": wrongCode(code)}
}

// sentCode and sentWrongCode are request values injected by the provider
// state: the example is what the consumer test's SDK sends.
var (
	sentCode      = matchers.FromProviderState("${code}", "123456")
	sentWrongCode = matchers.FromProviderState("${wrongCode}", "654321")
)

// pick returns the cases with the given descriptions, in that order: a
// consumer relying on part of what another pins.
func pick(cases []tcCase, descs ...string) []tcCase {
	var out []tcCase
	for _, d := range descs {
		i := slices.IndexFunc(cases, func(c tcCase) bool { return c.Desc == d })
		if i < 0 {
			panic("contracts: no case " + d)
		}
		out = append(out, cases[i])
	}
	return out
}
