// Command verifyfn runs every verifyfn function on one local port, on the
// embedded store with durable records in ./verifyfn.db (VERIFYFN_STORE), and
// calls it like tccli does:
//
//	verifyfn                                   serve (VERIFYFN_ADDR, default 127.0.0.1:9000)
//	verifyfn --accounts accounts.yaml          serve with an accounts file
//	verifyfn call intlpartnersmgt SendVerifyCode CountryCode=852 PhoneNum=51234567
//	verifyfn call cams GetChatappVerifyCode CustSpaceId=cams-kei123 PhoneNumber=85251234567 Method=sms Locale=en
//	verifyfn bench --mix SendVerifyCode        the load harness (docs/benchmarks.md)
//	verifyfn help [call|bench]                 every command and flag
//
// In "call", K=V sends V as a string and K:=V sends V as raw JSON (Type:=1).
// Tencent services are called through the official tencentcloud-sdk-go
// client, cams through the official darabonba-openapi client.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
