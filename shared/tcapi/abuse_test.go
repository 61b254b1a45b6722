package tcapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifyfn/verifyfn/internal/apitest"
	"github.com/verifyfn/verifyfn/internal/tcclient"
	"github.com/verifyfn/verifyfn/shared/accounts"
	"github.com/verifyfn/verifyfn/shared/app"
	"github.com/verifyfn/verifyfn/shared/config"
	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/memstore"
	"github.com/verifyfn/verifyfn/shared/tcapi"
)

// countingStore records the limiter keys and nonce claims the front door
// makes, over the real embedded store.
type countingStore struct {
	*memstore.Store
	mu     sync.Mutex
	rates  map[string]int
	claims int
}

func (c *countingStore) Allow(ctx context.Context, r store.Rate, now time.Time) (bool, error) {
	c.mu.Lock()
	c.rates[r.Key]++
	c.mu.Unlock()
	return c.Store.Allow(ctx, r, now)
}

func (c *countingStore) Claim(ctx context.Context, key string, ttl time.Duration, now time.Time) (bool, error) {
	c.mu.Lock()
	c.claims++
	c.mu.Unlock()
	return c.Store.Claim(ctx, key, ttl, now)
}

func startCounting(t *testing.T) (*apitest.Server, *countingStore) {
	st := &countingStore{Store: memstore.New(), rates: map[string]int{}}
	s := apitest.Start(t, func(_ *config.Config, o *app.Options) { o.Store = st })
	return s, st
}

// tinyMembers is a JSON object of about n one-letter members: the body
// outside testing sent with a bogus TC3 header to exhaust the parser.
func tinyMembers(size int) []byte {
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i := 0; len(b) < size-16; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `"`...)
		b = strconv.AppendInt(b, int64(i), 36)
		b = append(b, `":1`...)
	}
	return append(b, '}')
}

// TestUnauthenticatedBodyCostsLittle sends the 10 MB body of ~1.1 million
// members with a bogus Authorization, with and without a Content-Length, and
// checks the answer and what the server allocated for it (memory, not time:
// the CPU figure is BenchmarkUnauthenticatedHugeBody's).
func TestUnauthenticatedBodyCostsLittle(t *testing.T) {
	s := apitest.Start(t)
	body := tinyMembers(10 << 20)
	bogus := "TC3-HMAC-SHA256 Credential=" + accounts.DevSecretID + "/2026-01-01/intlpartnersmgt/tc3_request, SignedHeaders=content-type;host, Signature=" + strings.Repeat("ab", 32)
	for _, chunked := range []bool{false, true} {
		r := httptest.NewRequest(http.MethodPost, "http://"+s.Host+"/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", bogus)
		r.Header.Set("X-TC-Action", "SendVerifyCode")
		r.Header.Set("X-TC-Version", "2022-09-28")
		r.Header.Set("X-TC-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
		if chunked {
			r.ContentLength = -1
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		w := httptest.NewRecorder()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s.App.Handler.ServeHTTP(w, r)
		runtime.ReadMemStats(&after)
		if !strings.Contains(w.Body.String(), tcapi.CodeRequestSizeLimitExceeded) {
			t.Errorf("chunked=%v: %s", chunked, w.Body)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
			t.Errorf("chunked=%v: the server allocated %d bytes for an unauthenticated request", chunked, got)
		}
	}
	// The same members within the size bound, but unsigned: refused by the
	// signature, never parsed (a parse would allocate far more than the body).
	small := tinyMembers(tcapi.DefaultMaxBody)
	sr := signed(s)
	sr.Body = small
	sr.SecretKey, sr.SecretID = "not-the-secret", accounts.DevSecretID
	r := sr.Build(t)
	w := httptest.NewRecorder()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s.App.Handler.ServeHTTP(w, r)
	runtime.ReadMemStats(&after)
	if !strings.Contains(w.Body.String(), tcapi.CodeSignatureFailure) {
		t.Errorf("bad signature over many members: %s", w.Body)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 4*uint64(len(small))+64<<10 {
		t.Errorf("the server allocated %d bytes for a %d-byte unauthenticated body", got, len(small))
	}
}

// TestTooManyFormParams: a v1 form of many members is refused before it is
// split, whatever its signature.
func TestTooManyFormParams(t *testing.T) {
	s := apitest.Start(t)
	p := v1Params(s, "51230101")
	r := v1(t, s, accounts.DevSecretKey, p)
	body := readAll(t, r) + strings.Repeat("&a=1", tcapi.MaxParams)
	r.Body, r.ContentLength = ioNop(body), int64(len(body))
	if got := apitest.Do(t, r).Code(); got != tcapi.CodeInvalidParameter {
		t.Fatalf("form of %d parameters: %q", tcapi.MaxParams+10, got)
	}
}

// TestV1ReplayAcrossNonceSpellings: the v1 string to sign joins raw k=v
// pairs, so Nonce=123 followed by Region=x signs exactly like one parameter
// Nonce="123&Region=x". A captured request re-sent in that spelling, or with
// its base64 signature spelled differently, is the same signed request and
// is refused as a replay.
func TestV1ReplayAcrossNonceSpellings(t *testing.T) {
	s := apitest.Start(t)
	p := v1Params(s, "51230201")
	p["Region"] = "ap-guangzhou"
	first := v1(t, s, accounts.DevSecretKey, p)
	raw := readAll(t, first)
	first.Body, first.ContentLength = ioNop(raw), int64(len(raw))
	if got := apitest.Do(t, first).Code(); got != "" {
		t.Fatalf("first request: %q", got)
	}
	form, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	// One parameter Nonce="48213&Region=ap-guangzhou" instead of two.
	merged := url.Values{}
	for k, v := range form {
		merged[k] = v
	}
	merged.Set("Nonce", form.Get("Nonce")+"&Region="+form.Get("Region"))
	merged.Del("Region")
	post := func(body string) string {
		r, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return apitest.Do(t, r).Code()
	}
	if got := post(merged.Encode()); got != tcapi.CodeSignatureFailure {
		t.Errorf("replay with the Nonce spelled as Nonce=\"123&Region=...\": %q, want %s", got, tcapi.CodeSignatureFailure)
	}
	// The same signature bytes in another base64 spelling (non-zero
	// padding bits in the last character).
	sig, _ := base64.StdEncoding.DecodeString(form.Get("Signature"))
	enc := base64.StdEncoding.EncodeToString(sig)
	if strings.HasSuffix(enc, "=") { // HmacSHA256: 32 bytes, one padding character, 2 spare bits
		i := strings.IndexByte(enc, '=') - 1
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		v := strings.IndexByte(alphabet, enc[i])
		alt := enc[:i] + string(alphabet[v|1]) + enc[i+1:]
		if alt != enc {
			if dec, err := base64.StdEncoding.DecodeString(alt); err != nil || !bytes.Equal(dec, sig) {
				t.Fatalf("the alternative spelling does not decode to the same bytes: %v", err)
			}
			respelled := url.Values{}
			for k, v := range form {
				respelled[k] = v
			}
			respelled.Set("Signature", alt)
			if got := post(respelled.Encode()); got != tcapi.CodeSignatureFailure {
				t.Errorf("replay with the signature spelled differently: %q", got)
			}
		}
	}
	// A fresh Nonce is a fresh request.
	p2 := v1Params(s, "51230202")
	p2["Nonce"] = "48214"
	if got := apitest.Do(t, v1(t, s, accounts.DevSecretKey, p2)).Code(); got != "" {
		t.Errorf("a fresh nonce: %q", got)
	}
}

// TestEveryAuthenticatedRequestIsRateLimited: requests for actions that do
// not exist count against the account's rate, and neither they nor any other
// refused request stores a nonce or creates a limiter key of its own.
func TestEveryAuthenticatedRequestIsRateLimited(t *testing.T) {
	s, st := startCounting(t)
	codes := map[string]int{}
	for i := range 60 {
		p := v1Params(s, "51230301")
		p["Action"] = "MadeUpAction" + strconv.Itoa(i)
		p["Nonce"] = strconv.Itoa(1000 + i)
		codes[apitest.Do(t, v1(t, s, accounts.DevSecretKey, p)).Code()]++
	}
	if codes[tcapi.CodeInvalidAction] == 0 || codes[tcapi.CodeRequestLimitExceeded] == 0 ||
		codes[tcapi.CodeInvalidAction]+codes[tcapi.CodeRequestLimitExceeded] != 60 {
		t.Errorf("60 requests for made-up actions in one second: %v, want InvalidAction then RequestLimitExceeded", codes)
	}
	st.mu.Lock()
	if st.claims != 0 {
		t.Errorf("refused requests stored %d nonces", st.claims)
	}
	if len(st.rates) != 1 {
		t.Errorf("made-up action names created %d limiter keys: %v", len(st.rates), st.rates)
	}
	st.mu.Unlock()

	// A request refused for an undefined parameter counts, and stores no nonce.
	s.Clock.Advance(2 * time.Second)
	p := v1Params(s, "51230302")
	p["Nonce"], p["Foo"] = "2000", "bar"
	if got := apitest.Do(t, v1(t, s, accounts.DevSecretKey, p)).Code(); got != tcapi.CodeUnknownParameter {
		t.Fatalf("undefined parameter: %q", got)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.claims != 0 {
		t.Errorf("a refused request stored a nonce")
	}
	if st.rates["{200000000001}:rate:intlpartnersmgt:SendVerifyCode"] != 1 {
		t.Errorf("the refused SendVerifyCode was not counted: %v", st.rates)
	}
}

// TestSelfLimitedRefusalsCount: SendVerifyCode applies its rate inside its
// store operation; requests its handler refuses before the store (a bad
// number) still count, so they are throttled like any other.
func TestSelfLimitedRefusalsCount(t *testing.T) {
	s := apitest.Start(t)
	c := s.Tencent(tcclient.Options{})
	codes := map[string]int{}
	for range 30 {
		_, err := c.Call(svc, ver, actSend, map[string]any{"CountryCode": "852", "PhoneNum": "1"})
		codes[sdkCode(t, err)]++
	}
	if codes[tcapi.CodeRequestLimitExceeded] != 10 || codes["InvalidParameterValue"] != 20 {
		t.Errorf("30 invalid sends in one second: %v, want 20 InvalidParameterValue and 10 RequestLimitExceeded", codes)
	}
}

// BenchmarkUnauthenticatedHugeBody is the CPU an attacker's 10 MB body of
// ~1.1 million members costs, with a Content-Length and without.
func BenchmarkUnauthenticatedHugeBody(b *testing.B) {
	s := apitest.Start(b)
	body := tinyMembers(10 << 20)
	bogus := "TC3-HMAC-SHA256 Credential=" + accounts.DevSecretID + "/2026-01-01/intlpartnersmgt/tc3_request, SignedHeaders=content-type;host, Signature=" + strings.Repeat("ab", 32)
	for _, chunked := range []bool{false, true} {
		b.Run("chunked="+strconv.FormatBool(chunked), func(b *testing.B) {
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "http://"+s.Host+"/", bytes.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Authorization", bogus)
				r.Header.Set("X-TC-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
				if chunked {
					r.ContentLength = -1
				}
				s.App.Handler.ServeHTTP(httptest.NewRecorder(), r)
			}
		})
	}
	b.Run("bad signature, 16 KB of members", func(b *testing.B) {
		sr := signed(s)
		sr.Body = tinyMembers(tcapi.DefaultMaxBody)
		sr.SecretKey = "not-the-secret"
		for b.Loop() {
			s.App.Handler.ServeHTTP(httptest.NewRecorder(), sr.Build(b))
		}
	})
}
