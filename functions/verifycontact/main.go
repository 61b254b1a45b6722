// Command verifycontact is the domain function (CreateIntlPhoneEmail, SendIntlPhoneEmailCode, DescribeIntlPhoneEmailList, DeleteIntlPhoneEmail). It serves HTTP on VERIFYFN_ADDR, as a Tencent SCF web
// function does on port 9000; configuration comes from the environment.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/services/domain"
)

func main() {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "verifycontact: configuration: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.RunServer(ctx, cfg, map[string]bool{domain.Name: true}, os.Stderr)
	stop()
	os.Exit(code)
}
