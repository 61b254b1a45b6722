package fraud_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/redistest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/internal/testclock"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/contact"
	"github.com/verifyfn/verifyfn/shared/delivery"
	"github.com/verifyfn/verifyfn/shared/delivery/setup"
	"github.com/verifyfn/verifyfn/shared/services/cams"
	"github.com/verifyfn/verifyfn/shared/services/domain"
	"github.com/verifyfn/verifyfn/shared/services/intlpartnersmgt"
	"github.com/verifyfn/verifyfn/shared/services/smh"
	"github.com/verifyfn/verifyfn/shared/store/memstore"
	"github.com/verifyfn/verifyfn/shared/store/redisstore"
)

// Every rule is tested through the official SDKs against the real stack on
// the memory store and on a real redis-server. Durations are short (a code
// lives 3 s, conversions are judged in buckets of 250 ms) so that the Redis
// runs, whose time is the server's, wait a few seconds; on the memory store
// the engine's clock is moved instead. Nothing asserts how long anything
// took.

const (
	ttl     = 3 * time.Second
	bucket  = 250 * time.Millisecond
	cooloff = 2 * time.Second
	trickle = 2 * time.Second
)

// rig is one or two servers on one store, and how time passes for it.
type rig struct {
	a, b    *apitest.Server // b is a second instance on the same Redis (a again on memory)
	redis   *redistest.Server
	advance func(time.Duration)
	engine  *testclock.Clock // memory only
}

// policy is the configuration the tests share.
func policy(c *config.Config) {
	c.CodeTTL = ttl
	c.Cooldown = time.Second
	c.Guard.Window = time.Minute
	c.Guard.Bucket = bucket
	c.Guard.Cooloff = cooloff
	c.Guard.Trickle = trickle
	c.RateLimit = 1 << 20
	c.CAMSRateLimit = 1 << 20
}

// stores runs fn on the memory store and on Redis.
func stores(t *testing.T, fn func(t *testing.T, r *rig), opts ...apitest.Option) {
	t.Run("memory", func(t *testing.T) {
		clk := testclock.New(time.Now())
		o := append([]apitest.Option{apitest.WithConfig(policy), apitest.WithEngineClock(clk)}, opts...)
		s := apitest.Start(t, o...)
		fn(t, &rig{a: s, b: s, engine: clk, advance: clk.Advance})
	})
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		o := append([]apitest.Option{apitest.WithConfig(policy), apitest.WithConfig(func(c *config.Config) { c.Store = srv.URL() })}, opts...)
		a := apitest.Start(t, o...)
		b := apitest.Start(t, o...)
		fn(t, &rig{a: a, b: b, redis: srv, advance: func(d time.Duration) { time.Sleep(d + 100*time.Millisecond) }})
	})
}

func code(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *tcerr.TencentCloudSDKError
	if !errors.As(err, &e) {
		t.Fatalf("not an API error: %v", err)
	}
	return e.Code
}

func sendVerifyCode(t *testing.T, s *apitest.Server, cc, num string) string {
	t.Helper()
	_, err := s.Tencent(tcclient.Options{}).Call(intlpartnersmgt.Name, intlpartnersmgt.Version, "SendVerifyCode",
		map[string]any{"CountryCode": cc, "PhoneNum": num})
	return code(t, err)
}

func sendContact(t *testing.T, s *apitest.Server, e164 string) string {
	t.Helper()
	_, err := s.Tencent(tcclient.Options{}).Call(domain.Name, domain.Version, "SendIntlPhoneEmailCode", map[string]any{"Type": 1, "Code": e164})
	return code(t, err)
}

func verifyContact(t *testing.T, s *apitest.Server, from *apitest.Server, e164 string) {
	t.Helper()
	_, err := s.Tencent(tcclient.Options{}).Call(domain.Name, domain.Version, "CreateIntlPhoneEmail",
		map[string]any{"Type": 1, "Code": e164, "VerifyCode": from.LastCode(t, e164)})
	if err != nil {
		t.Fatalf("CreateIntlPhoneEmail %s: %v", e164, err)
	}
}

func sendSmsCode(t *testing.T, s *apitest.Server, cc, num string) string {
	t.Helper()
	_, err := s.Tencent(tcclient.Options{}).Call(smh.Name, smh.Version, "SendSmsCode", map[string]any{
		"Purpose": "BindSuperAdmin", "InstanceId": accounts.DevInstanceID, "CountryCode": cc, "PhoneNumber": num,
	})
	return code(t, err)
}

func chatapp(t *testing.T, s *apitest.Server, number, method string) string {
	t.Helper()
	r := s.ACSCallers(t, "", "")[0].Call(t, cams.GetChatappVerifyCode, cams.Version, map[string]string{
		"CustSpaceId": accounts.DevCAMSSpace, "PhoneNumber": number, "Method": method, "Locale": "en",
	})
	return r.Code
}

func want(t *testing.T, what, got, wantCode string) {
	t.Helper()
	if got != wantCode {
		t.Fatalf("%s: code %q, want %q", what, got, wantCode)
	}
}

// stored reports how much ephemeral state the store holds for a number:
// the memory store's entries, or Redis's keys naming the number.
func (r *rig) stored(t *testing.T, e164 string) int {
	t.Helper()
	if r.redis == nil {
		return r.a.App.Store.(*memstore.Store).Len()
	}
	c := r.a.App.Store.(*redisstore.Store).Client()
	keys, err := c.Keys(context.Background(), "*"+e164+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

// wantNothingStored checks that a refused send stored nothing: no code and
// no cooldown for the number (Redis), no new entry (memory), no message.
func (r *rig) wantNothingStored(t *testing.T, before, msgs int, e164 string) {
	t.Helper()
	after := r.stored(t, e164)
	if r.redis != nil && after != 0 || r.redis == nil && after > before {
		t.Fatalf("a refused send left state behind: %d entries for %s, %d before", after, e164, before)
	}
	if n := messages(t, r); n != msgs {
		t.Fatalf("%d messages after a refused send, want %d", n, msgs)
	}
}

// logs returns what the rig's servers logged.
func (r *rig) logs() string {
	if r.b == r.a {
		return r.a.Logs()
	}
	return r.a.Logs() + r.b.Logs()
}

func messages(t *testing.T, r *rig) int {
	n := len(r.a.Messages(t))
	if r.b != r.a {
		n += len(r.b.Messages(t))
	}
	return n
}

func TestNumberTypeRefused(t *testing.T) {
	stores(t, func(t *testing.T, r *rig) {
		s := r.a
		// Premium rate (GB 909), toll free (GB 800), shared cost (DE 180),
		// UAN (GB 55) and pager (GB 76) numbers: refused for SMS and voice
		// by each action's parameter error for the number.
		want(t, "SendVerifyCode premium", sendVerifyCode(t, s, "44", "9012345678"), "InvalidParameterValue")
		want(t, "SendVerifyCode toll free", sendVerifyCode(t, s, "44", "8001234567"), "InvalidParameterValue")
		want(t, "SendIntlPhoneEmailCode shared cost", sendContact(t, s, "+4918012345"), "InvalidParameterValue.InvalidParameterFormat")
		want(t, "SendIntlPhoneEmailCode UAN", sendContact(t, s, "+445512345678"), "InvalidParameterValue.InvalidParameterFormat")
		want(t, "SendSmsCode pager", sendSmsCode(t, s, "44", "7640123456"), "InvalidParameterValue.PhoneNumber")
		want(t, "GetChatappVerifyCode voice to premium", chatapp(t, s, "449012345678", "voice"), "InvalidParameter")
		want(t, "GetChatappVerifyCode voice to toll free", chatapp(t, s, "448001234567", "voice"), "InvalidParameter")
		// An SMS needs a number that can take a text; a voice call reaches
		// a fixed line.
		want(t, "SendVerifyCode to a fixed line", sendVerifyCode(t, s, "852", "21234567"), "InvalidParameterValue")
		want(t, "SendIntlPhoneEmailCode to a fixed line", sendContact(t, s, "+85221234567"), "InvalidParameterValue.InvalidParameterFormat")
		if n := messages(t, r); n != 0 {
			t.Fatalf("%d messages sent to refused numbers", n)
		}
		want(t, "voice to a fixed line", chatapp(t, s, "85221234567", "voice"), "")
		want(t, "SMS to a mobile", sendVerifyCode(t, s, "852", "51234567"), "")
		want(t, "SMS where the plan cannot tell (US)", sendVerifyCode(t, s, "1", "2015550123"), "")
		if !strings.Contains(s.Logs(), `"reason":"number_type"`) {
			t.Fatal("no refusal with reason number_type in the log")
		}
	})
}

func TestNumberTypesConfigurable(t *testing.T) {
	s := apitest.Start(t, apitest.WithConfig(func(c *config.Config) {
		c.Guard.RefusedTypes = []contact.NumberType{} // none
		c.Guard.SMSTypes = []contact.NumberType{}     // any
	}))
	want(t, "SMS to a fixed line, with any type allowed", sendVerifyCode(t, s, "852", "21234567"), "")
	want(t, "SMS to premium rate, with none refused", sendVerifyCode(t, s, "44", "9012345678"), "")
}

func TestPrefixVelocity(t *testing.T) {
	stores(t, func(t *testing.T, r *rig) {
		// The default: 30 sends an hour to one prefix (the number without
		// its last four digits), counted over every API and instance.
		for i := range 30 {
			s := r.a
			if i%2 == 1 {
				s = r.b
			}
			want(t, fmt.Sprintf("send %d", i+1), sendVerifyCode(t, s, "852", fmt.Sprintf("5123%04d", i)), "")
		}
		msgs, before := messages(t, r), r.stored(t, "+85251230030")
		want(t, "SendVerifyCode 31st", sendVerifyCode(t, r.a, "852", "51230030"), "FailedOperation.SendVerifyCodeLimit")
		r.wantNothingStored(t, before, msgs, "+85251230030")
		want(t, "on the other instance", sendVerifyCode(t, r.b, "852", "51230031"), "FailedOperation.SendVerifyCodeLimit")
		want(t, "SendIntlPhoneEmailCode", sendContact(t, r.a, "+85251230032"), "RequestLimitExceeded")
		want(t, "SendSmsCode", sendSmsCode(t, r.b, "852", "51230033"), "RequestLimitExceeded.SendSms")
		want(t, "GetChatappVerifyCode", chatapp(t, r.a, "85251230034", "voice"), "System.LimitControl")
		want(t, "another prefix", sendVerifyCode(t, r.a, "852", "51240000"), "")
		logs := r.logs()
		if !strings.Contains(logs, `"reason":"prefix_velocity"`) || !strings.Contains(logs, `"country":"HK"`) {
			t.Fatal("no prefix_velocity refusal for HK in the log")
		}
		if strings.Contains(logs, "51230030") {
			t.Fatal("the log holds a full number")
		}
		if r.engine != nil {
			r.advance(time.Hour + 5*time.Minute) // the window, and its last bucket
			want(t, "an hour later", sendVerifyCode(t, r.a, "852", "51230035"), "")
		}
	})
}

// TestConversionGuard: a prefix whose codes are not verified is refused for
// the cool-off, then let through at a trickle; a prefix whose codes are
// verified is not. The codes are sent by one instance and verified through
// the other.
func TestConversionGuard(t *testing.T) {
	stores(t, func(t *testing.T, r *rig) {
		for i := range 5 {
			want(t, "pumped", sendContact(t, r.a, fmt.Sprintf("+8525123%04d", i)), "")
			n := fmt.Sprintf("+8525124%04d", i)
			want(t, "real", sendContact(t, r.b, n), "")
			if i < 4 {
				verifyContact(t, r.a, r.b, n)
			}
		}
		// Too young to judge: the codes may still be entered.
		want(t, "before maturity", sendContact(t, r.a, "+85251230005"), "")
		r.advance(ttl + 2*bucket)
		msgs, before := messages(t, r), r.stored(t, "+85251230006")
		want(t, "pumped prefix", sendContact(t, r.a, "+85251230006"), "RequestLimitExceeded")
		r.wantNothingStored(t, before, msgs, "+85251230006")
		want(t, "SendVerifyCode to the pumped prefix", sendVerifyCode(t, r.b, "852", "51230007"), "FailedOperation.SendVerifyCodeLimit")
		want(t, "the verified prefix", sendContact(t, r.b, "+85251240005"), "")
		logs := r.logs()
		if strings.Count(logs, "conversion too low") != 1 || !strings.Contains(logs, `"reason":"prefix_conversion"`) {
			t.Fatalf("want one cool-off warning and prefix_conversion refusals in the log")
		}
		r.advance(cooloff)
		want(t, "after the cool-off: a trickle", sendContact(t, r.a, "+85251230008"), "")
		want(t, "the trickle's next", sendContact(t, r.b, "+85251230009"), "RequestLimitExceeded")
		r.advance(trickle)
		want(t, "the next trickle", sendContact(t, r.b, "+85251230010"), "")
	}, apitest.WithConfig(func(c *config.Config) {
		c.Guard.PrefixVolume = 5
		c.Guard.CountryVolume = 0
	}))
}

// TestCountryConversion: sends spread over a country's prefixes.
func TestCountryConversion(t *testing.T) {
	stores(t, func(t *testing.T, r *rig) {
		for i := range 6 {
			n := fmt.Sprintf("+65%d1234567", 8+i%2) // SG mobiles, two prefixes
			n = n[:len(n)-1] + fmt.Sprint(i)
			want(t, "SG", sendContact(t, r.a, n), "")
			if i == 0 {
				verifyContact(t, r.b, r.a, n)
			}
		}
		r.advance(ttl + 2*bucket)
		want(t, "SG after one in six verified", sendVerifyCode(t, r.b, "65", "91230000"), "FailedOperation.SendVerifyCodeLimit")
		want(t, "GetChatappVerifyCode to SG", chatapp(t, r.a, "6581230001", "sms"), "System.LimitControl")
		want(t, "HK", sendVerifyCode(t, r.b, "852", "51234567"), "")
		if !strings.Contains(r.logs(), `"reason":"country_conversion","country":"SG"`) {
			t.Fatal("no country_conversion refusal for SG in the log")
		}
	}, apitest.WithConfig(func(c *config.Config) {
		c.Guard.PrefixVolume = 0
		c.Guard.CountryVolume = 6
	}))
}

// guardAccounts is the development account with guard settings.
func guardAccounts(t *testing.T, guard string) apitest.Option {
	t.Helper()
	reg, err := accounts.Parse("test", []byte(accounts.DevYAML+guard), os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	return apitest.WithAccounts(reg)
}

func TestAllowListsAndTestNumbersExempt(t *testing.T) {
	stores(t, func(t *testing.T, r *rig) {
		// An allow-listed number skips the number type too.
		want(t, "allow-listed premium number", sendVerifyCode(t, r.a, "44", "9012345678"), "")
		want(t, "another premium number", sendVerifyCode(t, r.a, "44", "9012345679"), "InvalidParameterValue")
		for i := range 35 {
			want(t, "allow-listed prefix", sendVerifyCode(t, r.a, "852", fmt.Sprintf("5125%04d", i)), "")
			want(t, "allow-listed country", sendVerifyCode(t, r.b, "65", fmt.Sprintf("9123%04d", i)), "")
		}
		for i := range 30 {
			want(t, "fill a prefix", sendVerifyCode(t, r.a, "852", fmt.Sprintf("5126%04d", i)), "")
		}
		want(t, "the full prefix", sendVerifyCode(t, r.a, "852", "51260030"), "FailedOperation.SendVerifyCodeLimit")
		want(t, "a test number in the full prefix", sendVerifyCode(t, r.a, "852", "51269999"), "")
	}, guardAccounts(t, `    guard:
      allow_countries: [SG]
      allow_prefixes: ["+8525125"]
      allow_numbers: ["+44 90 1234 5678"]
`), apitest.WithConfig(func(c *config.Config) {
		c.Delivery.TestNumbers = map[string]string{"+85251269999": "123456"}
	}))
}

// budgetOptions run the budget test with SMS at 1.00 and voice calls at 2.00.
func budgetOptions(t *testing.T) []apitest.Option {
	return []apitest.Option{
		guardAccounts(t, "    guard: {daily_budget: 3, monthly_budget: 5}\n"),
		func(_ *config.Config, o *app.Options) {
			o.Prices = setup.Fixed(delivery.Prices{delivery.SMS: {"": 1_000_000}, delivery.Voice: {"": 2_000_000}})
		},
	}
}

func TestBudgets(t *testing.T) {
	// On the memory store the engine's clock is set to the 30th of January
	// and moved to the next day and the next month. It runs ahead of the
	// real time that the front doors pass to the store (a nonce claim, a
	// rate), so that their sweeps find nothing of it expired.
	clk := testclock.New(time.Date(time.Now().Year()+1, 1, 30, 12, 0, 0, 0, time.UTC))
	opts := append(budgetOptions(t), apitest.WithConfig(policy), apitest.WithEngineClock(clk))
	s := apitest.Start(t, opts...)
	for i := range 3 {
		want(t, "within the day's budget", sendVerifyCode(t, s, "852", fmt.Sprintf("51%d34567", 2+i)), "")
	}
	want(t, "over the day's budget", sendVerifyCode(t, s, "852", "55234567"), "FailedOperation.SendVerifyCodeLimit")
	want(t, "again", sendContact(t, s, "+85256234567"), "RequestLimitExceeded")
	want(t, "a voice call", chatapp(t, s, "85221234567", "voice"), "System.LimitControl")
	if n := strings.Count(s.Logs(), "spend budget reached"); n != 1 {
		t.Fatalf("%d budget warnings, want one", n)
	}
	if n := len(s.Messages(t)); n != 3 {
		t.Fatalf("%d messages, want 3", n)
	}
	clk.Advance(24 * time.Hour) // the 31st
	want(t, "the next day", sendVerifyCode(t, s, "852", "59234567"), "")
	want(t, "the next day's second: the month's fifth", sendVerifyCode(t, s, "852", "61234567"), "")
	want(t, "over the month's budget", sendVerifyCode(t, s, "852", "62345678"), "FailedOperation.SendVerifyCodeLimit")
	if !strings.Contains(s.Logs(), `"reason":"monthly_budget"`) {
		t.Fatal("no monthly_budget refusal in the log")
	}
	clk.Advance(24 * time.Hour) // the 1st of February
	want(t, "the next month", sendVerifyCode(t, s, "852", "63456789"), "")

	// On Redis, within the day. Redis counts days by its own clock, so the
	// test kit's clock (shared by both instances through Redis) is moved to
	// the coming noon, UTC: the test cannot straddle midnight.
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		o := append(budgetOptions(t), apitest.WithConfig(policy), apitest.WithConfig(func(c *config.Config) { c.Store = srv.URL() }))
		a, b := apitest.Start(t, o...), apitest.Start(t, o...)
		now := time.Now().UTC()
		noon := time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, time.UTC)
		if noon.Before(now) {
			noon = noon.Add(24 * time.Hour)
		}
		resp, err := http.Post(a.URL+"/_verifyfn/clock", "application/json",
			strings.NewReader(`{"advance":"`+noon.Sub(now).Truncate(time.Second).String()+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("advancing the clock: %s", resp.Status)
		}
		want(t, "first", sendVerifyCode(t, a, "852", "52234567"), "")
		want(t, "second", sendVerifyCode(t, b, "852", "53234567"), "")
		want(t, "third", sendContact(t, a, "+85254234567"), "")
		want(t, "over the day's budget", sendVerifyCode(t, b, "852", "55234567"), "FailedOperation.SendVerifyCodeLimit")
		want(t, "again", sendVerifyCode(t, a, "852", "56234567"), "FailedOperation.SendVerifyCodeLimit")
		if n := strings.Count(a.Logs()+b.Logs(), "spend budget reached"); n != 1 {
			t.Fatalf("%d budget warnings over two instances, want one", n)
		}
	})
}

// TestFailsClosedWhenRedisStops: with Redis gone, a send answers its store
// error and sends nothing.
func TestFailsClosedWhenRedisStops(t *testing.T) {
	srv := redistest.Start(t)
	s := apitest.Start(t, apitest.WithConfig(policy), apitest.WithConfig(func(c *config.Config) { c.Store = srv.URL() }))
	want(t, "with Redis", sendVerifyCode(t, s, "852", "51234567"), "")
	srv.Kill()
	want(t, "without Redis", sendVerifyCode(t, s, "852", "51234568"), "InternalError")
	want(t, "GetChatappVerifyCode without Redis", chatapp(t, s, "85251234569", "sms"), "ServiceUnavailable")
	if n := len(s.Messages(t)); n != 1 {
		t.Fatalf("%d messages, want the one sent before Redis stopped", n)
	}
}
