package loadgen_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/loadgen"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/delivery"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.b.Bytes())
}

var (
	uuidV4    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	digitRuns = regexp.MustCompile(`[0-9]+`)
)

// TestLogsUnderLoadHoldNoCodeSecretOrNumber runs a few thousand requests of
// the mixed workload through the real stack with the binary's JSON logger
// at debug level, then searches every log line for every code delivered,
// the secrets and every number and address used (security.md 2, goal 4).
//
// The request_id (a random UUID) and time fields are checked for their
// format and left out of the search: they are produced by the server from
// crypto/rand and the clock, and hex or nanosecond digits would otherwise
// match some 6-digit code by chance. Codes and national numbers are matched
// as whole runs of digits; full numbers, addresses and secrets as
// substrings.
func TestLogsUnderLoadHoldNoCodeSecretOrNumber(t *testing.T) {
	var logs syncBuffer
	var mu sync.Mutex
	codes := map[string]bool{}
	codeKey := "hygiene-code-key-0123456789abcdef"
	res, err := loadgen.Load(context.Background(), loadgen.Config{
		Requests: 3000, Conns: 8, Duration: 2 * time.Minute, Warmup: -1,
		Logger:  app.NewLogger(&logs, "debug"),
		CodeKey: []byte(codeKey),
		OnMessage: func(m delivery.Message) {
			mu.Lock()
			codes[m.Code] = true
			mu.Unlock()
		},
		KeepDestinations: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Phases[0]
	if p.Requests < 3000 || p.Failures > 0 {
		t.Fatalf("%d requests, %d failures", p.Requests, p.Failures)
	}
	if len(codes) < 100 {
		t.Fatalf("only %d codes delivered", len(codes))
	}

	// What must not appear.
	secrets := []string{accounts.DevSecretKey, codeKey}
	var substrings []string // full numbers and addresses
	runs := map[string]string{}
	for c := range codes {
		runs[c] = "code " + c
	}
	for _, d := range res.Destinations {
		substrings = append(substrings, d)
		if e164, ok := strings.CutPrefix(d, "+"); ok {
			runs[e164] = "number " + d
			for _, cc := range []string{"852", "86"} {
				if national, ok := strings.CutPrefix(e164, cc); ok {
					runs[national] = "number " + d
				}
			}
		}
	}
	t.Logf("%d requests; searching the log for %d codes, %d numbers and addresses, %d secrets",
		p.Requests, len(codes), len(res.Destinations), len(secrets))

	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(logs.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines++
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line %d is not JSON: %s", lines, sc.Bytes())
		}
		if id, ok := rec["request_id"]; ok {
			if s, _ := id.(string); s != "" && !uuidV4.MatchString(s) {
				t.Fatalf("request_id %q is not a UUID", s)
			}
			delete(rec, "request_id")
		}
		if ts, _ := rec["time"].(string); ts != "" {
			if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
				t.Fatalf("time %q: %v", ts, err)
			}
			delete(rec, "time")
		}
		rest, _ := json.Marshal(rec)
		line := string(rest)
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Fatalf("a secret is logged: %s", line)
			}
		}
		lower := strings.ToLower(line)
		for _, s := range substrings {
			if strings.Contains(lower, strings.ToLower(s)) {
				t.Fatalf("%s is logged in full: %s", s, line)
			}
		}
		for _, r := range digitRuns.FindAllString(line, -1) {
			if what, ok := runs[r]; ok {
				t.Fatalf("%s is logged: %s", what, line)
			}
		}
	}
	if lines < int(p.Requests) {
		t.Fatalf("%d log lines for %d requests: the logger is not the server's", lines, p.Requests)
	}
}
