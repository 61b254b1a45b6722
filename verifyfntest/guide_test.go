package verifyfntest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/verifyfn/verifyfn/verifyfntest"
)

// TestSignUp drives a sign-up through the official Tencent SDK against an
// in-process verifyfn: the happy path, a throttled send, and an expired code.
func TestSignUp(t *testing.T) {
	srv := verifyfntest.Start(t)
	cp := profile.NewClientProfile()
	cp.HttpProfile.Endpoint = srv.Endpoint // 127.0.0.1:<port>
	cp.HttpProfile.Scheme = "HTTP"
	client := common.NewCommonClient(common.NewCredential(srv.SecretID, srv.SecretKey), "", cp)
	call := func(action string, params map[string]any) string { // the error code, "" on success
		t.Helper()
		req := tchttp.NewCommonRequest("intlpartnersmgt", "2022-09-28", action)
		req.SetActionParameters(params)
		err := client.Send(req, tchttp.NewCommonResponse())
		var apiErr *tcerrors.TencentCloudSDKError
		if err != nil && !errors.As(err, &apiErr) {
			t.Fatal(err)
		}
		if apiErr != nil {
			return apiErr.GetCode()
		}
		return ""
	}
	createAccount := func(phone, mail, code string) string {
		return call("CreateAccount", map[string]any{"AccountType": "personal", "Mail": mail,
			"Password": "Passw0rd!", "ConfirmPassword": "Passw0rd!", "CountryCode": "852", "PhoneNum": phone,
			"Area": "HK", "TradeOne": "kghy_01", "TradeTwo": "kghy_0101", "VerifyCode": code})
	}

	// The happy path: the code the server sent creates the account.
	if got := call("SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}); got != "" {
		t.Fatalf("SendVerifyCode: %s", got)
	}
	code := srv.LatestCode(t, "+85251234567") // waits for the message, never sleeps
	if got := createAccount("51234567", "alice@example.com", code); got != "" {
		t.Fatalf("CreateAccount: %s", got)
	}

	// A fault: the next send is throttled, exactly as Tencent answers it.
	srv.Fail("intlpartnersmgt", "SendVerifyCode", "FailedOperation.SendVerifyCodeLimit", 1)
	if got := call("SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234568"}); got != "FailedOperation.SendVerifyCodeLimit" {
		t.Fatalf("throttled send: %q", got)
	}

	// The clock: a code is refused once its 10 minutes are over.
	call("SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "51234568"})
	code = srv.LatestCode(t, "+85251234568")
	srv.Advance(11 * time.Minute)
	if got := createAccount("51234568", "bob@example.com", code); got != "FailedOperation.VerificationCodeIllegal" {
		t.Fatalf("expired code: %q", got)
	}
}
