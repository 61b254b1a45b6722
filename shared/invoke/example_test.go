package invoke_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-lambda-go/events"

	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/app/all"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/invoke"
	"github.com/verifyfn/verifyfn/shared/runtime/awslambda"
)

// A Lambda function calls the sendverify function directly: it builds the
// signed event and passes it as the Payload of a Lambda Invoke call (with
// aws-sdk-go-v2: client.Invoke(ctx, &lambda.InvokeInput{FunctionName:
// aws.String("verifyfn-prod-sendverify"), Payload: payload})). Here the
// target runs in process, exactly as its Lambda adapter serves it.
func Example() {
	ev, err := invoke.LambdaV2(invoke.Request{
		Service: "intlpartnersmgt", Version: "2022-09-28", Action: "SendVerifyCode",
		Params:   map[string]string{"CountryCode": "852", "PhoneNum": "51234567"},
		SecretID: accounts.DevSecretID, SecretKey: accounts.DevSecretKey,
		Path: "/sendverify",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	payload, _ := json.Marshal(ev)

	target, done := sendverify()
	defer done()
	out, err := target.Invoke(context.Background(), payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	_ = json.Unmarshal(out, &resp)
	var body struct {
		Response struct {
			Error *struct{ Code string }
		}
	}
	_ = json.Unmarshal([]byte(resp.Body), &body)
	fmt.Println(resp.StatusCode, resp.Headers["Content-Type"], "error:", body.Response.Error)
	// Output: 200 application/json error: <nil>
}

// sendverify is the sendverify function with the development account and
// a throwaway outbox.
func sendverify() (*awslambda.Handler, func()) {
	dir, _ := os.MkdirTemp("", "invoke-example")
	cfg, _ := config.FromEnv(func(string) string { return "" })
	cfg.Outbox = filepath.Join(dir, "outbox.jsonl")
	a, err := all.New(cfg, app.Options{})
	if err != nil {
		panic(err)
	}
	return awslambda.New(a.Handler), func() { a.Close(); os.RemoveAll(dir) }
}
