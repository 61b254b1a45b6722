// Package password hashes account passwords with argon2id into PHC strings
// ($argon2id$v=19$m=...,t=...,p=...$salt$key), with a bound on how many
// hashes run at once: each argon2id hash holds its whole memory cost (19 MiB
// with OWASP's parameters) while it runs, so a burst of requests must queue
// for a slot instead of allocating one buffer each.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes
}

// OWASP returns the parameters of OWASP's Password Storage Cheat Sheet for
// argon2id: 19 MiB, 2 passes, 1 lane. Production always hashes with them.
func OWASP() Params { return Params{Memory: 19 * 1024, Time: 2, Threads: 1} }

// TestOnly returns parameters for tests only: 64 KiB and 1 pass, about a
// thousandth of OWASP's cost, for tests that create many accounts where the
// strength of the hash is not what is under test. They protect nothing;
// production code never uses them (the configuration cannot select them).
func TestOnly() Params { return Params{Memory: 64, Time: 1, Threads: 1} }

// Hasher hashes passwords, at most a fixed number at a time. It is safe for
// concurrent use.
type Hasher struct {
	params Params
	slots  chan struct{}
	runs   atomic.Int64
	key    func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte // argon2.IDKey
}

// MaxDefaultConcurrency caps the default number of concurrent hashes, so the
// memory they take (19 MiB each with OWASP's parameters) stays bounded on a
// large host: 4 hashes keep up with far more account creations than the
// documented 20 requests a second.
const MaxDefaultConcurrency = 4

// New returns a hasher with the given parameters (the zero Params: OWASP's)
// that runs at most concurrency hashes at once (0 or less: one per core the
// Go scheduler uses, runtime.GOMAXPROCS(0), at most MaxDefaultConcurrency).
func New(p Params, concurrency int) *Hasher {
	if p == (Params{}) {
		p = OWASP()
	}
	if concurrency <= 0 {
		concurrency = min(runtime.GOMAXPROCS(0), MaxDefaultConcurrency)
	}
	return &Hasher{params: p, slots: make(chan struct{}, concurrency), key: argon2.IDKey}
}

// Params reports the parameters of the hasher.
func (h *Hasher) Params() Params { return h.params }

// Runs reports how many hashes the hasher has computed (or is computing).
func (h *Hasher) Runs() int64 { return h.runs.Load() }

// Hash returns the argon2id PHC string of password with a fresh random salt.
// It waits for a free slot; when ctx ends first it returns ctx's error and
// computes nothing.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	h.runs.Add(1)
	p := h.params
	key := h.key([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// ErrFormat is returned by Verify for anything but an argon2id PHC string
// of this package's shape.
var ErrFormat = errors.New("password: not an argon2id PHC string")

// Verify reports whether password matches encoded, a PHC string written by
// Hash (with whatever parameters it names). It takes a slot like Hash.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	var version int
	var p Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, ErrFormat
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrFormat
	}
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || n != 3 || !p.valid() {
		return false, ErrFormat
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil || len(salt) == 0 {
		return false, ErrFormat
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false, ErrFormat
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	got := h.key([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// valid bounds parameters read from a PHC string: at most 1 GiB and 16
// passes, so a damaged record cannot make Verify allocate without limit.
func (p Params) valid() bool {
	return p.Memory > 0 && p.Memory <= 1<<20 && p.Time > 0 && p.Time <= 16 && p.Threads > 0
}

// acquire waits for a slot, or for ctx to end (then it returns ctx's error).
func (h *Hasher) acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
