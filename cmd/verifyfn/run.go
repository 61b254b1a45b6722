package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/verifyfn/verifyfn/internal/loadgen"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app/all"
	"github.com/verifyfn/verifyfn/shared/config"
)

// versions maps each served Tencent service to its API version.
var versions = map[string]string{
	"intlpartnersmgt": "2022-09-28",
	"smh":             "2021-07-12",
	"domain":          "2018-08-08",
}

// usage is the top-level help.
const usage = `verifyfn serves the verification-code APIs of Tencent Cloud (smh, intlpartnersmgt, domain)
and Alibaba Cloud (cams) on one local port, for the official SDKs to call.

usage:
  verifyfn [serve] [--addr HOST:PORT] [--accounts FILE] [--cpuprofile FILE]
      serve every function (default 127.0.0.1:9000, embedded store in ./verifyfn.db), with
      /metrics, /healthz and /readyz on 127.0.0.1:9190 (VERIFYFN_METRICS_ADDR, docs/operations.md);
      configuration comes from VERIFYFN_* variables (docs/configuration.md)
  verifyfn call [flags] SERVICE ACTION [K=V | K:=JSON]...
      call an action through the official SDK client (run "verifyfn call --help")
  verifyfn bench [flags]
      the load harness: requests/s, latency and CPU against a ceiling (run "verifyfn bench --help")
  verifyfn help [COMMAND]
      this text, or a command's flags
`

// run is the whole program; main only wires signals and the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "call":
		return call(args, getenv, stdout, stderr)
	case "bench":
		return loadgen.Run(ctx, args, getenv, stdout, stderr)
	case loadgen.BareCommand:
		// Hidden: the bare-envelope server `bench --spawn` starts.
		return loadgen.ServeBare(ctx, args, stderr)
	case "help":
		if len(args) > 0 && args[0] != "serve" {
			return run(ctx, []string{args[0], "--help"}, getenv, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	case "", "serve":
	default:
		fmt.Fprintf(stderr, "verifyfn: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	fs := flag.NewFlagSet("verifyfn", flag.ContinueOnError)
	fs.SetOutput(stderr)
	accountsFile := fs.String("accounts", "", "accounts YAML file (overrides VERIFYFN_ACCOUNTS)")
	addr := fs.String("addr", "", "listen address (overrides VERIFYFN_ADDR; default 127.0.0.1:9000)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the server's whole life to this file, on shutdown (SIGTERM or interrupt)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fmt.Fprintln(stderr, "\nserve flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "verifyfn: unexpected argument %q\n", fs.Arg(0))
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
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "verifyfn: --cpuprofile: %v\n", err)
			return 2
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	return all.RunServer(ctx, cfg, nil, stderr)
}

// callUsage lists what call can call, and how it signs.
const callUsage = `usage: verifyfn call [flags] SERVICE ACTION [K=V | K:=JSON]...

Calls ACTION through the official SDK client: tencentcloud-sdk-go's common client for the Tencent
services, darabonba-openapi for cams. K=V sends V as a string, K:=JSON a raw JSON value (Type:=1).

services and actions:
  intlpartnersmgt 2022-09-28  SendVerifyCode, CreateAccount, GetTradeConfigList, GetCountryCodes
  smh             2021-07-12  SendSmsCode, VerifySmsCode
  domain          2018-08-08  SendIntlPhoneEmailCode, CreateIntlPhoneEmail, DescribeIntlPhoneEmailList,
                              DeleteIntlPhoneEmail
  cams            2020-06-06  GetChatappVerifyCode, ChatappVerifyAndRegister

flags:
  --endpoint HOST:PORT   the server (VERIFYFN_ENDPOINT; default 127.0.0.1:9000), called over http
  --secret-id ID         SecretId / AccessKeyId (VERIFYFN_SECRET_ID; default the development credential)
  --secret-key KEY       SecretKey / AccessKeySecret (VERIFYFN_SECRET_KEY; default the development key)
  --method POST|GET      HTTP method (default POST; cams calls are POST, as its SDK sends them)
  --sign METHOD          the signature:
                           Tencent: TC3-HMAC-SHA256 (default), HmacSHA256 or HmacSHA1 (signature v1)
                           cams:    ACS3-HMAC-SHA256 (default) or HMAC-SHA1 (the RPC signature)
  --language zh-CN|en-US X-TC-Language of Tencent calls (default zh-CN, as the SDK sends): the
                         language of SMS texts and of GetTradeConfigList's names

Exit status: 0 on success, 1 when the API answers an error (printed as JSON) or the server cannot be
reached, 2 for a usage error.
`

// call signs a request with the official SDK and prints the response.
func call(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verifyfn call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", or(getenv("VERIFYFN_ENDPOINT"), "127.0.0.1:9000"), "server host:port")
	secretID := fs.String("secret-id", or(getenv("VERIFYFN_SECRET_ID"), accounts.DevSecretID), "SecretId / AccessKeyId")
	secretKey := fs.String("secret-key", or(getenv("VERIFYFN_SECRET_KEY"), accounts.DevSecretKey), "SecretKey / AccessKeySecret")
	method := fs.String("method", "POST", "HTTP method: POST or GET")
	sign := fs.String("sign", "", "signature: TC3-HMAC-SHA256, HmacSHA256, HmacSHA1; cams: ACS3-HMAC-SHA256, HMAC-SHA1")
	language := fs.String("language", "", "X-TC-Language: zh-CN or en-US")
	fs.Usage = func() { fmt.Fprint(stderr, callUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
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
	if *method != "POST" && *method != "GET" {
		fmt.Fprintf(stderr, "verifyfn call: --method is POST or GET, not %q\n", *method)
		return 2
	}
	if service == "cams" {
		return callAlibaba(*endpoint, *secretID, *secretKey, *method, *sign, action, params, stdout, stderr)
	}
	version, ok := versions[service]
	if !ok {
		fmt.Fprintf(stderr, "verifyfn call: unknown service %q (intlpartnersmgt, smh, domain or cams)\n", service)
		return 2
	}
	switch *sign {
	case "":
		*sign = "TC3-HMAC-SHA256"
	case "TC3-HMAC-SHA256", "HmacSHA256", "HmacSHA1":
	default:
		fmt.Fprintf(stderr, "verifyfn call: %s signs with TC3-HMAC-SHA256, HmacSHA256 or HmacSHA1, not %q\n", service, *sign)
		return 2
	}
	c := tcclient.New(tcclient.Options{Endpoint: *endpoint, SecretID: *secretID, SecretKey: *secretKey, Method: *method,
		SignMethod: *sign, Language: *language})
	resp, err := c.Call(service, version, action, params)
	var sdkErr *tcerr.TencentCloudSDKError
	switch {
	case errors.As(err, &sdkErr) && sdkErr.Code == "ClientError.NetworkError" && errors.Unwrap(sdkErr) != nil:
		// Not an API answer: the SDK could not reach the server.
		fmt.Fprintf(stderr, "verifyfn call: cannot reach http://%s/: %v\n", *endpoint, errors.Unwrap(sdkErr))
		return 1
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
