package hardening_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/acsauth"
)

const (
	camsVersion = "2020-06-06"
	otherSpace  = "cams-other01"
)

// camsCall sends a CAMS action signed with ACS3-HMAC-SHA256 as the official
// darabonba client signs it and returns the raw answer.
func camsCall(t *testing.T, s *apitest.Server, id, secret, action string, params map[string]string) answer {
	t.Helper()
	if id == "" {
		id, secret = accounts.DevSecretID, accounts.DevSecretKey
	}
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	req, err := acsauth.ACS3Request{
		Endpoint: s.URL, Action: action, Version: camsVersion, Query: q,
		AccessKeyID: id, Secret: []byte(secret), Time: s.Clock.Now(),
	}.HTTPRequest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var env struct{ RequestId, Code string }
	if err := json.Unmarshal(b, &env); err != nil || env.RequestId == "" {
		t.Fatalf("%s: not an Alibaba envelope: %s", action, b)
	}
	code := env.Code
	if code == "OK" {
		code = ""
	}
	return answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Length: resp.Header.Get("Content-Length"),
		Body: string(b), Code: code, ID: env.RequestId}
}

func camsSend(space, number string) map[string]string {
	return map[string]string{"CustSpaceId": space, "PhoneNumber": number, "Method": "sms", "Locale": "en"}
}

func camsCheck(space, number, code string) map[string]string {
	return map[string]string{"CustSpaceId": space, "PhoneNumber": number, "VerifyCode": code}
}

// TestCAMSDoesNotRevealOtherState: GetChatappVerifyCode answers the same for
// a fresh number, a number whose code expired and a number another account
// registered or has a live code for; ChatappVerifyAndRegister answers a
// wrong code the same when no code was ever sent and when it expired, and
// another account's live code, tried in the caller's own space, the same
// again.
//
// Not forced by CAMS's documents, which define no code for these cases:
// verifyfn answers VerifyCode.Mismatch for a wrong guess at a live code,
// VerifyCode.Exceeded once it burned, and PhoneNumber.AlreadyRegistered for
// a number already registered in the caller's own space, to a send and to a
// check (package cams). All three concern codes the calling account asked
// for and its own spaces; across accounts the answers are identical, as this
// test checks.
func TestCAMSDoesNotRevealOtherState(t *testing.T) {
	s := startTwoAccounts(t)
	dev := func(action string, p map[string]string) answer { return camsCall(t, s, "", "", action, p) }
	other := func(action string, p map[string]string) answer {
		return camsCall(t, s, otherID, otherSecret, action, p)
	}
	const (
		send  = "GetChatappVerifyCode"
		check = "ChatappVerifyAndRegister"
	)
	mustCAMS := func(a answer) {
		t.Helper()
		if a.Code != "" {
			t.Fatalf("CAMS call failed: %s", a.Body)
		}
	}

	// History on the development account.
	mustCAMS(dev(send, camsSend(accounts.DevCAMSSpace, "8613900000031"))) // will expire, then be sent again
	mustCAMS(dev(send, camsSend(accounts.DevCAMSSpace, "8613900000037"))) // will expire
	s.Clock.Advance(11 * time.Minute)
	mustCAMS(dev(send, camsSend(accounts.DevCAMSSpace, "8613900000032"))) // will be used: registered
	mustCAMS(dev(check, camsCheck(accounts.DevCAMSSpace, "8613900000032", s.LastCode(t, "+8613900000032"))))
	mustCAMS(dev(send, camsSend(accounts.DevCAMSSpace, "8613900000033"))) // live
	mustCAMS(dev(send, camsSend(accounts.DevCAMSSpace, "8613900000036"))) // live
	devCode36 := s.LastCode(t, "+8613900000036")

	sends := map[string]answer{
		"fresh":                         dev(send, camsSend(accounts.DevCAMSSpace, "8613900000034")),
		"expired":                       dev(send, camsSend(accounts.DevCAMSSpace, "8613900000031")),
		"registered by another account": other(send, camsSend(otherSpace, "8613900000032")),
		"live for another account":      other(send, camsSend(otherSpace, "8613900000033")),
	}
	sameAnswers(t, "GetChatappVerifyCode", sends)
	if got := sends["fresh"].Code; got != "" {
		t.Fatalf("GetChatappVerifyCode: %q", got)
	}

	wrong := func(to string) string { return wrongCodes(s.LastCode(t, to), 1)[0] }
	checks := map[string]answer{
		"never sent": dev(check, camsCheck(accounts.DevCAMSSpace, "8613900000035", "123456")),
		"expired":    dev(check, camsCheck(accounts.DevCAMSSpace, "8613900000037", wrong("+8613900000037"))),
		// The other account tries the development account's live code,
		// the right one in that account's space.
		"live for another account": other(check, camsCheck(otherSpace, "8613900000036", devCode36)),
	}
	sameAnswers(t, "ChatappVerifyAndRegister with a wrong code", checks)
	if got := checks["never sent"].Code; got == "" {
		t.Fatal("a wrong code passed")
	}
}
