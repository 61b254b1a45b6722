// Package redisstore is the networked store: every operation of the store
// model on Redis (standalone, TLS or Redis Cluster) through go-redis, so that
// any number of verifyfn instances share codes, limits, nonces and records.
//
// Each state-changing operation is one Lua script run with EVALSHA: one round
// trip, atomic on the server (on a standalone server concurrent operations'
// scripts share pipelines: see batcher). Windows, cooldowns, TTLs and rate buckets are
// measured on the Redis server's clock (TIME), so clock skew between
// instances does not matter; the Now fields and arguments of the store model
// are ignored (the test kit's clock offset is added: see UseClock). A
// destination's cooldown, windows and codes are one hash, a code and its
// attempt count one field of it, so losing a write can never refill the
// guess budget while keeping the code. Every ephemeral key has a TTL;
// durable records (a hash per collection, a sorted set for insertion order
// and a sequence counter) have none.
//
// Keys are the store model's keys with a prefix: "vf:e:" for ephemeral keys,
// "vf:r:", "vf:o:" and "vf:q:" for a collection's hash, order and sequence.
// A destination's hash carries its own hash tag (store.DestTag), every other
// key its account's, so on a Redis Cluster one account's destinations spread
// over the slots. There Issue and Check run the destination's and the
// account's halves as two scripts in parallel, and take back the half that
// went through when the other refuses or fails (see Store.Issue).
//
// Failures are closed: every error (unreachable server, timeouts, LOADING,
// READONLY, CLUSTERDOWN, MOVED past the redirect limit, ...) wraps
// store.ErrUnavailable. Commands are never retried by the client (a retried
// script could apply twice): MaxRetries is off, and a hook stops the cluster
// client's own retries after network errors; MOVED and ASK, after which the
// command did not run, are followed up to the redirect limit. A NOSCRIPT
// reply, which means the script did not run, is answered by sending the
// script once with EVAL. The client connects lazily and reconnects by
// itself, so the store recovers when Redis does.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/verifyfn/verifyfn/shared/store"
)

// Key prefixes.
const (
	PrefixEphemeral = "vf:e:" // codes, limits, rate buckets, nonces
	PrefixRecords   = "vf:r:" // a collection's hash: record key -> value
	PrefixOrder     = "vf:o:" // a collection's sorted set: record key -> sequence
	PrefixSequence  = "vf:q:" // a collection's sequence counter
)

// Default timeouts: short, so that a request fails fast (and closed) when
// Redis is slow or gone.
const (
	DefaultDialTimeout  = 500 * time.Millisecond
	DefaultReadTimeout  = 500 * time.Millisecond
	DefaultWriteTimeout = 500 * time.Millisecond
	DefaultPoolTimeout  = time.Second
)

// Store is the Redis store. It is safe for concurrent use.
type Store struct {
	c       redis.UniversalClient
	cluster bool                 // c is a *redis.ClusterClient
	offset  func() time.Duration // nil: none
	log     *slog.Logger         // nil: none
	batch   *batcher             // nil: one command per call
}

// UseClock makes every operation that measures time (Issue, Check, Allow)
// see the server's clock plus offset(): the test kit's clock (package
// control), whose offset every instance reads from Redis. Nonce claims keep
// real time, as signatures do. Call it before the store is used.
func (s *Store) UseClock(offset func() time.Duration) { s.offset = offset }

// UseLogger makes the store log what the caller cannot see: a compensation
// on a Redis Cluster that failed (see Store.Issue). Call it before the store
// is used.
func (s *Store) UseLogger(l *slog.Logger) { s.log = l }

// clockOffset is the last argument of a script that reads the time.
func (s *Store) clockOffset() int64 {
	if s.offset == nil {
		return 0
	}
	return us(s.offset())
}

// Open returns a store for a Redis URL without any network I/O:
//
//	redis://[user:password@]host:port[/db][?options]
//	rediss://...                                   the same over TLS
//	redis+cluster://[user:password@]host1:port,host2:port[?options]
//	rediss+cluster://...                           a cluster over TLS
//
// Options are go-redis's URL options (dial_timeout, read_timeout,
// write_timeout, pool_size, pool_timeout, ...); timeouts default to
// DefaultDialTimeout and friends. Retries are always off: max_retries is
// refused.
func Open(rawURL string) (*Store, error) {
	c, err := NewClient(rawURL)
	if err != nil {
		return nil, err
	}
	return New(c), nil
}

// New returns a store over a client configured by the caller. The store owns
// the client and closes it in Close. Configure it as NewClient does: no
// retries and short timeouts.
func New(c redis.UniversalClient) *Store {
	_, cluster := c.(*redis.ClusterClient)
	st := &Store{c: c, cluster: cluster}
	if !cluster {
		st.batch = newBatcher(c, batchWorkers)
	}
	return st
}

// Client returns the underlying client (tests use it to inspect keys and add
// hooks).
func (s *Store) Client() redis.UniversalClient { return s.c }

// Close closes the client.
func (s *Store) Close() error {
	if s.batch != nil {
		s.batch.close()
	}
	return s.c.Close()
}

// Validate checks a Redis URL as Open would, without building a client.
func Validate(rawURL string) error {
	_, _, err := parse(rawURL)
	return err
}

// Redact returns rawURL with any password replaced by "xxxxx", for logs.
func Redact(rawURL string) string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return rawURL
	}
	at := strings.LastIndex(rest, "@")
	if slash := strings.IndexAny(rest, "/?"); slash >= 0 && slash < at {
		at = strings.LastIndex(rest[:slash], "@")
	}
	if at < 0 {
		return rawURL
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return rawURL
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

// NewClient builds the go-redis client for a URL (see Open), configured to
// fail closed: no command retries, one dial attempt, short timeouts, context
// deadlines honoured, no maintenance-notification or identity handshakes.
func NewClient(rawURL string) (redis.UniversalClient, error) {
	single, cluster, err := parse(rawURL)
	if err != nil {
		return nil, err
	}
	if cluster != nil {
		c := redis.NewClusterClient(cluster)
		// The cluster client retries a command after a network error (up to
		// MaxRedirects times, whatever MaxRetries says), even when the
		// command may have run: a script could apply twice. Its node clients
		// turn such errors into final ones; MOVED and ASK (the command did
		// not run) are still followed. A node that cannot be dialled (a
		// master that died) makes the client reload its slot map at once
		// (coalesced), so that it finds the promoted replica as soon as the
		// cluster has one, not at the next periodic reload.
		c.OnNewNode(func(node *redis.Client) {
			node.AddHook(noReplay{})
			node.AddHook(reloadOnDialFailure{c})
		})
		return c, nil
	}
	return redis.NewClient(single), nil
}

// reloadOnDialFailure is a node client's hook that asks its cluster client
// to reload the slot map when a dial fails.
type reloadOnDialFailure struct{ c *redis.ClusterClient }

func (h reloadOnDialFailure) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil {
			h.c.ReloadState(ctx)
		}
		return conn, err
	}
}

func (reloadOnDialFailure) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (reloadOnDialFailure) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// clusterReload is how old the cluster client's slot map may grow before it
// is reloaded (go-redis's default is a minute): it bounds how long a client
// keeps sending to a master that hangs instead of dying after its replica
// took over.
const clusterReload = 2 * time.Second

// noReplay is a hook that makes errors after which a command may have run
// (EOF, connection reset, read timeout: anything from the network except a
// failed dial) final: ErrMaybeApplied, which no client retries.
type noReplay struct{}

// ErrMaybeApplied replaces a network error after which a command may have
// run on the server; the command is not retried.
var ErrMaybeApplied = errors.New("redis: connection failed after the command was sent; it may have run")

func maybeApplied(err error) error {
	if err == nil {
		return nil
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return err // never sent
	}
	var ne net.Error
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) {
		return fmt.Errorf("%w (%s)", ErrMaybeApplied, err.Error())
	}
	return err
}

func (noReplay) DialHook(next redis.DialHook) redis.DialHook { return next }

func (noReplay) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := maybeApplied(next(ctx, cmd))
		if err != nil {
			cmd.SetErr(err)
		}
		return err
	}
}

func (noReplay) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := maybeApplied(next(ctx, cmds))
		for _, cmd := range cmds {
			if e := maybeApplied(cmd.Err()); e != cmd.Err() {
				cmd.SetErr(e)
			}
		}
		return err
	}
}

// parse turns a URL into client options, with the fail-closed settings.
func parse(rawURL string) (*redis.Options, *redis.ClusterOptions, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, nil, errors.New("redisstore: the URL must start with redis://, rediss://, redis+cluster:// or rediss+cluster://")
	}
	base, isCluster := strings.CutSuffix(scheme, "+cluster")
	if base != "redis" && base != "rediss" {
		return nil, nil, fmt.Errorf("redisstore: unsupported scheme %q", scheme)
	}
	if q := queryOf(rest); q.Has("max_retries") {
		return nil, nil, errors.New("redisstore: max_retries is not configurable: commands are never retried")
	}
	if !isCluster {
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, nil, fmt.Errorf("redisstore: %w", clean(err))
		}
		if o.Network == "tcp" && hostOf(rest) == "" {
			return nil, nil, errors.New("redisstore: the URL names no host")
		}
		o.MaxRetries = -1
		o.DialerRetries = 1
		o.DialTimeout = or(o.DialTimeout, DefaultDialTimeout)
		o.ReadTimeout = or(o.ReadTimeout, DefaultReadTimeout)
		o.WriteTimeout = or(o.WriteTimeout, DefaultWriteTimeout)
		o.PoolTimeout = or(o.PoolTimeout, DefaultPoolTimeout)
		o.ContextTimeoutEnabled = true
		o.DisableIdentity = true
		o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
		return o, nil, nil
	}
	// redis+cluster://user:pass@h1:p1,h2:p2/?q becomes redis://user:pass@h1:p1?q&addr=h2:p2.
	hostpart, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		hostpart, tail = rest[:i], rest[i:]
	}
	userinfo := ""
	if at := strings.LastIndex(hostpart, "@"); at >= 0 {
		userinfo, hostpart = hostpart[:at+1], hostpart[at+1:]
	}
	hosts := strings.Split(hostpart, ",")
	for _, h := range hosts {
		if strings.TrimSpace(h) == "" {
			return nil, nil, errors.New("redisstore: the cluster URL has an empty host")
		}
	}
	path, query, _ := strings.Cut(tail, "?")
	if strings.Trim(path, "/") != "" {
		return nil, nil, errors.New("redisstore: a cluster URL takes no database number")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, nil, fmt.Errorf("redisstore: %w", clean(err))
	}
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	o, err := redis.ParseClusterURL(base + "://" + userinfo + hosts[0] + "?" + q.Encode())
	if err != nil {
		return nil, nil, fmt.Errorf("redisstore: %w", clean(err))
	}
	o.MaxRetries = -1
	o.DialerRetries = 1
	o.DialTimeout = or(o.DialTimeout, DefaultDialTimeout)
	o.ReadTimeout = or(o.ReadTimeout, DefaultReadTimeout)
	o.WriteTimeout = or(o.WriteTimeout, DefaultWriteTimeout)
	o.PoolTimeout = or(o.PoolTimeout, DefaultPoolTimeout)
	o.ContextTimeoutEnabled = true
	o.DisableIdentity = true
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	o.ClusterStateReloadInterval = clusterReload
	return nil, o, nil
}

// clean drops the URL (which may hold a password) from a URL parsing error.
func clean(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("invalid URL: %w", ue.Err)
	}
	return err
}

func queryOf(rest string) url.Values {
	_, query, _ := strings.Cut(rest, "?")
	q, _ := url.ParseQuery(query)
	return q
}

func hostOf(rest string) string {
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = rest[at+1:]
	}
	return rest
}

func or(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// SetLogger sends go-redis's own log lines (failed dials, pool events) to l
// as warnings, instead of unstructured lines on stderr. The setting is
// process-wide. The lines carry addresses and server errors, no passwords.
func SetLogger(l *slog.Logger) {
	if l != nil {
		redis.SetLogger(slogLogger{l})
	}
}

type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Printf(ctx context.Context, format string, v ...any) {
	s.l.LogAttrs(ctx, slog.LevelWarn, "redis client", slog.String("detail", fmt.Sprintf(format, v...)))
}

// unavailable wraps a Redis error in store.ErrUnavailable.
func unavailable(err error) error {
	return fmt.Errorf("%w: redis: %w", store.ErrUnavailable, err)
}

// run executes sc with EVALSHA (on a standalone server in a pipeline shared
// with concurrent operations: see batcher), sending the source with EVAL
// when the server has not cached it (NOSCRIPT: the script did not run, so
// this is no retry of a script that might have applied).
func (s *Store) run(ctx context.Context, sc *script, keys []string, args ...any) (any, error) {
	var v any
	var err error
	if s.batch != nil {
		v, err = s.batch.evalSha(ctx, sc.sha, keys, args)
	} else {
		v, err = s.c.EvalSha(ctx, sc.sha, keys, args...).Result()
	}
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		v, err = s.c.Eval(ctx, sc.src, keys, args...).Result()
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return v, nil
}

// ints reads a script reply of integers.
func ints(v any, n int) ([]int64, error) {
	a, ok := v.([]any)
	if !ok || len(a) < n {
		return nil, unavailable(fmt.Errorf("unexpected script reply %v", v))
	}
	out := make([]int64, n)
	for i := range out {
		x, ok := a[i].(int64)
		if !ok {
			return nil, unavailable(fmt.Errorf("unexpected script reply %v", v))
		}
		out[i] = x
	}
	return out, nil
}

func us(d time.Duration) int64 { return d.Microseconds() }

func fromUS(n int64) time.Duration { return time.Duration(n) * time.Microsecond }

// Issue runs an IssueOp in one script, or on a Redis Cluster whose
// destination and account keys lie in different slots, in two scripts run
// in parallel (one wall-clock round trip; see issueSplit).
func (s *Store) Issue(ctx context.Context, op store.IssueOp) (store.IssueResult, error) {
	dest := PrefixEphemeral + op.LimitKey
	acct, args := issueArgs(op)
	args = append(args, op.CodeKey, s.clockOffset())
	if len(acct) > 0 && s.split(dest, acct[0]) {
		return s.issueSplit(ctx, op, dest, acct, args)
	}
	v, err := s.run(ctx, issueScript, append([]string{dest}, acct...), args...)
	if err != nil {
		return store.IssueResult{}, err
	}
	return issueResult(v)
}

// issueArgs returns the account's keys of op and issueScript's arguments up
// to the code key (key indexes count from the first account key).
func issueArgs(op store.IssueOp) ([]string, []any) {
	var keys []string
	rateIdx, rateLimit, ratePer := 0, 0, int64(0)
	if op.Rate != nil {
		keys = append(keys, PrefixEphemeral+op.Rate.Key)
		rateIdx, rateLimit, ratePer = len(keys), op.Rate.Limit, us(op.Rate.Per)
	}
	guardIdx, guardKey, guardMax := 0, "", int64(0)
	if g := op.Guard; g != nil {
		keys = append(keys, PrefixRecords+g.Coll)
		guardIdx, guardKey, guardMax = len(keys), g.Key, g.Max
	}
	args := make([]any, 0, 16+2*len(op.Windows)+6*len(op.Counters)+8*len(op.Conversions))
	args = append(args, us(op.Cooldown), us(op.TTL), op.MaxAttempts, op.Digest,
		rateIdx, rateLimit, ratePer, guardIdx, guardKey, guardMax, len(op.Windows))
	for _, w := range op.Windows {
		args = append(args, us(w.Period), w.Max)
	}
	return meterArgs(op, keys, args)
}

func issueResult(v any) (store.IssueResult, error) {
	r, err := ints(v, 4)
	if err != nil {
		return store.IssueResult{}, err
	}
	res := store.IssueResult{
		Status: store.IssueStatus(r[0]), Window: int(r[1]), RetryAfter: fromUS(r[2]), Attempts: int(r[3]),
	}
	if res.Status == store.CounterFull || res.Status == store.Unconverted {
		m, err := ints(v, 6)
		if err != nil {
			return store.IssueResult{}, err
		}
		res.Index, res.First = int(m[4]), m[5] == 1
	}
	return res, nil
}

// split reports whether two keys may lie in different slots of a Redis
// Cluster (their hash tags differ), so that one script cannot touch both.
func (s *Store) split(a, b string) bool {
	return s.cluster && hashTag(a) != hashTag(b)
}

// hashTag returns what Redis Cluster hashes of key: the part between the
// first "{" and the first "}" after it when that is not empty, else the
// whole key.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// both runs f and g at once (on a cluster: each on its own shard) and
// returns when both have.
func both(f, g func()) {
	done := make(chan struct{})
	go func() { defer close(done); g() }()
	f()
	<-done
}

// undoTimeout bounds a compensation: it runs even when the caller's context
// is done, since it releases what a refused half holds.
const undoTimeout = 2 * time.Second

func undoContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
}

// issueSplit runs an IssueOp on a Redis Cluster as two scripts in parallel:
// the destination's half (cooldown, windows, code) on the destination's
// slot and the account's half (rate, guard, counters, conversions) on the
// account's. The outcome is issueScript's: the first refusal in the order
// of the store model wins, and whichever half went through when the other
// refused or failed is taken back (undoScript, refundScript). The guarantees
// hold per destination, where they live: one issue per cooldown, the window
// caps, one code. A rate event stays consumed whatever the destination's
// half says, as in issueScript; only when the account's half refuses with
// the fraud guard while the destination is cooling down does the guard
// judge a send that issueScript would not have shown it.
func (s *Store) issueSplit(ctx context.Context, op store.IssueOp, dest string, acct []string, args []any) (store.IssueResult, error) {
	var dv, av any
	var derr, aerr error
	both(func() { dv, derr = s.run(ctx, issueDestScript, []string{dest}, args...) },
		func() { av, aerr = s.run(ctx, issueAccountScript, acct, args...) })
	var dres, ares store.IssueResult
	if derr == nil {
		dres, derr = issueResult(dv)
	}
	if aerr == nil {
		ares, aerr = issueResult(av)
	}
	destIssued := derr == nil && dres.Status == store.Issued
	acctCounted := aerr == nil && ares.Status == store.Issued
	undoDest := func() {
		uctx, cancel := undoContext(ctx)
		defer cancel()
		if err := s.undoIssue(uctx, op, dv); err != nil {
			s.logUndo(ctx, "undo the destination's half of an issue", err)
		}
	}
	refundAcct := func() {
		a, ok := acctNow(av)
		if !ok {
			return
		}
		uctx, cancel := undoContext(ctx)
		defer cancel()
		rargs := slices.Clone(args)
		rargs[len(rargs)-2] = a
		if _, err := s.run(uctx, refundScript, acct, rargs...); err != nil {
			s.logUndo(ctx, "refund the account's half of an issue", err)
		}
	}
	switch {
	case derr != nil || aerr != nil:
		if destIssued {
			undoDest()
		}
		if acctCounted {
			refundAcct()
		}
		return store.IssueResult{}, errors.Join(derr, aerr)
	case ares.Status == store.RateLimited || ares.Status == store.GuardFull:
		if destIssued {
			undoDest()
		}
		return ares, nil
	case !destIssued:
		if acctCounted {
			refundAcct()
		}
		return dres, nil
	case !acctCounted:
		undoDest()
		return ares, nil
	}
	return dres, nil
}

// acctNow reads the time issueAccountScript returned with its success.
func acctNow(v any) (int64, bool) {
	a, ok := v.([]any)
	if !ok || len(a) < 7 {
		return 0, false
	}
	n, ok := a[6].(int64)
	return n, ok
}

// undoIssue runs undoScript with what issueDestScript returned in v.
func (s *Store) undoIssue(ctx context.Context, op store.IssueOp, v any) error {
	a, ok := v.([]any)
	if !ok || len(a) < 8+len(op.Windows) {
		return fmt.Errorf("unexpected script reply %v", v)
	}
	args := []any{op.CodeKey, a[6], a[5], a[4], a[7], len(op.Windows)}
	for i, w := range op.Windows {
		args = append(args, us(w.Period), a[8+i])
	}
	_, err := s.run(ctx, undoScript, []string{PrefixEphemeral + op.LimitKey}, args...)
	return err
}

// logUndo reports a compensation that failed: the half it should have
// taken back stays (a cooldown or a counted send: both refuse more, never
// less).
func (s *Store) logUndo(ctx context.Context, what string, err error) {
	if s.log != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "redis store: could not "+what, slog.String("error", err.Error()))
	}
}

// meterArgs appends the keys and arguments of op's counters and conversions
// (see issueScript).
func meterArgs(op store.IssueOp, keys []string, args []any) ([]string, []any) {
	args = append(args, len(op.Counters))
	for _, c := range op.Counters {
		keys = append(keys, PrefixEphemeral+c.Key)
		args = append(args, len(keys), int(c.Period), us(c.Span), us(c.Bucket), c.Max, c.Add)
	}
	args = append(args, len(op.Conversions))
	for _, c := range op.Conversions {
		keys = append(keys, PrefixEphemeral+c.Key)
		args = append(args, len(keys), us(c.Span), us(c.Bucket), us(c.Mature), c.MinIssued, c.MinPermille, us(c.Cooloff), us(c.Trickle))
	}
	return keys, args
}

// Revoke forgets the code of codeKey (its attempts stay until it expires) and
// the destination's cooldown, in one script.
func (s *Store) Revoke(ctx context.Context, codeKey, limitKey string) error {
	_, err := s.run(ctx, revokeScript, []string{PrefixEphemeral + limitKey}, codeKey)
	return err
}

// Peek reports, changing nothing, whether codeKey holds a live code whose
// digest is digest and whether the destination of limitKey is cooling down,
// on the store's clock. Tests use it to confirm what a send stored.
func (s *Store) Peek(ctx context.Context, codeKey, limitKey string, digest []byte) (live, cooling bool, err error) {
	v, err := s.run(ctx, peekScript, []string{PrefixEphemeral + limitKey}, codeKey, digest, s.clockOffset())
	if err != nil {
		return false, false, err
	}
	r, err := ints(v, 2)
	if err != nil {
		return false, false, err
	}
	return r[0] == 1, r[1] == 1, nil
}

// opArgs appends the three keys of every collection of ops to keys and the
// ops' arguments to args.
func opArgs(ops []store.Op, keys []string, args []any) ([]string, []any) {
	idx := map[string]int{}
	args = append(args, len(ops))
	for _, op := range ops {
		c, ok := idx[op.Coll]
		if !ok {
			keys = append(keys, PrefixRecords+op.Coll, PrefixOrder+op.Coll, PrefixSequence+op.Coll)
			c = len(keys) - 2
			idx[op.Coll] = c
		}
		value := op.Value
		if value == nil {
			value = []byte{}
		}
		args = append(args, int(op.Kind), c, op.Key, value, op.Max)
	}
	return keys, args
}

// Check runs a CheckOp in one script, or on a Redis Cluster whose
// destination and account keys lie in different slots, as checkSplit does.
func (s *Store) Check(ctx context.Context, op store.CheckOp) (store.CheckResult, error) {
	if op.LimitKey == "" {
		return store.CheckResult{}, unavailable(errors.New("CheckOp.LimitKey is required"))
	}
	dest := PrefixEphemeral + op.LimitKey
	acct, args := checkArgs(op)
	args = append(args, op.CodeKey, s.clockOffset())
	if len(acct) > 0 && s.split(dest, acct[0]) {
		return s.checkSplit(ctx, op, dest, acct, args)
	}
	v, err := s.run(ctx, checkScript, append([]string{dest}, acct...), args...)
	if err != nil {
		return store.CheckResult{}, err
	}
	return checkResult(v)
}

// checkArgs returns the account's keys of op and checkScript's arguments up
// to the code key (key indexes count from the first account key).
func checkArgs(op store.CheckOp) ([]string, []any) {
	var keys []string
	rateIdx, rateLimit, ratePer := 0, 0, int64(0)
	if op.Rate != nil {
		keys = append(keys, PrefixEphemeral+op.Rate.Key)
		rateIdx, rateLimit, ratePer = len(keys), op.Rate.Limit, us(op.Rate.Per)
	}
	keep := 0
	if op.Keep {
		keep = 1
	}
	args := []any{op.Digest, op.MaxAttempts, rateIdx, rateLimit, ratePer, keep}
	keys, args = opArgs(op.Ops, keys, args)
	args = append(args, len(op.Credit))
	for _, c := range op.Credit {
		keys = append(keys, PrefixEphemeral+c.Key)
		args = append(args, len(keys), us(c.Span), us(c.Bucket))
	}
	return keys, args
}

func checkResult(v any) (store.CheckResult, error) {
	r, err := ints(v, 3)
	if err != nil {
		return store.CheckResult{}, err
	}
	return store.CheckResult{Status: store.CheckStatus(r[0]), Attempts: int(r[1]), Op: int(r[2])}, nil
}

// checkSplit runs a CheckOp on a Redis Cluster: the account's first half
// (rate, preconditions) and the destination's half (compare the code; count
// a wrong guess; consume a right one unless Keep) in parallel, then, when
// the code was consumed and the op writes records or credits conversions,
// the account's second half (preconditions again, records, credits): a
// second round trip. A refusal of the account's first half wins, as in
// checkScript, and puts the code back as it was; so does a precondition
// that fails in the second half (a concurrent request changed the records
// in between). When the second half fails, the code stays consumed: it may
// have applied, and a code must never verify twice.
func (s *Store) checkSplit(ctx context.Context, op store.CheckOp, dest string, acct []string, args []any) (store.CheckResult, error) {
	var dv, av any
	var derr, aerr error
	both(func() { dv, derr = s.run(ctx, checkDestScript, []string{dest}, args...) },
		func() { av, aerr = s.run(ctx, checkAccountScript, acct, args...) })
	var dres, ares store.CheckResult
	if derr == nil {
		dres, derr = checkResult(dv)
	}
	if aerr == nil {
		ares, aerr = checkResult(av)
	}
	undo := func() {
		a, ok := dv.([]any)
		if !ok || len(a) < 5 {
			return // the destination's half changed nothing
		}
		uctx, cancel := undoContext(ctx)
		defer cancel()
		if _, err := s.run(uctx, checkUndoScript, []string{dest}, op.CodeKey, a[4], a[3]); err != nil {
			s.logUndo(ctx, "put back a code", err)
		}
	}
	switch {
	case derr != nil:
		return store.CheckResult{}, derr
	case aerr != nil:
		undo()
		return store.CheckResult{}, aerr
	case ares.Status != store.Passed:
		undo()
		return ares, nil
	case dres.Status != store.Passed || op.Keep || len(op.Ops) == 0 && len(op.Credit) == 0:
		return dres, nil
	}
	issued := any("")
	if a, ok := dv.([]any); ok && len(a) >= 6 {
		issued = a[5]
	}
	cargs := slices.Clone(args)
	cargs[len(cargs)-2] = issued
	v, err := s.run(ctx, checkCommitScript, acct, cargs...)
	if err != nil {
		return store.CheckResult{}, err
	}
	cres, err := checkResult(v)
	if err != nil {
		return store.CheckResult{}, err
	}
	if cres.Status != store.Passed {
		undo()
		return cres, nil
	}
	return dres, nil
}

// Allow consumes one event of rate r (GCRA, burst = r.Limit) on the server's
// clock; now is ignored.
func (s *Store) Allow(ctx context.Context, r store.Rate, _ time.Time) (bool, error) {
	v, err := s.run(ctx, allowScript, []string{PrefixEphemeral + r.Key}, r.Limit, us(r.Per), s.clockOffset())
	if err != nil {
		return false, err
	}
	n, ok := v.(int64)
	if !ok {
		return false, unavailable(fmt.Errorf("unexpected script reply %v", v))
	}
	return n == 1, nil
}

// Claim is SET key NX PX ttl: it reports false while key is claimed. now is
// ignored.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration, _ time.Time) (bool, error) {
	if ttl < time.Millisecond {
		return true, nil // claimed and expired at once
	}
	err := s.c.SetArgs(ctx, PrefixEphemeral+key, "1", redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, redis.Nil):
		return false, nil
	}
	return false, unavailable(err)
}

// Get returns the durable record Coll/Key (one HGET).
func (s *Store) Get(ctx context.Context, coll, key string) ([]byte, bool, error) {
	v, err := s.c.HGet(ctx, PrefixRecords+coll, key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, false, nil
	case err != nil:
		return nil, false, unavailable(err)
	}
	return v, true, nil
}

// List returns up to limit records of coll in insertion order, skipping
// offset, and the number of records in coll (one script).
func (s *Store) List(ctx context.Context, coll string, offset, limit int) ([]store.Record, int, error) {
	v, err := s.run(ctx, listScript, []string{PrefixRecords + coll, PrefixOrder + coll}, max(offset, 0), max(limit, 0))
	if err != nil {
		return nil, 0, err
	}
	a, ok := v.([]any)
	bad := func() ([]store.Record, int, error) {
		return nil, 0, unavailable(fmt.Errorf("unexpected script reply %v", v))
	}
	if !ok || len(a) < 1 || (len(a)-1)%3 != 0 {
		return bad()
	}
	total, ok := a[0].(int64)
	if !ok {
		return bad()
	}
	out := make([]store.Record, 0, (len(a)-1)/3)
	for i := 1; i < len(a); i += 3 {
		k, ok1 := a[i].(string)
		seq, ok2 := a[i+1].(int64)
		val, ok3 := a[i+2].(string)
		if !ok1 || !ok2 || !ok3 {
			return bad()
		}
		out = append(out, store.Record{Key: k, Value: []byte(val), Seq: seq})
	}
	return out, int(total), nil
}

// Apply runs ops atomically in one script: it returns -1 when all were
// applied, or the index of the first op whose precondition failed (and then
// changes nothing).
func (s *Store) Apply(ctx context.Context, ops []store.Op) (int, error) {
	if len(ops) == 0 {
		return -1, nil
	}
	keys, args := opArgs(ops, nil, nil)
	v, err := s.run(ctx, applyScript, keys, args...)
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return 0, unavailable(fmt.Errorf("unexpected script reply %v", v))
	}
	return int(n), nil
}

// String describes the store without credentials.
func (s *Store) String() string {
	switch c := s.c.(type) {
	case *redis.Client:
		return "redis " + c.Options().Addr
	case *redis.ClusterClient:
		return "redis cluster " + strings.Join(c.Options().Addrs, ",")
	}
	return "redis"
}

// prefixes are the key prefixes of the store model's state.
var prefixes = []string{PrefixEphemeral, PrefixRecords, PrefixOrder, PrefixSequence}

// Reset forgets the state of account (every key of the store model with its
// hash tag, and every ephemeral key with one of its destinations' tags), or
// every key of the store model when account is empty: it scans
// each primary (every master of a cluster) for the keys and unlinks them. It
// is not atomic: an operation running alongside may leave a key behind.
// Keys outside the store model (other prefixes than vf:e:, vf:r:, vf:o:,
// vf:q:) are left alone.
func (s *Store) Reset(ctx context.Context, account string) error {
	var patterns []string
	for _, p := range prefixes {
		if account == "" {
			patterns = append(patterns, p+"*")
			continue
		}
		tags := []string{store.TagPrefix(account)}
		if p == PrefixEphemeral { // records never carry a destination's tag
			tags = store.Prefixes(account)
		}
		for _, ap := range tags {
			patterns = append(patterns, p+globEscape(ap)+"*")
		}
	}
	reset := func(ctx context.Context, c redis.Cmdable) error {
		for _, pattern := range patterns {
			iter := c.Scan(ctx, 0, pattern, 500).Iterator()
			var batch []string
			flush := func() error {
				if len(batch) == 0 {
					return nil
				}
				// One key per command: a cluster node refuses a multi-key
				// command across slots.
				_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
					for _, k := range batch {
						p.Unlink(ctx, k)
					}
					return nil
				})
				batch = batch[:0]
				return err
			}
			for iter.Next(ctx) {
				if batch = append(batch, iter.Val()); len(batch) == 500 {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			if err := iter.Err(); err != nil {
				return err
			}
			if err := flush(); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	switch c := s.c.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return reset(ctx, node) })
	default:
		err = reset(ctx, c)
	}
	if err != nil {
		return unavailable(err)
	}
	return nil
}

// Ping reports whether Redis answers: one PING, to every master of a
// cluster.
func (s *Store) Ping(ctx context.Context) error {
	if c, ok := s.c.(*redis.ClusterClient); ok {
		if err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.Ping(ctx).Err() }); err != nil {
			return unavailable(err)
		}
		return nil
	}
	if err := s.c.Ping(ctx).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// globEscape quotes the glob metacharacters of s for a SCAN MATCH pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
