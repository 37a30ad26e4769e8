import type { Redis } from 'ioredis'

// The one script that grants turns, so the window, a pause and the order between processes are
// decided atomically, on Redis' clock.
// KEYS: grants (turn id → time granted), paused (a 429's Retry-After, as the key's PX expiry),
//   claims (process → order of its best refused turn), expiry (process → when its claim lapses).
// ARGV: windowMs, owner, claimMs, blockedMs, then this process's best turns in its order, each as
//   id, cap (grants the window may hold before it), rank, arrival (on Redis' clock, as this script
//   returned it; -1 the first time), ageMs (how long it has waited).
// Grants turns in order until one must wait; returns { granted, ms to wait before asking again,
//   1 if what waits is another process's better turn, the arrival of the turn that waits }.
// A waiting turn keeps the arrival it was first given, so its claim and its later questions compare
// the same number with other processes' claims (no two processes can each wait for the other).
const ATTEMPT = `
local grants, paused, claims, expiry = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local windowMs, owner, claimMs, blockedMs = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
redis.call('ZREMRANGEBYSCORE', grants, '-inf', now - windowMs)
for _, o in ipairs(redis.call('ZRANGEBYSCORE', expiry, '-inf', now)) do
  redis.call('ZREM', claims, o)
  redis.call('ZREM', expiry, o)
end
local pausedMs = redis.call('PTTL', paused)
local granted, wait, refused, blocked, since = 0, 0, nil, 0, 0
for i = 5, #ARGV, 5 do
  local id, cap, rank, arrival = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  if arrival < 0 then arrival = math.floor(now - tonumber(ARGV[i + 4])) end
  -- Best priority first, then the earliest arrival, whichever process it waits in.
  local order = rank * 2^44 + arrival
  if pausedMs > 0 then
    wait = pausedMs
  else
    local count = redis.call('ZCARD', grants)
    if count >= cap then
      local edge = redis.call('ZRANGE', grants, count - cap, count - cap, 'WITHSCORES')
      wait = tonumber(edge[2]) + windowMs - now
    else
      local best = redis.call('ZRANGE', claims, 0, 1, 'WITHSCORES')
      local other
      if best[1] == owner then other = best[4] else other = best[2] end
      if other ~= nil and tonumber(other) < order then wait, blocked = blockedMs, 1 end
    end
  end
  if wait > 0 then
    refused, since = order, arrival
    break
  end
  redis.call('ZADD', grants, now, id)
  granted = granted + 1
end
if granted > 0 then redis.call('PEXPIRE', grants, math.ceil(windowMs)) end
if refused then
  redis.call('ZADD', claims, refused, owner)
  redis.call('ZADD', expiry, now + claimMs, owner)
else
  redis.call('ZREM', claims, owner)
  redis.call('ZREM', expiry, owner)
end
local last = redis.call('ZRANGE', expiry, -1, -1, 'WITHSCORES')
if last[2] then
  local ttl = math.ceil(tonumber(last[2]) - now)
  redis.call('PEXPIRE', claims, ttl)
  redis.call('PEXPIRE', expiry, ttl)
end
return { granted, math.ceil(wait), blocked, since }
`

// KEYS: paused. ARGV: ms. A pause only ever lengthens.
const PAUSE = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
`

export type Attempt = (
  ...args: Array<string | number>
) => Promise<[granted: number, waitMs: number, blocked: number, arrival: number]>
export type Pause = (key: string, ms: number) => Promise<unknown>

/** The budget's scripts on `redis` (defined once per client), bound to it. */
export function budgetScripts(redis: Redis): { attempt: Attempt; pause: Pause } {
  redis.defineCommand('chorusBudgetAttempt', { numberOfKeys: 4, lua: ATTEMPT })
  redis.defineCommand('chorusBudgetPause', { numberOfKeys: 1, lua: PAUSE })
  const client = redis as unknown as { chorusBudgetAttempt: Attempt; chorusBudgetPause: Pause }
  return { attempt: client.chorusBudgetAttempt.bind(client), pause: client.chorusBudgetPause.bind(client) }
}
