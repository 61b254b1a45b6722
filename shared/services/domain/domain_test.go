package domain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/services/domain"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/memstore"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

func sdkCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *tcerr.TencentCloudSDKError
	if !errors.As(err, &e) {
		t.Fatalf("not an SDK API error: %v", err)
	}
	return e.Code
}

type caller struct {
	t *testing.T
	c *tcclient.Client
}

func (c caller) call(action string, p map[string]any) (json.RawMessage, string) {
	c.t.Helper()
	resp, err := c.c.Call(domain.Name, domain.Version, action, p)
	return resp, sdkCode(c.t, err)
}

func (c caller) code(action string, p map[string]any) string {
	c.t.Helper()
	_, got := c.call(action, p)
	return got
}

type listOut struct {
	PhoneEmailList []struct {
		Code      string
		Type      int64
		CreatedOn string
	}
	TotalCount int64
}

func (c caller) list(p map[string]any) listOut {
	c.t.Helper()
	resp, got := c.call("DescribeIntlPhoneEmailList", p)
	if got != "" {
		c.t.Fatalf("DescribeIntlPhoneEmailList: %q", got)
	}
	var out listOut
	if err := json.Unmarshal(resp, &out); err != nil {
		c.t.Fatal(err)
	}
	return out
}

func TestVerifyContactFlow(t *testing.T) {
	s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) { c.Cooldown = time.Second }))
	c := caller{t, s.Tencent(tcclient.Options{})}

	// The documented example: Type as a JSON number, a national number.
	if got := c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 1, "Code": "18766554433"}); got != "" {
		t.Fatalf("send to phone: %q", got)
	}
	m := s.Messages(t)[0]
	if m.Channel != "sms" || m.To != "+8618766554433" {
		t.Fatalf("message %+v", m)
	}
	if got := c.code("CreateIntlPhoneEmail", map[string]any{"Type": 1, "Code": "18766554433", "VerifyCode": m.Code}); got != "" {
		t.Fatalf("create: %q", got)
	}
	if got := c.code("CreateIntlPhoneEmail", map[string]any{"Type": 1, "Code": "+86 187 6655 4433", "VerifyCode": m.Code}); got != "InternalError.VerifiedPhoneEmailErr" {
		t.Fatalf("re-verify: %q", got)
	}

	// Email through a form/GET client: Type arrives as the string "2".
	g := caller{t, s.Tencent(tcclient.Options{Method: "GET"})}
	if got := g.code("SendIntlPhoneEmailCode", map[string]any{"Type": "2", "Code": "Owner@Example.COM"}); got != "" {
		t.Fatalf("send to email over GET: %q", got)
	}
	em := s.Messages(t)[1]
	if em.Channel != "email" || em.To != "Owner@example.com" {
		t.Fatalf("email message %+v", em)
	}
	if got := g.code("CreateIntlPhoneEmail", map[string]any{"Type": "2", "Code": "Owner@example.com", "VerifyCode": em.Code}); got != "" {
		t.Fatalf("create email: %q", got)
	}

	all := c.list(map[string]any{"Type": 0, "Limit": 20, "Offset": 0})
	if all.TotalCount != 2 || len(all.PhoneEmailList) != 2 || all.PhoneEmailList[0].Code != "+8618766554433" || all.PhoneEmailList[1].Type != 2 {
		t.Fatalf("list %+v", all)
	}
	if _, err := time.Parse(time.DateTime, all.PhoneEmailList[0].CreatedOn); err != nil {
		t.Fatalf("CreatedOn %q: %v", all.PhoneEmailList[0].CreatedOn, err)
	}
	if phones := c.list(map[string]any{"Type": 1}); phones.TotalCount != 1 || phones.PhoneEmailList[0].Type != 1 {
		t.Fatalf("phones %+v", phones)
	}
	if got := c.code("DeleteIntlPhoneEmail", map[string]any{"Type": 1, "Code": "18766554433"}); got != "" {
		t.Fatalf("delete: %q", got)
	}
	if got := c.code("DeleteIntlPhoneEmail", map[string]any{"Type": 1, "Code": "18766554433"}); got != "InternalError.DeletePhoneEmailVerifyErr" {
		t.Fatalf("delete again: %q", got)
	}
	if left := c.list(map[string]any{}); left.TotalCount != 1 || left.PhoneEmailList[0].Type != 2 {
		t.Fatalf("after delete %+v", left)
	}
}

func TestDescribePaging(t *testing.T) {
	s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) { c.Cooldown = time.Second }))
	c := caller{t, s.Tencent(tcclient.Options{})}
	mails := []string{"a@example.com", "b@example.com", "c@example.com"}
	for _, mail := range mails {
		if got := c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": mail}); got != "" {
			t.Fatal(got)
		}
		if got := c.code("CreateIntlPhoneEmail", map[string]any{"Type": 2, "Code": mail, "VerifyCode": s.LastCode(t, mail)}); got != "" {
			t.Fatal(got)
		}
		s.Clock.Advance(time.Second)
	}
	page := c.list(map[string]any{"Type": 2, "Limit": 2, "Offset": 0})
	if page.TotalCount != 3 || len(page.PhoneEmailList) != 2 || page.PhoneEmailList[0].Code != mails[0] || page.PhoneEmailList[1].Code != mails[1] {
		t.Fatalf("first page %+v", page)
	}
	page = c.list(map[string]any{"Type": 2, "Limit": 2, "Offset": 2})
	if page.TotalCount != 3 || len(page.PhoneEmailList) != 1 || page.PhoneEmailList[0].Code != mails[2] {
		t.Fatalf("second page %+v", page)
	}
	for _, p := range []map[string]any{{"Limit": 0}, {"Limit": 201}, {"Offset": -1}, {"Type": 3}, {"Limit": "x"}} {
		if got := c.code("DescribeIntlPhoneEmailList", p); got != "InvalidParameterValue.InvalidParameterFormat" {
			t.Errorf("%v: %q", p, got)
		}
	}
}

func TestVerifyCodeErrors(t *testing.T) {
	s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) { c.CodeTTL = 2 * time.Minute }))
	c := caller{t, s.Tencent(tcclient.Options{})}
	if got := c.code("CreateIntlPhoneEmail", map[string]any{"Type": 1, "Code": "18766554433", "VerifyCode": "123456"}); got != "InternalError.CheckVerifyCodeErr" {
		t.Fatalf("no pending code: %q", got)
	}
	c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 1, "Code": "18766554433"})
	right := s.LastCode(t, "+8618766554433")
	wrong := "000000"
	if right == wrong {
		wrong = "000001"
	}
	for i := range 4 {
		if got := c.code("CreateIntlPhoneEmail", map[string]any{"Type": 1, "Code": "18766554433", "VerifyCode": wrong}); got != "InternalError.VerifyCodeErr" {
			t.Fatalf("wrong guess %d: %q", i+1, got)
		}
	}
	c.code("CreateIntlPhoneEmail", map[string]any{"Type": 1, "Code": "18766554433", "VerifyCode": wrong})
	if got := c.code("CreateIntlPhoneEmail", map[string]any{"Type": 1, "Code": "18766554433", "VerifyCode": right}); got != "InternalError.CheckVerifyCodeErr" {
		t.Fatalf("right code after the attempts ran out: %q", got)
	}
	s.Clock.Advance(61 * time.Second)
	c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 1, "Code": "18766554433"})
	right = s.LastCode(t, "+8618766554433")
	s.Clock.Advance(2 * time.Minute)
	if got := c.code("CreateIntlPhoneEmail", map[string]any{"Type": 1, "Code": "18766554433", "VerifyCode": right}); got != "InternalError.CheckVerifyCodeErr" {
		t.Fatalf("expired code: %q", got)
	}
}

func TestInvalidParameterFormat(t *testing.T) {
	s := apitest.Start(t)
	c := caller{t, s.Tencent(tcclient.Options{})}
	for _, tc := range []struct {
		action string
		p      map[string]any
	}{
		{"SendIntlPhoneEmailCode", map[string]any{"Type": 3, "Code": "18766554433"}},
		{"SendIntlPhoneEmailCode", map[string]any{"Code": "18766554433"}},
		{"SendIntlPhoneEmailCode", map[string]any{"Type": 1, "Code": "12"}},
		{"SendIntlPhoneEmailCode", map[string]any{"Type": 1, "Code": "owner@example.com"}},
		{"SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": "not-an-email"}},
		{"SendIntlPhoneEmailCode", map[string]any{"Type": 2}},
		{"SendIntlPhoneEmailCode", map[string]any{"Type": "one", "Code": "18766554433"}},
		{"CreateIntlPhoneEmail", map[string]any{"Type": 1, "Code": "18766554433", "VerifyCode": "12345"}},
		{"CreateIntlPhoneEmail", map[string]any{"Type": 1, "Code": "18766554433", "VerifyCode": "abcdef"}},
		{"CreateIntlPhoneEmail", map[string]any{"Type": 1, "Code": "18766554433"}},
		{"DeleteIntlPhoneEmail", map[string]any{"Type": 9, "Code": "18766554433"}},
	} {
		if got := c.code(tc.action, tc.p); got != "InvalidParameterValue.InvalidParameterFormat" {
			t.Errorf("%s %v: %q", tc.action, tc.p, got)
		}
	}
}

func signed(s *apitest.Server, action string, body string) apitest.SignedRequest {
	return apitest.SignedRequest{Host: s.Host, Service: domain.Name, Action: action, Version: domain.Version,
		Body: []byte(body), Timestamp: s.Clock.Now().Unix()}
}

func TestServiceSpecificFrontDoorCodes(t *testing.T) {
	s := apitest.Start(t)
	body := `{"Type":1,"Code":"18766554433"}`
	put := signed(s, "SendIntlPhoneEmailCode", body)
	put.Method = http.MethodPut
	huge := signed(s, "SendIntlPhoneEmailCode", "")
	huge.Body = bytes.Repeat([]byte(" "), tcapi.DefaultMaxBody+1)
	unsigned, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(body))
	unsigned.Header.Set("Content-Type", "application/json")
	unsigned.Header.Set("X-TC-Action", "SendIntlPhoneEmailCode")
	unsigned.Header.Set("X-TC-Version", domain.Version)
	for _, tc := range []struct {
		name string
		req  *http.Request
		want string
	}{
		{"PUT", put.Build(t), "InternalError.MethodNotMatch"},
		{"oversized body", huge.Build(t), "InternalError.ReadBodyError"},
		{"malformed JSON", signed(s, "SendIntlPhoneEmailCode", `{"Type":`).Build(t), "InternalError.JsonMarshal"},
		{"no credential", unsigned, "InternalError.NeedLogin"},
		{"undefined action", signed(s, "CreatePhoneEmail", body).Build(t), "MissingParameter.ActionNotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := apitest.Do(t, tc.req).Code(); got != tc.want {
				t.Fatalf("code = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestForbiddenRequest(t *testing.T) {
	const yaml = `
accounts:
  - id: "9"
    credentials: [{id: AKIDLIST, secret: list-secret, actions: ["domain:DescribeIntlPhoneEmailList"]}]
    products: [domain]
`
	reg, err := parseAccounts(yaml)
	if err != nil {
		t.Fatal(err)
	}
	s := apitest.Start(t, apitest.WithAccounts(reg))
	c := caller{t, s.Tencent(tcclient.Options{SecretID: "AKIDLIST", SecretKey: "list-secret"})}
	if got := c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 1, "Code": "18766554433"}); got != "InternalError.ForbiddenRequest" {
		t.Fatalf("code = %q", got)
	}
	if got := c.code("DescribeIntlPhoneEmailList", map[string]any{}); got != "" {
		t.Fatalf("the allowed action: %q", got)
	}
}

func TestSendVerifyCodeErr(t *testing.T) {
	failing := delivery.SenderFunc(func(context.Context, delivery.Message) error { return errors.New("smtp down") })
	s := apitest.Start(t, func(_ *config.Config, o *app.Options) { o.Sender = failing })
	c := caller{t, s.Tencent(tcclient.Options{})}
	if got := c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 2, "Code": "a@example.com"}); got != "InternalError.SendVerifyCodeErr" {
		t.Fatalf("code = %q", got)
	}
}

// faulty is the real embedded store with injected failures, because an
// embedded store cannot be made to fail otherwise.
type faulty struct {
	*memstore.Store
	failCheck, failList, failStore atomic.Bool
}

// Allow fails with failStore: the front door's rate limit is the first
// store operation of every request.
func (f *faulty) Allow(ctx context.Context, r store.Rate, now time.Time) (bool, error) {
	if f.failStore.Load() {
		return false, store.ErrUnavailable
	}
	return f.Store.Allow(ctx, r, now)
}

func (f *faulty) Issue(ctx context.Context, op store.IssueOp) (store.IssueResult, error) {
	if f.failStore.Load() {
		return store.IssueResult{}, store.ErrUnavailable
	}
	return f.Store.Issue(ctx, op)
}

func (f *faulty) Check(ctx context.Context, op store.CheckOp) (store.CheckResult, error) {
	if f.failCheck.Load() {
		return store.CheckResult{}, store.ErrUnavailable
	}
	return f.Store.Check(ctx, op)
}

func (f *faulty) List(ctx context.Context, coll string, offset, limit int) ([]store.Record, int, error) {
	if f.failList.Load() {
		return nil, 0, store.ErrUnavailable
	}
	return f.Store.List(ctx, coll, offset, limit)
}

func TestStoreFailures(t *testing.T) {
	st := &faulty{Store: memstore.New()}
	s := apitest.Start(t, func(_ *config.Config, o *app.Options) { o.Store = st })
	c := caller{t, s.Tencent(tcclient.Options{})}
	c.code("SendIntlPhoneEmailCode", map[string]any{"Type": 1, "Code": "18766554433"})
	code := s.LastCode(t, "+8618766554433")
	st.failCheck.Store(true)
	if got := c.code("CreateIntlPhoneEmail", map[string]any{"Type": 1, "Code": "18766554433", "VerifyCode": code}); got != "InternalError.AddPhoneEmailErr" {
		t.Fatalf("store down during create: %q", got)
	}
	st.failCheck.Store(false)
	if n := c.list(map[string]any{}).TotalCount; n != 0 {
		t.Fatalf("a failed create left %d records", n)
	}
	if got := c.code("CreateIntlPhoneEmail", map[string]any{"Type": 1, "Code": "18766554433", "VerifyCode": code}); got != "" {
		t.Fatalf("create after recovery: %q", got)
	}
	st.failList.Store(true)
	if got := c.code("DescribeIntlPhoneEmailList", map[string]any{}); got != "InternalError.DescribePhoneEmailListErr" {
		t.Fatalf("store down during list: %q", got)
	}
	st.failList.Store(false)

	// The whole store down: each action answers its own documented code,
	// whichever store operation fails first (the rate limit or its own).
	st.failStore.Store(true)
	st.failCheck.Store(true)
	for _, tc := range []struct {
		action string
		params map[string]any
		want   string
	}{
		{"SendIntlPhoneEmailCode", map[string]any{"Type": 1, "Code": "18766554434"}, "InternalError.SendVerifyCodeErr"},
		{"CreateIntlPhoneEmail", map[string]any{"Type": 1, "Code": "18766554434", "VerifyCode": "123456"}, "InternalError.AddPhoneEmailErr"},
		{"DescribeIntlPhoneEmailList", map[string]any{}, "InternalError.DescribePhoneEmailListErr"},
		{"DeleteIntlPhoneEmail", map[string]any{"Type": 1, "Code": "18766554433"}, "InternalError.DeletePhoneEmailVerifyErr"},
	} {
		if got := c.code(tc.action, tc.params); got != tc.want {
			t.Errorf("store down, %s: %q, want %s", tc.action, got, tc.want)
		}
	}
}
