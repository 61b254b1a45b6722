package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/verifyfn/verifyfn/internal/loadgen"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
)

// versions maps each served Tencent service to its API version.
var versions = map[string]string{
	"intlpartnersmgt": "2022-09-28",
	"smh":             "2021-07-12",
	"domain":          "2018-08-08",
}

// run is the whole program; main only wires signals and the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "call" {
		return call(args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "bench" {
		return loadgen.Run(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("verifyfn", flag.ContinueOnError)
	fs.SetOutput(stderr)
	accountsFile := fs.String("accounts", "", "accounts YAML file (overrides VERIFYFN_ACCOUNTS)")
	addr := fs.String("addr", "", "listen address (overrides VERIFYFN_ADDR)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := config.FromEnv(withDefault(getenv, "VERIFYFN_STORE", DefaultStore))
	if err != nil {
		fmt.Fprintf(stderr, "verifyfn: configuration: %v\n", err)
		return 2
	}
	if *accountsFile != "" {
		cfg.AccountsFile = *accountsFile
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	return app.RunServer(ctx, cfg, nil, stderr)
}

// call signs a request with the official SDK and prints the response.
func call(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verifyfn call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", or(getenv("VERIFYFN_ENDPOINT"), "127.0.0.1:9000"), "server host:port")
	secretID := fs.String("secret-id", or(getenv("VERIFYFN_SECRET_ID"), accounts.DevSecretID), "SecretId / AccessKeyId")
	secretKey := fs.String("secret-key", or(getenv("VERIFYFN_SECRET_KEY"), accounts.DevSecretKey), "SecretKey / AccessKeySecret")
	method := fs.String("method", "POST", "HTTP method: POST or GET")
	sign := fs.String("sign", "TC3-HMAC-SHA256", "signature: TC3-HMAC-SHA256, HmacSHA256 or HmacSHA1")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: verifyfn call [flags] SERVICE ACTION [K=V | K:=JSON]...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return 2
	}
	service, action := fs.Arg(0), fs.Arg(1)
	params, err := parseParams(fs.Args()[2:])
	if err != nil {
		fmt.Fprintf(stderr, "verifyfn call: %v\n", err)
		return 2
	}
	if service == "cams" {
		return callAlibaba(*endpoint, *secretID, *secretKey, *method, *sign, action, params, stdout, stderr)
	}
	version, ok := versions[service]
	if !ok {
		fmt.Fprintf(stderr, "verifyfn call: unknown service %q\n", service)
		return 2
	}
	c := tcclient.New(tcclient.Options{Endpoint: *endpoint, SecretID: *secretID, SecretKey: *secretKey, Method: *method, SignMethod: *sign})
	resp, err := c.Call(service, version, action, params)
	var sdkErr *tcerr.TencentCloudSDKError
	switch {
	case errors.As(err, &sdkErr):
		out, _ := json.MarshalIndent(map[string]any{"Error": map[string]string{"Code": sdkErr.Code, "Message": sdkErr.Message}, "RequestId": sdkErr.RequestId}, "", "  ")
		fmt.Fprintln(stdout, string(out))
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "verifyfn call: %v\n", err)
		return 1
	}
	var pretty any
	json.Unmarshal(resp, &pretty)
	out, _ := json.MarshalIndent(pretty, "", "  ")
	fmt.Fprintln(stdout, string(out))
	return 0
}

// parseParams turns K=V (string) and K:=JSON (raw JSON) arguments into a map.
func parseParams(args []string) (map[string]any, error) {
	out := map[string]any{}
	for _, a := range args {
		if k, v, ok := strings.Cut(a, ":="); ok && !strings.Contains(k, "=") {
			var j any
			if err := json.Unmarshal([]byte(v), &j); err != nil {
				return nil, fmt.Errorf("%s: %v", k, err)
			}
			out[k] = j
			continue
		}
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("argument %q is not K=V or K:=JSON", a)
		}
		out[k] = v
	}
	return out, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// DefaultStore is the local server's store when VERIFYFN_STORE is unset: the
// embedded store with durable records in a file next to the outbox, so a
// restart keeps verified contacts, bound numbers and accounts. (The functions
// keep config's default, memory.)
const DefaultStore = "file:./verifyfn.db"

// withDefault returns getenv with a default for one variable.
func withDefault(getenv func(string) string, name, def string) func(string) string {
	return func(k string) string {
		if v := getenv(k); v != "" || k != name {
			return v
		}
		return def
	}
}
