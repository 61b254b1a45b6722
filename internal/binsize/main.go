// Command binsize builds every function as make build does (CGO_ENABLED=0,
// -trimpath, -ldflags "-s -w", -tags lambda.norpc) with every delivery
// provider, with none (only the outbox) and with each one alone, for
// linux/amd64 and linux/arm64, and prints the stripped sizes as a Markdown
// table: what each function and each provider costs, from real builds.
//
//	go run ./internal/binsize
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

var (
	functions = []string{"sendverify", "sendsms", "verifycontact", "chatappcode"}
	providers = []string{"tencent_sms", "aliyun_sms", "twilio", "smtp", "webhook"}
	archs     = []string{"amd64", "arm64"}
)

func main() {
	dir, err := os.MkdirTemp("", "binsize")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	sets := []struct{ name, tags string }{{"every provider (default)", "lambda.norpc"}, {"outbox only", "lambda.norpc,verifyfn_providers"}}
	for _, p := range providers {
		sets = append(sets, struct{ name, tags string }{"PROVIDERS=" + p, "lambda.norpc,verifyfn_providers,provider_" + p})
	}
	fmt.Printf("| build | %s |\n|---|%s\n", strings.Join(functions, " | "), strings.Repeat("---|", len(functions)))
	for _, arch := range archs {
		for _, set := range sets {
			row := []string{set.name + ", " + arch}
			for _, fn := range functions {
				out := filepath.Join(dir, fn)
				cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-tags", set.tags, "-o", out, "./functions/"+fn)
				cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
				if b, err := cmd.CombinedOutput(); err != nil {
					fail(fmt.Errorf("go build -tags %s ./functions/%s: %v\n%s", set.tags, fn, err, b))
				}
				st, err := os.Stat(out)
				if err != nil {
					fail(err)
				}
				row = append(row, fmt.Sprintf("%.2f MiB", float64(st.Size())/(1<<20)))
			}
			fmt.Printf("| %s |\n", strings.Join(row, " | "))
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "binsize:", err)
	os.Exit(1)
}
