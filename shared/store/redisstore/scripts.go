package redisstore

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
)

// script is a Lua script run with EVALSHA (and EVAL once per server when the
// server does not have it cached yet).
type script struct {
	src string
	sha string
}

func newScript(body string) *script { return newScriptBase(0, body) }

// newScriptBase is newScript for a script whose account keys start at
// KEYS[ab + 1] (AB in the prelude): after ab keys of the destination.
func newScriptBase(ab int, body string) *script {
	src := "local AB = " + strconv.Itoa(ab) + "\n" + prelude + body
	sum := sha1.Sum([]byte(src))
	return &script{src: src, sha: hex.EncodeToString(sum[:])}
}

// prelude holds the helpers every script shares. Times are microseconds on
// the server's clock (TIME) plus the clock offset, the last argument of every
// script that reads the time (0 unless the test kit moved the clock; see
// Store.UseClock); key lifetimes are milliseconds (PEXPIRE), rounded up.
// Numbers go to redis.call as Lua numbers, which Redis writes as exact
// integers (never through tostring, which keeps only 14 digits).
const prelude = `
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2]) + (tonumber(ARGV[#ARGV]) or 0)
end
local function ms(us)
  local m = math.ceil(us / 1000)
  if m < 1 then m = 1 end
  return m
end
-- gcra consumes one event of limit per per_us at key (burst = limit). It
-- returns 1 or 0 and, when refused, the wait in microseconds.
local function gcra(key, limit, per_us, now)
  if limit <= 0 or per_us <= 0 then return 0, per_us end
  local interval = math.floor(per_us / limit)
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  local nxt = tat + interval
  local over = nxt - now - per_us
  if over > 0 then return 0, over end
  redis.call('SET', key, nxt, 'PX', ms(nxt - now))
  return 1, 0
end
-- same compares two strings in time independent of where they differ.
local function same(a, b)
  if type(a) ~= 'string' or type(b) ~= 'string' or #a ~= #b then return false end
  local d = 0
  for i = 1, #a do d = bit.bor(d, bit.bxor(string.byte(a, i), string.byte(b, i))) end
  return d == 0
end
-- Durable records: a collection is three keys, KEYS[c] the hash key -> value,
-- KEYS[c+1] the sorted set key -> sequence, KEYS[c+2] the sequence counter.
-- read_ops reads n ops of 5 arguments each from ARGV starting at i:
-- kind, c, key, value, max.
local INSERT, PUT, INCR, REMOVE, MUSTEXIST, MUSTNOTEXIST = 0, 1, 2, 3, 4, 5
local function read_ops(i)
  local n = tonumber(ARGV[i])
  local ops = {}
  for j = 1, n do
    local b = i + (j - 1) * 5
    ops[j] = {kind = tonumber(ARGV[b + 1]), c = AB + tonumber(ARGV[b + 2]), key = ARGV[b + 3], value = ARGV[b + 4], max = tonumber(ARGV[b + 5])}
  end
  return ops
end
-- precheck returns the 0-based index of the first op whose precondition
-- fails against the records as they are, or -1.
local function precheck(ops)
  for i, op in ipairs(ops) do
    local h = KEYS[op.c]
    if op.kind == INCR then
      if op.max > 0 and (tonumber(redis.call('HGET', h, op.key)) or 0) >= op.max then return i - 1 end
    else
      local exists = redis.call('HEXISTS', h, op.key) == 1
      if (op.kind == INSERT or op.kind == MUSTNOTEXIST) and exists then return i - 1 end
      if (op.kind == REMOVE or op.kind == MUSTEXIST) and not exists then return i - 1 end
    end
  end
  return -1
end
local function put(c, key, value)
  if redis.call('HSET', KEYS[c], key, value) == 1 then
    local seq = redis.call('INCR', KEYS[c + 2])
    redis.call('ZADD', KEYS[c + 1], seq, key)
  end
end
-- Calendar periods in UTC (store.PeriodBounds): civil returns the year and
-- month of a day number (days since 1970-01-01), days_from the day number of
-- a date (H. Hinnant's algorithms).
local DAY = 86400000000
local function civil(z)
  z = z + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m
end
local function days_from(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = m > 2 and m - 3 or m + 9
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end
-- period returns the id and the end (µs) of the calendar period p (1 day,
-- 2 month) that holds now.
local function period(p, now)
  local day = math.floor(now / DAY)
  if p == 1 then return day, (day + 1) * DAY end
  local y, m = civil(day)
  local ny, nm = y, m + 1
  if nm > 12 then ny, nm = y + 1, 1 end
  return y * 12 + m - 1, days_from(ny, nm, 1) * DAY
end
-- A code is one field of its destination's hash, k:ID, whose value is
-- "x:a:i:d": expiry µs, attempts, issue time µs (empty unless issued with
-- conversions) and digest (empty once revoked or burned).
local function getcode(v)
  if not v then return nil end
  local p1 = string.find(v, ':', 1, true)
  local p2 = string.find(v, ':', p1 + 1, true)
  local p3 = string.find(v, ':', p2 + 1, true)
  return {x = tonumber(string.sub(v, 1, p1 - 1)), a = tonumber(string.sub(v, p1 + 1, p2 - 1)),
    i = tonumber(string.sub(v, p2 + 1, p3 - 1)), d = string.sub(v, p3 + 1)}
end
local function putcode(x, a, i, d)
  local is = ''
  if i then is = string.format('%.0f', i) end
  return string.format('%.0f', x) .. ':' .. string.format('%.0f', a) .. ':' .. is .. ':' .. d
end
local function hash(key)
  local flat = redis.call('HGETALL', key)
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  return h
end
local function apply(ops)
  for _, op in ipairs(ops) do
    if op.kind == INSERT or op.kind == PUT then
      put(op.c, op.key, op.value)
    elseif op.kind == INCR then
      put(op.c, op.key, (tonumber(redis.call('HGET', KEYS[op.c], op.key)) or 0) + 1)
    elseif op.kind == REMOVE then
      redis.call('HDEL', KEYS[op.c], op.key)
      redis.call('ZREM', KEYS[op.c + 1], op.key)
    end
  end
end
`

// issueScript runs an IssueOp (status: a store.IssueStatus).
//
// KEYS: 1 the destination's hash, [rate key], [guard collection hash].
// ARGV: 1 cooldown µs, 2 TTL µs, 3 max attempts, 4 digest, 5 rate key index
// (0: none), 6 rate limit, 7 rate period µs, 8 guard key index (0: none),
// 9 guard record key, 10 guard max, 11 number of windows, then per window its
// period µs and max; then the number of counters and per counter its key
// index, period (0 sliding, 1 day, 2 month), span µs, bucket µs, max and add;
// then the number of conversions and per conversion its key index, span µs,
// bucket µs, mature µs, min issued, min per mille, cool-off µs and trickle µs;
// then the code key, last the clock offset µs. It returns {status, window index, retry-after µs, attempts carried, counter
// or conversion index, first}.
//
// A counter is a hash: b:K per bucket K (sliding) or p (period id) and n
// (calendar), and w while it refuses. A conversion is a hash: i:K and v:K
// (issued and verified per bucket K of the issue time), B (end of the
// cool-off; kept through the probation), N (on probation: the next issue
// allowed) and R (when the counts started again). Both expire with their
// span (a counter's calendar period) after their last issue.
//
// The destination's hash (the IssueOp's LimitKey) holds everything of one
// destination: c (cooldown end), per window period P s:P (start) and n:P
// (count), and per code key K the code, k:K (see getcode: expiry, attempts,
// issue time when issued with conversions, digest), so a code and its
// attempts are one field and die together. The hash lives as long as its
// cooldown, its longest running window or its longest living code; expired
// codes of other keys are dropped when a code is issued. A fresh send
// without the fraud guard runs seven commands (TIME among them) on three
// keys.
var issueScript = newScriptBase(1, issueArgsLua+issueAccountFirst+issueDestCheck+issueMeterCheck+issueDestCommit+issueMeterCommit+`
return {0, 0, 0, carried}
`)

// The parts of issueScript, which a Redis Cluster runs as two scripts on two
// slots (issueAccountScript and issueDestScript; see Store.Issue). Each part
// reads the variables the parts before it set.
const (
	// issueArgsLua reads the arguments. The account's keys are KEYS[AB + i]
	// for the key indexes i of ARGV.
	issueArgsLua = `
local now = now_us()
local cooldown, ttl, maxatt, digest = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local ri, rlimit, rper = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local gi, gkey, gmax = tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[10])
local nwin = tonumber(ARGV[11])
local mi = 12 + 2 * nwin
local ncnt = tonumber(ARGV[mi]) or 0
local ci = mi + 1 + ncnt * 6
local ncv = tonumber(ARGV[ci]) or 0
local dest, cid = KEYS[1], 'k:' .. ARGV[#ARGV - 1]
`
	// issueAccountFirst: the request rate and the guard, checked first.
	issueAccountFirst = `
if ri > 0 then
  local ok, wait = gcra(KEYS[AB + ri], rlimit, rper, now)
  if ok == 0 then return {1, 0, wait, 0} end
end
if gi > 0 and gmax > 0 then
  if (tonumber(redis.call('HGET', KEYS[AB + gi], gkey)) or 0) >= gmax then return {4, 0, 0, 0} end
end
`
	// issueDestCheck: the cooldown and the send windows (the hash h of the
	// destination; set and need are what issueDestCommit writes, starts the
	// window starts that an undo matches).
	issueDestCheck = `
local h = hash(dest)
local until_ = tonumber(h.c) or 0
if now < until_ then return {2, 0, until_ - now, 0} end
local set, need, starts = {'c', now + cooldown}, cooldown, {}
for i = 1, nwin do
  local p = ARGV[10 + 2 * i]
  local period, cap = tonumber(p), tonumber(ARGV[11 + 2 * i])
  local start = tonumber(h['s:' .. p])
  if start and now < start + period then
    local n = tonumber(h['n:' .. p]) or 0
    if n >= cap then return {3, i - 1, start + period - now, 0} end
    set[#set + 1], set[#set + 2] = 'n:' .. p, n + 1
    starts[i] = start
    if start + period - now > need then need = start + period - now end
  else
    set[#set + 1], set[#set + 2], set[#set + 3], set[#set + 4] = 's:' .. p, now, 'n:' .. p, 1
    starts[i] = now
    if period > need then need = period end
  end
  h['s:' .. p] = nil
end
`
	// issueMeterCheck: the fraud guard's conversions and counters, checked
	// after the windows (conversions first), counted by issueMeterCommit.
	issueMeterCheck = `
-- The fraud guard (store.Conversion, store.Counter): checked after the
-- windows, conversions first, counted below with the code.
local cvs = {}
for j = 1, ncv do
  local b = ci + (j - 1) * 8
  local c = {key = KEYS[AB + tonumber(ARGV[b + 1])], span = tonumber(ARGV[b + 2]), bucket = tonumber(ARGV[b + 3]),
    mature = tonumber(ARGV[b + 4]), min = tonumber(ARGV[b + 5]), permille = tonumber(ARGV[b + 6]),
    cooloff = tonumber(ARGV[b + 7]), trickle = tonumber(ARGV[b + 8]), stale = {}}
  local hv = hash(c.key)
  c.fields = hv
  c.blocked = tonumber(hv.B)
  if c.blocked and now < c.blocked then return {6, 0, c.blocked - now, 0, j - 1, 0} end
  local nxt = tonumber(hv.N) or 0
  if c.blocked and now < nxt then return {6, 0, nxt - now, 0, j - 1, 0} end
  local iss, ver = 0, 0
  for f, v in pairs(hv) do
    if string.sub(f, 1, 2) == 'i:' then
      local k = tonumber(string.sub(f, 3))
      if (k + 1) * c.bucket <= now - c.span then
        c.stale[#c.stale + 1] = f
        c.stale[#c.stale + 1] = 'v:' .. string.sub(f, 3)
      elseif (k + 1) * c.bucket + c.mature <= now then
        iss = iss + tonumber(v)
        ver = ver + (tonumber(hv['v:' .. string.sub(f, 3)]) or 0)
      end
    end
  end
  if iss >= c.min and iss > 0 and ver * 1000 < c.permille * iss then
    redis.call('DEL', c.key)
    redis.call('HSET', c.key, 'B', now + c.cooloff, 'R', now)
    redis.call('PEXPIRE', c.key, ms(c.cooloff + c.span + c.bucket))
    return {6, 0, c.cooloff, 0, j - 1, 1}
  end
  if c.blocked and iss >= c.min then
    redis.call('HDEL', c.key, 'B', 'N')
    c.blocked = nil
  end
  cvs[j] = c
end
local cnts = {}
for j = 1, ncnt do
  local b = mi + (j - 1) * 6
  local c = {key = KEYS[AB + tonumber(ARGV[b + 1])], period = tonumber(ARGV[b + 2]), span = tonumber(ARGV[b + 3]),
    bucket = tonumber(ARGV[b + 4]), max = tonumber(ARGV[b + 5]), add = tonumber(ARGV[b + 6]), stale = {}}
  local hc = hash(c.key)
  c.w = hc.w ~= nil
  c.fields = hc
  local total, buckets = 0, {}
  if c.period > 0 then
    c.id, c.fin = period(c.period, now)
    if tonumber(hc.p) == c.id then total = tonumber(hc.n) or 0 else c.rolled = true end
  else
    for f, v in pairs(hc) do
      if string.sub(f, 1, 2) == 'b:' then
        local k = tonumber(string.sub(f, 3))
        if (k + 1) * c.bucket > now - c.span then
          total = total + tonumber(v)
          buckets[#buckets + 1] = {k, tonumber(v)}
        else
          c.stale[#c.stale + 1] = f
        end
      end
    end
  end
  if total + c.add > c.max then
    local first = (hc.w == nil or c.rolled) and 1 or 0
    local retry = c.span
    if c.period > 0 then
      retry = c.fin - now
      redis.call('HSET', c.key, 'p', c.id, 'n', total, 'w', 1)
      redis.call('PEXPIRE', c.key, ms(c.fin - now))
    else
      if c.add <= c.max then
        table.sort(buckets, function(x, y) return x[1] < y[1] end)
        local left = total
        for _, kb in ipairs(buckets) do
          left = left - kb[2]
          if left + c.add <= c.max then
            retry = (kb[1] + 1) * c.bucket + c.span - now
            break
          end
        end
      end
      redis.call('HSET', c.key, 'w', 1)
      redis.call('PEXPIRE', c.key, ms(c.span + c.bucket))
    end
    return {5, 0, retry, 0, j - 1, first}
  end
  cnts[j] = c
end
`
	// issueDestCommit: the cooldown, the windows and the new code.
	issueDestCommit = `
-- The new code; the old one's attempts carry over while it lives.
local carried = 0
local oldv = h[cid]
local old = getcode(oldv)
h[cid] = nil
if old and now < old.x and old.a < maxatt then carried = old.a end
local issued = nil
if ncv > 0 then issued = now end
local newv = putcode(now + ttl, carried, issued, digest)
set[#set + 1], set[#set + 2] = cid, newv
if ttl > need then need = ttl end
-- Windows of other periods (another configuration) and other live codes
-- keep the hash while they run; expired codes go.
local stale = {}
for f, v in pairs(h) do
  local t = string.sub(f, 1, 2)
  if t == 's:' then
    local left = tonumber(v) + tonumber(string.sub(f, 3)) - now
    if left > need then need = left end
  elseif t == 'k:' then
    local left = getcode(v).x - now
    if left > 0 then
      if left > need then need = left end
    else
      stale[#stale + 1] = f
    end
  end
end
redis.call('HSET', dest, unpack(set))
if #stale > 0 then redis.call('HDEL', dest, unpack(stale)) end
redis.call('PEXPIRE', dest, ms(need))
`
	// issueMeterCommit counts the issue in every counter and conversion.
	issueMeterCommit = `
for _, c in ipairs(cnts) do
  if c.period > 0 then
    if c.rolled then
      redis.call('HSET', c.key, 'p', c.id, 'n', c.add)
    else
      redis.call('HINCRBY', c.key, 'n', c.add)
    end
    if c.w then redis.call('HDEL', c.key, 'w') end
    -- The key lives to the end of its period, set when the period began.
    if c.rolled then redis.call('PEXPIRE', c.key, ms(c.fin - now)) end
  else
    local k = math.floor(now / c.bucket)
    redis.call('HINCRBY', c.key, 'b:' .. k, c.add)
    if c.w then c.stale[#c.stale + 1] = 'w' end
    if #c.stale > 0 then redis.call('HDEL', c.key, unpack(c.stale)) end
    -- The key lives while its newest bucket counts: set when that bucket
    -- began (its first issue), not on every issue.
    if not c.fields['b:' .. k] then redis.call('PEXPIRE', c.key, ms((k + 1) * c.bucket + c.span - now)) end
  end
end
for _, c in ipairs(cvs) do
  local k = math.floor(now / c.bucket)
  redis.call('HINCRBY', c.key, 'i:' .. k, 1)
  if #c.stale > 0 then redis.call('HDEL', c.key, unpack(c.stale)) end
  if c.blocked then
    redis.call('HSET', c.key, 'N', now + c.trickle)
    local need = c.span + c.bucket
    if c.blocked - now + need > need then need = c.blocked - now + need end
    redis.call('PEXPIRE', c.key, ms(need))
  elseif not c.fields['i:' .. k] then
    -- The key lives while its newest bucket counts: set when that bucket
    -- began, not on every issue.
    redis.call('PEXPIRE', c.key, ms((k + 1) * c.bucket + c.span - now))
  end
end
`
)

// issueAccountScript is the account's half of issueScript on a Redis
// Cluster: the rate, the guard, the counters and conversions, on the
// account's slot. KEYS: the account's keys (AB = 0); ARGV: issueScript's.
// It returns issueScript's refusals, or {0, 0, 0, 0, 0, 0, now} when it
// counted the issue (now: for refundScript).
var issueAccountScript = newScript(issueArgsLua + issueAccountFirst + issueMeterCheck + issueMeterCommit + `
return {0, 0, 0, 0, 0, 0, now}
`)

// issueDestScript is the destination's half of issueScript on a Redis
// Cluster: the cooldown, the windows and the code, on the destination's
// slot. KEYS: 1 the destination's hash; ARGV: issueScript's. It returns
// issueScript's refusals, or {0, 0, 0, attempts carried, the cooldown end
// it wrote, the code's old value (empty for none), its new value, the old
// cooldown (empty for none), then the start of each window} when it issued:
// what undoScript needs.
var issueDestScript = newScript(issueArgsLua + issueDestCheck + issueDestCommit + `
local out = {0, 0, 0, carried, set[2], oldv or '', newv, h.c or ''}
for i = 1, nwin do out[#out + 1] = starts[i] end
return out
`)

// undoScript takes back what issueDestScript did when the account's half
// refused or failed, as far as nothing else changed it since: the code goes
// back to its old value, the cooldown to its old end, and each window that
// still has the start the issue counted in counts one less. KEYS: 1 the
// destination's hash. ARGV: 1 the code key, 2 the code's value the issue
// wrote, 3 its old value (empty for none), 4 the cooldown end the issue wrote,
// 5 the old cooldown (empty for none), 6 the number of windows, then per window
// its period and the start the issue counted in.
var undoScript = newScript(`
local dest, cid = KEYS[1], 'k:' .. ARGV[1]
local v = redis.call('HMGET', dest, cid, 'c')
if v[1] == ARGV[2] then
  if ARGV[3] == '' then redis.call('HDEL', dest, cid) else redis.call('HSET', dest, cid, ARGV[3]) end
end
if v[2] == ARGV[4] then
  if ARGV[5] == '' then redis.call('HDEL', dest, 'c') else redis.call('HSET', dest, 'c', ARGV[5]) end
end
for i = 1, tonumber(ARGV[6]) do
  local p, start = ARGV[5 + 2 * i], ARGV[6 + 2 * i]
  local w = redis.call('HMGET', dest, 's:' .. p, 'n:' .. p)
  if w[1] == start then
    local n = (tonumber(w[2]) or 0) - 1
    if n > 0 then redis.call('HSET', dest, 'n:' .. p, n) else redis.call('HDEL', dest, 's:' .. p, 'n:' .. p) end
  end
end
return 0
`)

// refundScript takes back the counts issueAccountScript added when the
// destination's half refused or failed: one issue in each conversion's
// bucket and the amount in each counter's, at the time the account's half
// ran. The request rate stays consumed, as it does when issueScript's
// cooldown refuses. KEYS and ARGV: issueAccountScript's, with ARGV[#ARGV - 1]
// the time (µs) it returned.
var refundScript = newScript(issueArgsLua + `
now = tonumber(ARGV[#ARGV - 1])
for j = 1, ncnt do
  local b = mi + (j - 1) * 6
  local key, per, bucket, add = KEYS[tonumber(ARGV[b + 1])], tonumber(ARGV[b + 2]), tonumber(ARGV[b + 4]), tonumber(ARGV[b + 6])
  if per > 0 then
    local id = period(per, now)
    if tonumber(redis.call('HGET', key, 'p')) == id then redis.call('HINCRBY', key, 'n', -add) end
  else
    local f = 'b:' .. math.floor(now / bucket)
    if redis.call('HEXISTS', key, f) == 1 then redis.call('HINCRBY', key, f, -add) end
  end
end
for j = 1, ncv do
  local b = ci + (j - 1) * 8
  local key, bucket = KEYS[tonumber(ARGV[b + 1])], tonumber(ARGV[b + 3])
  local f = 'i:' .. math.floor(now / bucket)
  if (tonumber(redis.call('HGET', key, f)) or 0) > 0 then redis.call('HINCRBY', key, f, -1) end
end
return 0
`)

// revokeScript: KEYS 1 the destination's hash; ARGV 1 the code key. It
// forgets the code's digest (its attempts stay until its expiry) and the
// cooldown.
var revokeScript = newScript(`
local cid = 'k:' .. ARGV[1]
local o = getcode(redis.call('HGET', KEYS[1], cid))
if o and o.d ~= '' then redis.call('HSET', KEYS[1], cid, putcode(o.x, o.a, o.i, '')) end
redis.call('HDEL', KEYS[1], 'c')
return 0
`)

// peekScript: KEYS 1 the destination's hash; ARGV 1 the code key, 2 a
// digest, 3 the clock offset µs. It returns {1 when the code is live with
// that digest, 1 while the destination is cooling down} and changes nothing.
var peekScript = newScript(`
local now = now_us()
local v = redis.call('HMGET', KEYS[1], 'k:' .. ARGV[1], 'c')
local o = getcode(v[1])
local live, cooling = 0, 0
if o and now < o.x and o.d == ARGV[2] then live = 1 end
if v[2] and now < tonumber(v[2]) then cooling = 1 end
return {live, cooling}
`)

// checkScript returns {status, attempts, op index} (store.CheckStatus).
//
// KEYS: 1 the destination's hash, [rate key], then three keys per collection
// of the ops. ARGV: 1 digest, 2 max attempts, 3 rate key index (0: none), 4
// rate limit, 5 rate period µs, 6 keep (1: on a match change nothing), 7..
// the ops (see read_ops), then the number of credits and per credit its key
// index, span µs and bucket µs (store.CheckOp.Credit), then the code key,
// last the clock offset µs.
var checkScript = newScriptBase(1, checkArgsLua+checkAccountFirst+checkDestFirst+`
redis.call('HDEL', dest, cid)
local issued = o.i
`+checkAccountCommit+`
return {0, a, 0}
`)

// The parts of checkScript, which a Redis Cluster runs as scripts on two
// slots (see Store.Check).
const (
	checkArgsLua = `
local now = now_us()
local dest, cid = KEYS[1], 'k:' .. ARGV[#ARGV - 1]
local digest, maxatt = ARGV[1], tonumber(ARGV[2])
local ri, rlimit, rper = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local keep = ARGV[6] == '1'
local ops = read_ops(7)
`
	// checkAccountFirst: the request rate, then the records' preconditions.
	checkAccountFirst = `
if ri > 0 then
  local ok = gcra(KEYS[AB + ri], rlimit, rper, now)
  if ok == 0 then return {4, 0, 0} end
end
local i = precheck(ops)
if i >= 0 then return {5, 0, i} end
`
	// checkDestFirst compares the code. A wrong guess counts an attempt
	// (and burns the code at the cap); its reply then also carries the
	// code's old and new values, for checkUndoScript.
	checkDestFirst = `
local oldv = redis.call('HGET', dest, cid)
local o = getcode(oldv)
if not o or now >= o.x then
  if o then redis.call('HDEL', dest, cid) end
  return {2, 0, 0}
end
local a = o.a
if a >= maxatt then return {3, a, 0} end
if o.d == '' then return {2, a, 0} end
if not same(o.d, digest) then
  a = a + 1
  local newv
  if a >= maxatt then newv = putcode(o.x, a, o.i, '') else newv = putcode(o.x, a, o.i, o.d) end
  redis.call('HSET', dest, cid, newv)
  if a >= maxatt then return {3, a, 0, oldv, newv} end
  return {1, a, 0, oldv, newv}
end
if keep then return {0, a, 0} end
`
	// checkAccountCommit writes the records and credits the conversions of
	// the code's send (store.CheckOp.Credit), issued being its issue time.
	checkAccountCommit = `
apply(ops)
local cp = 8 + 5 * #ops
local ncr = tonumber(ARGV[cp]) or 0
if issued then
  for j = 1, ncr do
    local b = cp + (j - 1) * 3
    local key, span, bucket = KEYS[AB + tonumber(ARGV[b + 1])], tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
    local k = math.floor(issued / bucket)
    if (k + 1) * bucket > now - span then
      local n = redis.call('HMGET', key, 'R', 'i:' .. k, 'v:' .. k)
      if n[2] and issued >= (tonumber(n[1]) or 0) and (tonumber(n[3]) or 0) < tonumber(n[2]) then
        redis.call('HINCRBY', key, 'v:' .. k, 1)
      end
    end
  end
end
`
)

// checkAccountScript is the account's first half of checkScript on a Redis
// Cluster: the rate and the preconditions. KEYS: the account's keys (AB =
// 0); ARGV: checkScript's. It returns checkScript's refusals or {0, 0, 0}.
var checkAccountScript = newScript(checkArgsLua + checkAccountFirst + `
return {0, 0, 0}
`)

// checkDestScript is the destination's half of checkScript on a Redis
// Cluster: it compares the code and consumes it on a match (unless keep).
// KEYS: 1 the destination's hash; ARGV: checkScript's. It returns
// {status, attempts, 0, the code's old value, its new value (empty when
// consumed), its issue time (empty for none)} when it changed the code.
var checkDestScript = newScript(checkArgsLua + checkDestFirst + `
redis.call('HDEL', dest, cid)
return {0, a, 0, oldv, '', o.i or ''}
`)

// checkCommitScript is the account's second half of checkScript on a Redis
// Cluster, run once the code was consumed: the preconditions again, then the
// records and the credits. KEYS and ARGV: checkAccountScript's, with
// ARGV[#ARGV - 1] the code's issue time (empty for none). It returns {0, 0, 0}
// or a conflict {5, 0, op index}.
var checkCommitScript = newScript(checkArgsLua + `
local i = precheck(ops)
if i >= 0 then return {5, 0, i} end
local issued = tonumber(ARGV[#ARGV - 1])
` + checkAccountCommit + `
return {0, 0, 0}
`)

// checkUndoScript puts back a code that checkDestScript changed, when the
// account's half refused, unless something changed it since. The hash and
// its lifetime are still there: every issue writes the cooldown field c,
// which a consume leaves. KEYS: 1 the
// destination's hash. ARGV: 1 the code key, 2 the value the check wrote
// (empty when it consumed the code), 3 the old value.
var checkUndoScript = newScript(`
local cid = 'k:' .. ARGV[1]
local v = redis.call('HGET', KEYS[1], cid)
if (ARGV[2] == '' and not v) or v == ARGV[2] then redis.call('HSET', KEYS[1], cid, ARGV[3]) end
return 0
`)

// allowScript: KEYS 1 rate key; ARGV 1 limit, 2 period µs, 3 clock offset
// µs. Returns 1 or 0.
var allowScript = newScript(`
local ok = gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), now_us())
return ok
`)

// applyScript: KEYS three per collection; ARGV the ops. Returns -1 or the
// index of the op whose precondition failed.
var applyScript = newScript(`
local ops = read_ops(1)
local i = precheck(ops)
if i >= 0 then return i end
apply(ops)
return -1
`)

// listScript: KEYS 1 hash, 2 sorted set; ARGV 1 offset, 2 limit. Returns
// {total, key, seq, value, key, seq, value, ...}.
var listScript = newScript(`
local total = redis.call('ZCARD', KEYS[2])
local offset, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {total}
if offset >= total or limit <= 0 then return out end
local members = redis.call('ZRANGE', KEYS[2], offset, offset + limit - 1, 'WITHSCORES')
for j = 1, #members, 2 do
  local v = redis.call('HGET', KEYS[1], members[j])
  if v then
    out[#out + 1] = members[j]
    out[#out + 1] = tonumber(members[j + 1])
    out[#out + 1] = v
  end
end
return out
`)
