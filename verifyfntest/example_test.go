package verifyfntest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/verifyfn/verifyfn/verifyfntest"
)

// tencent is the official Tencent Cloud SDK's common client, pointed at srv.
func tencent(srv *verifyfntest.Server) *common.Client {
	cp := profile.NewClientProfile()
	cp.HttpProfile.Endpoint = srv.Endpoint
	cp.HttpProfile.Scheme = "HTTP"
	cp.Language = "en-US"
	return common.NewCommonClient(common.NewCredential(srv.SecretID, srv.SecretKey), "", cp)
}

// call sends one Tencent request and returns the error code ("" on
// success).
func call(c *common.Client, service, version, action string, params map[string]any) (string, error) {
	req := tchttp.NewCommonRequest(service, version, action)
	if err := req.SetActionParameters(params); err != nil {
		return "", err
	}
	err := c.Send(req, tchttp.NewCommonResponse())
	var apiErr *tcerrors.TencentCloudSDKError
	if errors.As(err, &apiErr) {
		return apiErr.GetCode(), nil
	}
	return "", err
}

// A sign-up through the official Tencent SDK: SendVerifyCode, read the code
// the server sent, CreateAccount with it.
func Example() {
	srv, err := verifyfntest.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client := tencent(srv)

	if _, err := call(client, "intlpartnersmgt", "2022-09-28", "SendVerifyCode", map[string]any{"CountryCode": "852", "PhoneNum": "5123 4567"}); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg, err := srv.Latest(ctx, "+85251234567")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg.Channel, msg.To, len(msg.Code), "digits")

	code, err := call(client, "intlpartnersmgt", "2022-09-28", "CreateAccount", map[string]any{
		"AccountType": "personal", "Mail": "alice@example.com", "Password": "Passw0rd!", "ConfirmPassword": "Passw0rd!",
		"CountryCode": "852", "PhoneNum": "51234567", "Area": "HK", "TradeOne": "kghy_01", "TradeTwo": "kghy_0101",
		"VerifyCode": msg.Code,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("CreateAccount answered %q\n", code)
	// Output:
	// sms +85251234567 6 digits
	// CreateAccount answered ""
}

// A fault makes the next call answer a documented error, as the cloud
// would, without sending anything.
func ExampleServer_Fail() {
	srv, err := verifyfntest.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client := tencent(srv)

	srv.Fail("intlpartnersmgt", "SendVerifyCode", "FailedOperation.SendVerifyCodeLimit", 1)
	send := map[string]any{"CountryCode": "852", "PhoneNum": "51234567"}
	first, _ := call(client, "intlpartnersmgt", "2022-09-28", "SendVerifyCode", send)
	second, _ := call(client, "intlpartnersmgt", "2022-09-28", "SendVerifyCode", send)
	fmt.Printf("first %q, then %q; %d message sent\n", first, second, len(srv.Messages()))
	// Output: first "FailedOperation.SendVerifyCodeLimit", then ""; 1 message sent
}

// Advancing the clock expires a code (they live 10 minutes) without waiting.
func ExampleServer_Advance() {
	srv, err := verifyfntest.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client := tencent(srv)

	verify := map[string]any{"Purpose": "ChannelUpdateVerify", "InstanceId": srv.SMHInstance, "PhoneNumber": srv.SuperAdmin}
	if _, err := call(client, "smh", "2021-07-12", "SendSmsCode", verify); err != nil {
		log.Fatal(err)
	}
	msgs := srv.Messages()
	verify["Code"] = msgs[len(msgs)-1].Code

	srv.Advance(11 * time.Minute)
	code, _ := call(client, "smh", "2021-07-12", "VerifySmsCode", verify)
	fmt.Println(code)
	// Output: UnauthorizedOperation.SmsCode
}

// The official Alibaba SDK (darabonba-openapi) against the CAMS API: a
// delivery that fails on purpose answers CAMS's InternalError (HTTP 500),
// and a retry delivers.
func ExampleServer_FailDelivery() {
	srv, err := verifyfntest.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client, err := openapi.NewClient(&openapi.Config{
		AccessKeyId:     dara.String(srv.AccessKeyID),
		AccessKeySecret: dara.String(srv.AccessKeySecret),
		Endpoint:        dara.String(srv.Endpoint),
		Protocol:        dara.String("http"),
	})
	if err != nil {
		log.Fatal(err)
	}
	getCode := func() error {
		params := &openapi.Params{
			Action: dara.String("GetChatappVerifyCode"), Version: dara.String("2020-06-06"),
			Protocol: dara.String("HTTP"), Pathname: dara.String("/"), Method: dara.String("POST"),
			AuthType: dara.String("AK"), Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json"),
		}
		query := map[string]*string{
			"CustSpaceId": dara.String(srv.CAMSSpace), "PhoneNumber": dara.String("85261234567"),
			"Method": dara.String("sms"), "Locale": dara.String("en"),
		}
		_, err := client.CallApi(params, &openapi.OpenApiRequest{Query: query}, &dara.RuntimeOptions{})
		return err
	}

	srv.FailDelivery("cams", "GetChatappVerifyCode", 1)
	var sdkErr *tea.SDKError
	if err := getCode(); errors.As(err, &sdkErr) {
		fmt.Println(tea.StringValue(sdkErr.Code), tea.IntValue(sdkErr.StatusCode))
	}
	if err := getCode(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(srv.Messages()), "message")
	// Output:
	// InternalError 500
	// 1 message
}
