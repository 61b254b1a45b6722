package hardening_test

import (
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/config"
)

// attemptCap is the default number of wrong guesses that burn a code.
const attemptCap = 5

// family is one send/check pair of actions and the codes its check answers.
type family struct {
	name       string
	send       api
	sendParams map[string]any
	to         string // the destination as the outbox records it
	check      api
	withCode   func(code string) map[string]any
	wrong      string // a wrong code was evaluated against the live code
	spent      string // no live code to evaluate: burned, used, expired or never sent
}

var families = []family{
	{
		name: "smh VerifySmsCode",
		send: sendSmsCode, sendParams: map[string]any{"Purpose": "BindSuperAdmin", "PhoneNumber": "13900000001", "InstanceId": accounts.DevInstanceID},
		to:    "+8613900000001",
		check: verifySmsCode,
		withCode: func(code string) map[string]any {
			return map[string]any{"Purpose": "BindSuperAdmin", "PhoneNumber": "13900000001", "InstanceId": accounts.DevInstanceID, "Code": code}
		},
		wrong: "UnauthorizedOperation.SmsCode", spent: "UnauthorizedOperation.SmsCodeExceeded",
	},
	{
		name: "domain CreateIntlPhoneEmail",
		send: sendContactCode, sendParams: map[string]any{"Type": 2, "Code": "victim@example.com"},
		to:    "victim@example.com",
		check: createContact,
		withCode: func(code string) map[string]any {
			return map[string]any{"Type": 2, "Code": "victim@example.com", "VerifyCode": code}
		},
		wrong: "InternalError.VerifyCodeErr", spent: "InternalError.CheckVerifyCodeErr",
	},
}

// startForGuessing boots the real stack with the per-account request rate
// out of the way, so that every guess reaches the code check: the worst
// case for the defender.
func startForGuessing(t *testing.T) *apitest.Server {
	return apitest.Start(t, apitest.WithConfig(func(c *config.Config) { c.RateLimit = 1_000_000 }))
}

// wrongCodes returns n distinct codes of the right shape, none equal to code.
func wrongCodes(code string, n int) []string {
	c, _ := strconv.Atoi(code)
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%06d", (c+1+i)%1_000_000)
	}
	return out
}

// guessAll sends a wrong guess for each code over conns parallel
// connections and counts the answers by code.
func guessAll(t *testing.T, s *apitest.Server, f family, codes []string, conns int) map[string]int {
	t.Helper()
	reqs := make([]*http.Request, len(codes))
	for i, c := range codes {
		reqs[i] = request(t, s, f.check, f.withCode(c))
	}
	return parallel(t, reqs, conns)
}

// checkOnlyWrongAndSpent fails unless every answer is f.wrong or f.spent.
func checkOnlyWrongAndSpent(t *testing.T, f family, counts map[string]int) {
	t.Helper()
	other := maps.Clone(counts)
	delete(other, f.wrong)
	delete(other, f.spent)
	if len(other) > 0 {
		t.Fatalf("answers other than %s and %s: %v", f.wrong, f.spent, other)
	}
}

// TestBruteForceOneCode fires 1,000 wrong guesses at one code over 50
// parallel connections (security.md 4.1 and 4.4, the Keycloak race test of
// peers.md 4): at most the attempt cap is ever evaluated (attemptCap-1
// answers say "wrong code", the attemptCap-th burns the code, every later
// guess is refused without being compared), and the right code fails
// afterwards.
func TestBruteForceOneCode(t *testing.T) {
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			s := startForGuessing(t)
			mustOK(t, s, f.send, f.sendParams)
			code := s.LastCode(t, f.to)

			counts := guessAll(t, s, f, wrongCodes(code, 1000), 50)
			t.Logf("1000 wrong guesses over 50 connections: %v", counts)
			checkOnlyWrongAndSpent(t, f, counts)
			if got, want := counts[f.wrong], attemptCap-1; got != want {
				t.Fatalf("%d guesses were compared and found wrong, want exactly %d (the %dth burns the code)", got, want, attemptCap)
			}
			if ans := call(t, s, f.check, f.withCode(code)); ans.Code != f.spent {
				t.Fatalf("the right code after the attempt cap: %q, want %s", ans.Code, f.spent)
			}
		})
	}
}

// TestResendDoesNotRefillBudget spends 3 guesses on a live code, resends
// after the cooldown, then fires 1,000 wrong guesses at the new code in
// parallel: only the 2 attempts left are evaluated, because a resend carries
// the attempts of the live code it replaces (NIST SP 800-63B: a new
// authentication secret SHALL NOT reset the failed-attempt count;
// security.md 4.2).
func TestResendDoesNotRefillBudget(t *testing.T) {
	const spentBefore = 3
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			s := startForGuessing(t)
			mustOK(t, s, f.send, f.sendParams)
			first := s.LastCode(t, f.to)
			for _, c := range wrongCodes(first, spentBefore) {
				if ans := call(t, s, f.check, f.withCode(c)); ans.Code != f.wrong {
					t.Fatalf("wrong guess on the live code: %q, want %s", ans.Code, f.wrong)
				}
			}
			s.Clock.Advance(61 * time.Second) // past the resend cooldown
			mustOK(t, s, f.send, f.sendParams)
			second := s.LastCode(t, f.to)

			counts := guessAll(t, s, f, wrongCodes(second, 1000), 50)
			t.Logf("after %d spent and a resend, 1000 wrong guesses: %v", spentBefore, counts)
			checkOnlyWrongAndSpent(t, f, counts)
			if got, want := counts[f.wrong], attemptCap-spentBefore-1; got != want {
				t.Fatalf("%d guesses compared against the resent code, want %d: the resend refilled the budget", got, want)
			}
			for _, c := range []string{second, first} {
				if ans := call(t, s, f.check, f.withCode(c)); ans.Code != f.spent {
					t.Fatalf("code %s after the attempt cap: %q, want %s", c, ans.Code, f.spent)
				}
			}
		})
	}
}

// TestGuessesPerDayBounded burns every code one destination can be sent in
// a day, trying to send every 10 minutes: the send windows (default 5 an
// hour, 10 a day) bound the guesses evaluated against that destination to
// 10 x 5 = 50 a day, below NIST SP 800-63B's 100 consecutive failures
// (security.md 4.2: a new flow for the same destination adds no budget past
// the caps).
func TestGuessesPerDayBounded(t *testing.T) {
	f := families[0]
	s := startForGuessing(t)
	sends, evaluated := 0, 0
	for step := 0; step < 24*6; step++ {
		if step > 0 {
			s.Clock.Advance(10 * time.Minute)
		}
		if ans := call(t, s, f.send, f.sendParams); ans.Code != "" {
			if ans.Code != "RequestLimitExceeded.SendSms" {
				t.Fatalf("send refused with %q, want RequestLimitExceeded.SendSms", ans.Code)
			}
			continue
		}
		sends++
		code := s.LastCode(t, f.to)
		counts := guessAll(t, s, f, wrongCodes(code, 20), 5)
		checkOnlyWrongAndSpent(t, f, counts)
		evaluated += counts[f.wrong]
		if counts[f.spent] > 0 {
			evaluated++ // the guess that burned the code was compared too
		}
		if ans := call(t, s, f.check, f.withCode(code)); ans.Code != f.spent {
			t.Fatalf("the right code after burning: %q", ans.Code)
		}
	}
	t.Logf("in 24 h: %d codes sent, %d guesses evaluated", sends, evaluated)
	if sends != 10 {
		t.Fatalf("%d codes sent to one number in 24 h, want the daily cap of 10", sends)
	}
	if evaluated > 10*attemptCap || evaluated > 100 {
		t.Fatalf("%d guesses evaluated in 24 h, want at most %d", evaluated, 10*attemptCap)
	}
}
