package password

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/argon2"
)

// TestOWASPHash runs one hash at production strength: the PHC string names
// OWASP's parameters and its key is argon2id of the password and salt.
func TestOWASPHash(t *testing.T) {
	h := New(Params{}, 0)
	if h.Params() != OWASP() || OWASP() != (Params{Memory: 19456, Time: 2, Threads: 1}) {
		t.Fatalf("params %+v, want OWASP's 19 MiB, t=2, p=1", h.Params())
	}
	enc, err := h.Hash(context.Background(), "Passw0rd!")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(enc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=19456,t=2,p=1" {
		t.Fatalf("PHC string %q", enc)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) != 16 {
		t.Fatalf("salt %q: %v", parts[4], err)
	}
	want := base64.RawStdEncoding.EncodeToString(argon2.IDKey([]byte("Passw0rd!"), salt, 2, 19456, 1, 32))
	if parts[5] != want {
		t.Fatalf("key %s, want %s", parts[5], want)
	}
	if h.Runs() != 1 {
		t.Fatalf("Runs = %d, want 1", h.Runs())
	}
}

func TestVerify(t *testing.T) {
	h := New(TestOnly(), 0)
	ctx := context.Background()
	a, err := h.Hash(ctx, "Passw0rd!")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h.Hash(ctx, "Passw0rd!")
	if a == b {
		t.Fatal("two hashes of one password are equal: the salt is not fresh")
	}
	if !strings.Contains(a, "$m=64,t=1,p=1$") {
		t.Fatalf("TestOnly hash %q", a)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{"Passw0rd!", true}, {"Passw0rd?", false}, {"", false}} {
		if ok, err := h.Verify(ctx, a, tc.pw); err != nil || ok != tc.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
		}
	}
	// Verify reads the parameters from the string, whatever the hasher's.
	if ok, err := New(OWASP(), 0).Verify(ctx, a, "Passw0rd!"); err != nil || !ok {
		t.Fatalf("an OWASP hasher verifying a TestOnly hash: %v, %v", ok, err)
	}
	parts := strings.Split(a, "$")
	for _, bad := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=16$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=0,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=4194304,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$!!$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$",
	} {
		if _, err := h.Verify(ctx, bad, "Passw0rd!"); !errors.Is(err, ErrFormat) {
			t.Errorf("Verify(%q) = %v, want ErrFormat", bad, err)
		}
	}
}

// TestConcurrencyBound: 20 hashes at once on a hasher of 3 slots never run
// more than 3 at a time, and all complete.
func TestConcurrencyBound(t *testing.T) {
	h := New(TestOnly(), 3)
	var inFlight, peak atomic.Int32
	gate := make(chan struct{})
	key := h.key
	h.key = func(pw, salt []byte, time, memory uint32, threads uint8, n uint32) []byte {
		now := inFlight.Add(1)
		for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
		}
		<-gate
		inFlight.Add(-1)
		return key(pw, salt, time, memory, threads, n)
	}
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() { _, errs[i] = h.Hash(context.Background(), "Passw0rd!") })
	}
	close(gate)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if p := peak.Load(); p < 1 || p > 3 {
		t.Fatalf("peak concurrent hashes %d, want 1 to 3", p)
	}
	if h.Runs() != 20 {
		t.Fatalf("Runs = %d, want 20", h.Runs())
	}
}

// TestWaitEndsWithContext: while every slot is taken, Hash waits; when its
// context ends it returns the context's error and hashes nothing.
func TestWaitEndsWithContext(t *testing.T) {
	h := New(TestOnly(), 1)
	release, err := h.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := h.Hash(ctx, "Passw0rd!"); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash with its context cancelled while waiting = %v, want context.Canceled", err)
	}
	if _, err := h.Verify(ctx, "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5", "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with a cancelled context = %v", err)
	}
	if h.Runs() != 0 {
		t.Fatalf("Runs = %d after a cancelled wait, want 0", h.Runs())
	}
	// Once the slot is free, a live context hashes.
	waiting := make(chan error, 1)
	go func() { _, err := h.Hash(context.Background(), "Passw0rd!"); waiting <- err }()
	release()
	if err := <-waiting; err != nil {
		t.Fatal(err)
	}
}

// BenchmarkHashOWASP is the cost of one production-strength hash.
func BenchmarkHashOWASP(b *testing.B) {
	h := New(OWASP(), 1)
	for b.Loop() {
		if _, err := h.Hash(context.Background(), "Passw0rd!"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHashTestOnly(b *testing.B) {
	h := New(TestOnly(), 1)
	for b.Loop() {
		if _, err := h.Hash(context.Background(), "Passw0rd!"); err != nil {
			b.Fatal(err)
		}
	}
}
