import type { Redis } from 'ioredis'

/** Flags of one call: renew this process's liveness (and reap dead processes), collect grants others made for it, close. */
export const RENEW = 1
export const COLLECT = 2
export const CLOSE = 4

// The one script that changes the limiter's state, so every grant is decided atomically. Its work is
// O(log n) in the number of waiting calls per call it is told about, whatever the queue's length.
//
// Fairness is start-time fair queuing: each waiting call gets a tag when it arrives, its run's previous
// tag + 1, but never below the tag being served now (`v`); the queue is a sorted set by tag, then
// arrival. So runs with waiting calls are served round-robin, one call each per round, and a run that
// arrives late joins the current round instead of waiting behind a long run's fan-out.
//
// KEYS: queue (call id → tag and arrival), held (call ids holding a slot), owners (process → liveness
//   expiry), tags (run → its last call's tag), state (hash: v = tag served last, s = arrivals so far).
// ARGV: me, concurrency, leaseMs, channel, grants key prefix, flags, then three lists, each its length
//   first: finished calls (release), withdrawn calls, arriving calls as (id, run) pairs.
// Call ids are `${process}:${n}`. Calls granted for another process are pushed on its grants list
// and the process is told on the channel; a process whose liveness lapsed is reaped (its slots come
// back: a scan of the held set, at most about `concurrency` ids, once per dead process) and its
// waiting calls are dropped when they come up. Returns { lost (1: this process had
// lapsed, send every waiting call again), ids of this process's calls that now hold a slot... }.
const TICK = `
local queue, held, owners, tags, state = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local me, concurrency, leaseMs, channel, grants = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local flags = tonumber(ARGV[6])
-- A score is tag * 2^20 + arrival: calls with one tag go in arrival order.
local TIE = 1048576
local now
local function clock()
  if not now then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return now
end
local function ownerOf(id) return string.match(id, '^[^:]*') end
local function many(cmd, key, list)
  for s = 1, #list, 1000 do redis.call(cmd, key, unpack(list, s, math.min(s + 999, #list))) end
end
local i = 7
local function take()
  local n = tonumber(ARGV[i])
  local list = {}
  for j = 1, n do list[j] = ARGV[i + j] end
  i = i + n + 1
  return list
end
local function has(flag) return math.floor(flags / flag) % 2 == 1 end

local lost, mine = 0, {}
if has(1) then
  clock()
  local prev = redis.call('ZSCORE', owners, me)
  if not prev or tonumber(prev) < now then lost = 1 end
  redis.call('ZADD', owners, now + leaseMs, me)
  for _, o in ipairs(redis.call('ZRANGEBYSCORE', owners, '-inf', '(' .. now, 'LIMIT', 0, 16)) do
    redis.call('ZREM', owners, o)
    redis.call('DEL', grants .. o)
    local theirs = {}
    for _, id in ipairs(redis.call('SMEMBERS', held)) do
      if ownerOf(id) == o then theirs[#theirs + 1] = id end
    end
    many('SREM', held, theirs)
  end
end
if has(2) then
  mine = redis.call('LRANGE', grants .. me, 0, -1)
  if #mine > 0 then redis.call('DEL', grants .. me) end
end
if has(4) then
  redis.call('ZREM', owners, me)
  redis.call('DEL', grants .. me)
end
local released = take()
many('SREM', held, released)
local withdrawn = take()
many('ZREM', queue, withdrawn)
many('SREM', held, withdrawn)

local arriving = take()
local queued, active, seq
if #arriving > 0 then
  queued = redis.call('ZCARD', queue)
  active = redis.call('SCARD', held)
  if queued == 0 and active + #arriving / 2 <= concurrency then
    local ids = {}
    for j = 1, #arriving, 2 do ids[#ids + 1] = arriving[j] end
    many('SADD', held, ids)
    for _, id in ipairs(ids) do mine[#mine + 1] = id end
    active = active + #ids
    arriving = {}
  else
    local st = redis.call('HMGET', state, 'v', 's')
    local v = tonumber(st[1]) or 0
    seq = tonumber(st[2]) or 0
    local nextTag, order, entries = {}, {}, {}
    for j = 1, #arriving, 2 do
      local id, run = arriving[j], arriving[j + 1]
      local tag = nextTag[run]
      if not tag then
        local last = redis.call('ZSCORE', tags, run)
        tag = v
        if last and tonumber(last) + 1 > tag then tag = tonumber(last) + 1 end
        order[#order + 1] = run
      end
      nextTag[run] = tag + 1
      seq = seq + 1
      entries[#entries + 1] = tag * TIE + seq % TIE
      entries[#entries + 1] = id
    end
    for s = 1, #entries, 1000 do
      redis.call('ZADD', queue, 'NX', unpack(entries, s, math.min(s + 999, #entries)))
    end
    local last = {}
    for _, run in ipairs(order) do
      last[#last + 1] = nextTag[run] - 1
      last[#last + 1] = run
    end
    for s = 1, #last, 1000 do redis.call('ZADD', tags, unpack(last, s, math.min(s + 999, #last))) end
    queued = queued + #arriving / 2
  end
end

if queued == nil then queued = redis.call('ZCARD', queue) end
if queued > 0 then
  active = active or redis.call('SCARD', held)
  local granted, others, names, alive = {}, {}, {}, { [me] = true }
  local served, drained = nil, false
  while active < concurrency and not drained do
    local want = concurrency - active
    local popped = redis.call('ZPOPMIN', queue, want)
    drained = #popped < want * 2
    for j = 1, #popped, 2 do
      local id = popped[j]
      local o = ownerOf(id)
      if alive[o] == nil then
        local expiry = redis.call('ZSCORE', owners, o)
        alive[o] = expiry ~= false and tonumber(expiry) >= clock()
      end
      if alive[o] then
        served = math.floor(tonumber(popped[j + 1]) / TIE)
        granted[#granted + 1] = id
        active = active + 1
        if o == me then
          mine[#mine + 1] = id
        else
          if not others[o] then
            others[o] = {}
            names[#names + 1] = o
          end
          local theirs = others[o]
          theirs[#theirs + 1] = id
        end
      end
    end
  end
  many('SADD', held, granted)
  for _, o in ipairs(names) do
    many('RPUSH', grants .. o, others[o])
    redis.call('PEXPIRE', grants .. o, 2 * leaseMs)
  end
  if #names > 0 then redis.call('PUBLISH', channel, table.concat(names, ' ')) end
  if served and not drained then drained = redis.call('ZCARD', queue) == 0 end
  if drained then
    redis.call('DEL', state, tags)
  elseif served then
    if seq then redis.call('HSET', state, 'v', served, 's', seq) else redis.call('HSET', state, 'v', served) end
    redis.call('ZREMRANGEBYSCORE', tags, '-inf', '(' .. served)
  elseif seq then
    redis.call('HSET', state, 's', seq)
  end
end
table.insert(mine, 1, lost)
return mine
`

export type Tick = (...args: Array<string | number>) => Promise<[number, ...string[]]>

/** The limiter's script on `redis` (defined once per client), bound to it. */
export function tickScript(redis: Redis): Tick {
  redis.defineCommand('chorusLimiterTick', { numberOfKeys: 5, lua: TICK })
  const client = redis as unknown as { chorusLimiterTick: Tick }
  return client.chorusLimiterTick.bind(client)
}
