package control

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Fault is a pending fault: the next Left calls of Service/Action (of
// Account, to To, when set) answer Code, or fail their delivery when
// Delivery is "fail", after Delay.
type Fault struct {
	ID       string   `json:"id"`
	Service  string   `json:"service"`
	Action   string   `json:"action"`
	Code     string   `json:"code,omitempty"`
	Delivery string   `json:"delivery,omitempty"`
	To       string   `json:"to,omitempty"` // the destination's key (see NormalizeTo)
	Account  string   `json:"account,omitempty"`
	Count    int      `json:"count"`
	Left     int      `json:"left"`
	Delay    Duration `json:"delay,omitempty"`
}

// Duration is a time.Duration written in JSON as Go writes durations
// ("1.5s", "11m0s").
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler: a string such as "5s" or "11m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration such as \"5s\" or \"11m\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"5s\" or \"11m\"", truncate(s))
	}
	*d = Duration(v)
	return nil
}

// Snapshot is the shared state at one moment: the clock offset and the
// pending faults in the order they were added.
type Snapshot struct {
	Offset time.Duration
	Faults []Fault
}

// State keeps what every instance of a deployment must see alike: the clock
// offset and the pending faults.
type State interface {
	// Load returns the current state.
	Load(ctx context.Context) (Snapshot, error)
	// Advance moves the clock offset by d and returns the new offset.
	Advance(ctx context.Context, d time.Duration) (time.Duration, error)
	// ResetClock sets the offset back to zero.
	ResetClock(ctx context.Context) error
	// AddFault records f (its Count calls) under a new ID and returns it.
	AddFault(ctx context.Context, f Fault) (Fault, error)
	// TakeFault consumes one call of the fault id, atomically across
	// instances; false when it has none left (or is gone).
	TakeFault(ctx context.Context, id string) (bool, error)
	// ClearFaults forgets every pending fault.
	ClearFaults(ctx context.Context) error
}

// memoryState is the State of one process.
type memoryState struct {
	mu     sync.Mutex
	offset time.Duration
	seq    int
	faults []Fault
}

// NewMemoryState returns a State kept in this process (the memory and file
// stores serve one process).
func NewMemoryState() State { return &memoryState{} }

func (m *memoryState) Load(context.Context) (Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Snapshot{Offset: m.offset, Faults: slices.Clone(m.faults)}, nil
}

func (m *memoryState) Advance(_ context.Context, d time.Duration) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.offset += d
	return m.offset, nil
}

func (m *memoryState) ResetClock(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.offset = 0
	return nil
}

func (m *memoryState) AddFault(_ context.Context, f Fault) (Fault, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	f.ID, f.Left = strconv.Itoa(m.seq), f.Count
	m.faults = append(m.faults, f)
	return f, nil
}

func (m *memoryState) TakeFault(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.faults, func(f Fault) bool { return f.ID == id })
	if i < 0 {
		return false, nil
	}
	if m.faults[i].Left--; m.faults[i].Left <= 0 {
		m.faults = slices.Delete(m.faults, i, i+1)
	}
	return true, nil
}

func (m *memoryState) ClearFaults(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = nil
	return nil
}

// RedisKey is the hash that holds the control plane's state on Redis:
// "offset" (nanoseconds), "seq" (the last fault id), and per fault "f:<id>"
// (its JSON) and "n:<id>" (the calls it has left). It is outside the store
// model's keys, so a reset of the store leaves it.
const RedisKey = "vf:control"

// redisState is the State of every instance on one Redis.
type redisState struct {
	c redis.UniversalClient
}

// RedisState returns a State kept in Redis through c (the store's client),
// shared by every instance on that Redis.
func RedisState(c redis.UniversalClient) State { return &redisState{c: c} }

var (
	addFaultScript = redis.NewScript(`
local id = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'f:' .. id, ARGV[1], 'n:' .. id, ARGV[2])
return id
`)
	takeFaultScript = redis.NewScript(`
local n = tonumber(redis.call('HGET', KEYS[1], 'n:' .. ARGV[1]))
if not n or n <= 0 then return 0 end
if n <= 1 then
  redis.call('HDEL', KEYS[1], 'f:' .. ARGV[1], 'n:' .. ARGV[1])
else
  redis.call('HSET', KEYS[1], 'n:' .. ARGV[1], n - 1)
end
return 1
`)
	clearFaultsScript = redis.NewScript(`
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  local p = string.sub(f, 1, 2)
  if p == 'f:' or p == 'n:' then redis.call('HDEL', KEYS[1], f) end
end
return 0
`)
)

func (r *redisState) Load(ctx context.Context) (Snapshot, error) {
	h, err := r.c.HGetAll(ctx, RedisKey).Result()
	if err != nil {
		return Snapshot{}, fmt.Errorf("control: redis: %w", err)
	}
	var s Snapshot
	if v, ok := h["offset"]; ok {
		n, _ := strconv.ParseInt(v, 10, 64)
		s.Offset = time.Duration(n)
	}
	for field, v := range h {
		id, ok := strings.CutPrefix(field, "f:")
		if !ok {
			continue
		}
		var f Fault
		if json.Unmarshal([]byte(v), &f) != nil {
			continue
		}
		f.ID = id
		f.Left, _ = strconv.Atoi(h["n:"+id])
		if f.Left > 0 {
			s.Faults = append(s.Faults, f)
		}
	}
	slices.SortFunc(s.Faults, func(a, b Fault) int {
		x, _ := strconv.Atoi(a.ID)
		y, _ := strconv.Atoi(b.ID)
		return x - y
	})
	return s, nil
}

func (r *redisState) Advance(ctx context.Context, d time.Duration) (time.Duration, error) {
	n, err := r.c.HIncrBy(ctx, RedisKey, "offset", int64(d)).Result()
	if err != nil {
		return 0, fmt.Errorf("control: redis: %w", err)
	}
	return time.Duration(n), nil
}

func (r *redisState) ResetClock(ctx context.Context) error {
	if err := r.c.HDel(ctx, RedisKey, "offset").Err(); err != nil {
		return fmt.Errorf("control: redis: %w", err)
	}
	return nil
}

func (r *redisState) AddFault(ctx context.Context, f Fault) (Fault, error) {
	f.ID, f.Left = "", 0
	b, err := json.Marshal(f)
	if err != nil {
		return Fault{}, err
	}
	id, err := addFaultScript.Run(ctx, r.c, []string{RedisKey}, b, f.Count).Int64()
	if err != nil {
		return Fault{}, fmt.Errorf("control: redis: %w", err)
	}
	f.ID, f.Left = strconv.FormatInt(id, 10), f.Count
	return f, nil
}

func (r *redisState) TakeFault(ctx context.Context, id string) (bool, error) {
	n, err := takeFaultScript.Run(ctx, r.c, []string{RedisKey}, id).Int64()
	if err != nil {
		return false, fmt.Errorf("control: redis: %w", err)
	}
	return n == 1, nil
}

func (r *redisState) ClearFaults(ctx context.Context) error {
	if err := clearFaultsScript.Run(ctx, r.c, []string{RedisKey}).Err(); err != nil {
		return fmt.Errorf("control: redis: %w", err)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
