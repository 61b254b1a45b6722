// Package config reads verifyfn's configuration from environment variables
// into one typed struct and validates it. It is read once, in main.
package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/storeopen"
)

// Config is the whole configuration. Every field has an environment variable;
// see the README's configuration table.
type Config struct {
	Addr             string         // VERIFYFN_ADDR, default 127.0.0.1:9000
	MetricsAddr      string         // VERIFYFN_METRICS_ADDR: metrics and health listener, "" (each entry point's default) or "off"
	AccountsFile     string         // VERIFYFN_ACCOUNTS: YAML file; empty = the local development account
	AccountsYAML     string         // VERIFYFN_ACCOUNTS_YAML: the accounts YAML itself, instead of a file
	CodeKey          []byte         // VERIFYFN_CODE_KEY: HMAC key for code digests, >= 16 bytes
	Outbox           string         // VERIFYFN_OUTBOX: development outbox file, default ./verifyfn-outbox.jsonl
	Store            string         // VERIFYFN_STORE: "memory" (default), "file:PATH", "redis://...", "rediss://...", "redis+cluster://h1:p,h2:p"
	LogLevel         string         // VERIFYFN_LOG_LEVEL: debug, info (default), warn, error
	CodeTTL          time.Duration  // VERIFYFN_CODE_TTL, default 10m, at most 10m
	MaxAttempts      int            // VERIFYFN_MAX_ATTEMPTS, default 5
	Cooldown         time.Duration  // VERIFYFN_RESEND_COOLDOWN, default 60s
	Windows          []store.Window // VERIFYFN_SEND_WINDOWS, default "5/1h,10/24h"
	RateLimit        int            // VERIFYFN_RATE_LIMIT: requests per second per account and action, default 20
	CAMSRateLimit    int            // VERIFYFN_CAMS_RATE_LIMIT: the same for the cams actions, default 10 (CAMS's documented QPS)
	UnsupportedAreas []int          // VERIFYFN_UNSUPPORTED_COUNTRY_CODES, default "7,380,86"
	TrustedHostHdr   string         // VERIFYFN_TRUSTED_HOST_HEADER: header carrying the signed host behind a proxy
	SMHCodeLength    int            // VERIFYFN_SMH_CODE_LENGTH: digits of SendSmsCode codes, 4 to 10, default 6
	Env              string         // VERIFYFN_ENV: development (default), test, staging or production
	Delivery         Delivery       // VERIFYFN_DELIVERY, VERIFYFN_TEMPLATES, VERIFYFN_TEST_NUMBERS, ... (delivery.go)
	Guard            Guard          // VERIFYFN_GUARD* (guard.go)
	Control          Control        // VERIFYFN_CONTROL, VERIFYFN_CONTROL_TOKEN: the test kit's control plane (control.go)
}

// FromEnv reads the configuration through getenv (os.Getenv in main).
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Addr:           or(getenv("VERIFYFN_ADDR"), "127.0.0.1:9000"),
		AccountsFile:   getenv("VERIFYFN_ACCOUNTS"),
		AccountsYAML:   getenv("VERIFYFN_ACCOUNTS_YAML"),
		Outbox:         or(getenv("VERIFYFN_OUTBOX"), "./verifyfn-outbox.jsonl"),
		Store:          or(getenv("VERIFYFN_STORE"), "memory"),
		LogLevel:       or(getenv("VERIFYFN_LOG_LEVEL"), "info"),
		TrustedHostHdr: getenv("VERIFYFN_TRUSTED_HOST_HEADER"),
		MetricsAddr:    getenv("VERIFYFN_METRICS_ADDR"),
	}
	var errs []error
	if c.AccountsFile != "" && c.AccountsYAML != "" {
		errs = append(errs, errors.New("set VERIFYFN_ACCOUNTS or VERIFYFN_ACCOUNTS_YAML, not both"))
	}
	if k := getenv("VERIFYFN_CODE_KEY"); k != "" {
		if len(k) < 16 {
			errs = append(errs, errors.New("VERIFYFN_CODE_KEY must be at least 16 bytes"))
		}
		c.CodeKey = []byte(k)
	}
	var err error
	if c.CodeTTL, err = duration(getenv, "VERIFYFN_CODE_TTL", 10*time.Minute); err != nil {
		errs = append(errs, err)
	} else if c.CodeTTL <= 0 || c.CodeTTL > 10*time.Minute {
		errs = append(errs, errors.New("VERIFYFN_CODE_TTL must be in (0, 10m]"))
	}
	if c.Cooldown, err = duration(getenv, "VERIFYFN_RESEND_COOLDOWN", time.Minute); err != nil {
		errs = append(errs, err)
	}
	if c.MaxAttempts, err = integer(getenv, "VERIFYFN_MAX_ATTEMPTS", 5); err != nil {
		errs = append(errs, err)
	}
	if c.SMHCodeLength, err = integer(getenv, "VERIFYFN_SMH_CODE_LENGTH", 6); err != nil || c.SMHCodeLength < 4 || c.SMHCodeLength > 10 {
		errs = append(errs, errors.New("VERIFYFN_SMH_CODE_LENGTH must be 4 to 10"))
	}
	if c.RateLimit, err = integer(getenv, "VERIFYFN_RATE_LIMIT", 20); err != nil || c.RateLimit < 1 {
		errs = append(errs, errors.New("VERIFYFN_RATE_LIMIT must be a positive integer"))
	}
	if c.CAMSRateLimit, err = integer(getenv, "VERIFYFN_CAMS_RATE_LIMIT", 10); err != nil || c.CAMSRateLimit < 1 {
		errs = append(errs, errors.New("VERIFYFN_CAMS_RATE_LIMIT must be a positive integer"))
	}
	if c.Windows, err = ParseWindows(or(getenv("VERIFYFN_SEND_WINDOWS"), "5/1h,10/24h")); err != nil {
		errs = append(errs, fmt.Errorf("VERIFYFN_SEND_WINDOWS: %w", err))
	}
	if c.UnsupportedAreas, err = intList(or(getenv("VERIFYFN_UNSUPPORTED_COUNTRY_CODES"), "7,380,86")); err != nil {
		errs = append(errs, fmt.Errorf("VERIFYFN_UNSUPPORTED_COUNTRY_CODES: %w", err))
	}
	if a := c.MetricsAddr; a != "" && a != "off" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("VERIFYFN_METRICS_ADDR=%q: want HOST:PORT or off", a))
		}
	}
	if err := storeopen.Validate(c.Store); err != nil {
		errs = append(errs, fmt.Errorf("VERIFYFN_STORE=%q: %w", storeopen.Redact(c.Store), err))
	}
	errs = append(errs, c.readDelivery(getenv)...)
	errs = append(errs, c.readGuard(getenv)...)
	if !c.Guard.Off && c.CodeTTL >= c.Guard.Window {
		errs = append(errs, errors.New("VERIFYFN_GUARD_CONVERSION_WINDOW must be longer than VERIFYFN_CODE_TTL"))
	}
	errs = append(errs, c.readControl(getenv)...)
	return c, errors.Join(errs...)
}

// Loopback reports whether addr listens only on a loopback address.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ParseWindows parses "5/1h,10/24h" into send windows.
func ParseWindows(s string) ([]store.Window, error) {
	var out []store.Window
	for part := range strings.SplitSeq(s, ",") {
		n, d, ok := strings.Cut(strings.TrimSpace(part), "/")
		if !ok {
			return nil, fmt.Errorf("%q is not COUNT/DURATION", part)
		}
		max, err := strconv.Atoi(n)
		if err != nil || max < 1 {
			return nil, fmt.Errorf("%q: count must be a positive integer", part)
		}
		per, err := time.ParseDuration(d)
		if err != nil || per <= 0 {
			return nil, fmt.Errorf("%q: bad duration", part)
		}
		out = append(out, store.Window{Period: per, Max: max})
	}
	return out, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func duration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

func integer(getenv func(string) string, name string, def int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return n, nil
}

func intList(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(part), "+")))
		if err != nil {
			return nil, fmt.Errorf("%q is not a country calling code", part)
		}
		out = append(out, n)
	}
	return out, nil
}
