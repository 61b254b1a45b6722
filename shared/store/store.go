// Package store defines the state model every verifyfn store implements: the
// atomic operations the verification-code engine runs (issue and check a code),
// request-rate limits, nonce claims and small durable records.
//
// The operations are shaped so that a networked store (Redis) can run each one
// as a single server-side script, in one round trip, and an embedded store can
// run each one under a lock. Consumers declare the subset they need as their own
// interface; implementations live in sub-packages (memstore, ...).
package store

import (
	"context"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"io"
	"time"
)

// ErrUnavailable wraps every failure to reach or use the backing store. Callers
// fail closed on it: no message is sent and no code is accepted.
var ErrUnavailable = errors.New("store unavailable")

// Rate is a request-rate limit: at most Limit events per Per for Key.
type Rate struct {
	Key   string
	Limit int
	Per   time.Duration
}

// Window caps events for a destination within a fixed window that starts with
// the first event: at most Max events per Period.
type Window struct {
	Period time.Duration
	Max    int
}

// Guard refuses an issue while the durable counter Coll/Key has reached Max.
type Guard struct {
	Coll, Key string
	Max       int64
}

// IssueOp asks the store to record a new code for CodeKey, after checking, in
// this order and atomically: the rate limit, the guard, the destination's
// cooldown, each send window. When every check passes it sets the cooldown, counts
// the send in every window and stores the code record. A live record's attempt
// count carries over to the new code (a resend never refills the guess budget);
// a burned or expired record does not.
type IssueOp struct {
	Now         time.Time
	Rate        *Rate // optional
	LimitKey    string
	Cooldown    time.Duration
	Windows     []Window
	Guard       *Guard // optional
	CodeKey     string
	Digest      []byte // keyed hash of the code; never the code
	TTL         time.Duration
	MaxAttempts int
	// Counters and Conversions are the fraud guard's (see meter.go): checked
	// after the send windows, the conversions first, each list in order, and
	// counted only when the code is issued. A code issued with Conversions remembers its issue time, so
	// that a check that consumes it credits the conversion of its send.
	Counters    []Counter
	Conversions []Conversion
}

// IssueStatus is the outcome of an IssueOp.
type IssueStatus int

// Issue outcomes.
const (
	Issued      IssueStatus = iota
	RateLimited             // the Rate was exceeded
	CoolingDown             // a send to this destination happened within the cooldown
	WindowFull              // IssueResult.Window names the full window
	GuardFull               // the guard counter reached its maximum
	CounterFull             // IssueResult.Index names the counter that is full
	Unconverted             // IssueResult.Index names the conversion that refuses
)

// IssueResult reports what an IssueOp did.
type IssueResult struct {
	Status     IssueStatus
	Window     int           // index into IssueOp.Windows when Status is WindowFull
	RetryAfter time.Duration // when refused: how long until the refusing limit frees
	Attempts   int           // attempts carried over to the new code
	// Index names the counter (CounterFull) or the conversion
	// (Unconverted) that refused, and First is true for the refusal that
	// changed its state: the first refusal of a counter since it last let
	// an issue through, or the refusal that started a conversion's
	// cool-off. Callers log such a refusal once.
	Index int
	First bool
}

// CheckOp asks the store to compare Digest with the live code of CodeKey and,
// atomically: on a match delete the code and apply Ops (all or none: if an op's
// precondition fails, nothing changes, the code stays live and the result is
// Conflict); on a mismatch count the attempt and burn the code when the count
// reaches MaxAttempts. Preconditions of Ops are evaluated first, whatever the
// state of the code, so a conflict is always reported and never costs an
// attempt.
//
// With Keep set, a match is reported as Passed but changes nothing: the code
// stays live and Ops are not applied (their preconditions are still evaluated
// first and reported as Conflict). Everything else is as without Keep: the
// rate event is consumed and a mismatch counts an attempt and burns the code
// at the cap. A caller that must do costly work (hash a password) only for a
// right code checks with Keep first, does the work, then checks again
// without Keep to consume the code and write the records; a concurrent
// request may have consumed or burned the code in between, which the second
// check reports like any used code (NoCode or Exhausted).
type CheckOp struct {
	Now     time.Time
	Rate    *Rate // optional
	CodeKey string
	// LimitKey is the LimitKey of the IssueOps of CodeKey: a store may keep
	// a code with its destination's cooldown and windows (redisstore does,
	// in one hash), so a check names both. Required.
	LimitKey    string
	Digest      []byte
	MaxAttempts int
	Ops         []Op
	Keep        bool // on a match: report Passed, keep the code, apply nothing
	// Credit lists the conversions a consumed code counts as verified in
	// (see Conversion): the bucket of the code's send, when the code was
	// issued with conversions. Only Key, Span and Bucket are read. Nothing
	// is credited with Keep, on a mismatch, or when the code is not
	// consumed.
	Credit []Conversion
}

// CheckStatus is the outcome of a CheckOp.
type CheckStatus int

// Check outcomes.
const (
	Passed       CheckStatus = iota
	Mismatch                 // wrong code; attempts left
	NoCode                   // no live code: never sent, expired, used or revoked
	Exhausted                // the attempt cap is reached; the code is burned
	CheckLimited             // the Rate was exceeded
	Conflict                 // CheckResult.Op names the op whose precondition failed
)

// CheckResult reports what a CheckOp did.
type CheckResult struct {
	Status   CheckStatus
	Attempts int // attempts counted on the code after this check
	Op       int // index into CheckOp.Ops when Status is Conflict
}

// OpKind names a durable-record operation.
type OpKind int

// Record operations. Each states its precondition.
const (
	Insert       OpKind = iota // create Coll/Key; conflict if it exists
	Put                        // create or replace Coll/Key
	Incr                       // add 1 to the decimal counter Coll/Key; conflict if it is already >= Max (Max > 0)
	Remove                     // delete Coll/Key; conflict if it does not exist
	MustExist                  // no change; conflict if Coll/Key does not exist
	MustNotExist               // no change; conflict if Coll/Key exists
)

// Op is one durable-record operation.
type Op struct {
	Kind      OpKind
	Coll, Key string
	Value     []byte
	Max       int64
}

// Coll names an account's collection of durable records. Every account-wide
// key carries the hash tag {account} (see TagPrefix), so a networked store
// keeps them in one Redis Cluster slot; a destination's own state carries
// its own tag (DestTag).
func Coll(account, name string) string { return "{" + account + "}:" + name }

// Record is a durable record as listed: Seq orders records by first insertion.
type Record struct {
	Key   string
	Value []byte
	Seq   int64
}

// Store is the whole store model, as implemented by memstore, filestore and
// redisstore (and checked by the storetest suite). Consumers that need less
// declare their own, smaller interface.
type Store interface {
	// Issue runs an IssueOp atomically.
	Issue(ctx context.Context, op IssueOp) (IssueResult, error)
	// Revoke invalidates the code of codeKey (keeping its attempts) and
	// clears the cooldown of limitKey.
	Revoke(ctx context.Context, codeKey, limitKey string) error
	// Check runs a CheckOp atomically.
	Check(ctx context.Context, op CheckOp) (CheckResult, error)
	// Allow consumes one event of r (GCRA, burst = r.Limit).
	Allow(ctx context.Context, r Rate, now time.Time) (bool, error)
	// Claim records key as used for ttl; false while it is already claimed.
	Claim(ctx context.Context, key string, ttl time.Duration, now time.Time) (bool, error)
	// Get returns the durable record Coll/Key.
	Get(ctx context.Context, coll, key string) ([]byte, bool, error)
	// List returns up to limit records of coll in insertion order from
	// offset, and the number of records in coll.
	List(ctx context.Context, coll string, offset, limit int) ([]Record, int, error)
	// Apply runs ops atomically: -1 when all were applied, else the index of
	// the first op whose precondition failed (and nothing changed).
	Apply(ctx context.Context, ops []Op) (int, error)
	// Reset forgets every state the other operations wrote (codes and their
	// attempts, cooldowns, windows, rate buckets, nonces, durable records)
	// whose keys start with one of Prefixes(account) (see Coll and DestTag),
	// or all of it when account is empty. It is the test kit's reset
	// (package control); the APIs never call it.
	Reset(ctx context.Context, account string) error
}

// TagPrefix is the prefix of every account-wide key of account (its records,
// rate buckets, nonces, fraud counters): its hash tag and a colon, as Coll
// writes it.
func TagPrefix(account string) string { return "{" + account + "}:" }

// DestTag is the prefix of the keys of one destination's own state (its
// cooldown, send windows and codes: an IssueOp's LimitKey): a hash tag of
// the account and a hash of the destination, "{account~xxxxxxxx}:". On a
// Redis Cluster one account's destinations spread over every slot, while its
// account-wide state stays in the slot of {account}.
func DestTag(account, destination string) string {
	h := fnv.New32a()
	io.WriteString(h, destination)
	var sum [4]byte
	return "{" + account + "~" + hex.EncodeToString(h.Sum(sum[:0])) + "}:"
}

// Prefixes returns the prefixes of every key of account: TagPrefix and the
// prefix that every DestTag of account starts with. Reset forgets the keys
// that start with either.
func Prefixes(account string) []string { return []string{TagPrefix(account), "{" + account + "~"} }
