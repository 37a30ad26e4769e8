import type { Redis } from 'ioredis'

// A route's whole state is one string, read (with every route of the call, in one MGET) and written
// once per call:
//   <paused until>|<grant times, oldest first>|<process>:<order>:<expiry>,…
// (times in ms on Redis' clock, which Lua writes exactly below 1e14; only grants still in the window,
// at most `limit` of them, and claims not yet lapsed are kept; the key expires when the last of
// them would).
const STATE = `
local function load(raw, now, windowMs)
  local paused, grants, claims = 0, {}, {}
  if raw then
    local p, g, c = string.match(raw, '^(%d*)|([^|]*)|(.*)$')
    paused = tonumber(p) or 0
    for t in string.gmatch(g, '[^,]+') do
      local at = tonumber(t)
      if at > now - windowMs then grants[#grants + 1] = at end
    end
    for o, order, expiry in string.gmatch(c, '([^:,]+):([^:,]+):([^:,]+)') do
      if tonumber(expiry) > now then claims[o] = { tonumber(order), tonumber(expiry) } end
    end
  end
  return paused, grants, claims
end
local function save(key, now, windowMs, keep, paused, grants, claims)
  local expires, parts = 0, {}
  if paused > now then expires = paused else paused = 0 end
  local from = math.max(1, #grants - keep + 1)
  local times = {}
  for j = from, #grants do times[#times + 1] = grants[j] end
  if #grants > 0 then expires = math.max(expires, grants[#grants] + windowMs) end
  for o, c in pairs(claims) do
    parts[#parts + 1] = o .. ':' .. c[1] .. ':' .. c[2]
    expires = math.max(expires, c[2])
  end
  if expires <= now then
    redis.call('DEL', key)
  else
    local p = paused > 0 and paused or ''
    redis.call('SET', key, p .. '|' .. table.concat(times, ',') .. '|' .. table.concat(parts, ','), 'PX', math.ceil(expires - now))
  end
end
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

// The one script that grants turns, so the window, a pause and the order between processes are
// decided atomically, on Redis' clock; one call serves every route this process asks about in a
// turn of its event loop.
// KEYS: each route's state. ARGV: now (this process's estimate of Redis' clock, or -1 to read TIME),
//   owner, then per route: windowMs, limit, claimMs, blockedMs, the number of turns, then this
//   process's best turns on it in its order, each as cap (grants the window may hold before it),
//   rank, arrival (on Redis' clock, as this script returned it; -1 the first time), ageMs (how long
//   it has waited).
// On each route, grants turns in order until one must wait, and claims this process's place (the
// order of the turn that waits, lapsing after claimMs) or withdraws it. Returns, per route, { granted,
// ms to wait before asking again, 1 if what waits is another process's better turn, the arrival of
// the turn that waits, ms until a first result or final could be granted, ms until progress could
// be }, then the clock it used. On a route, an estimate behind its last grant is raised to it, so
// grants stay in order.
// A waiting turn keeps the arrival it was first given, so its claim and its later questions compare
// the same number with other processes' claims (no two processes can each wait for the other).
const ATTEMPT = `${STATE}
local function attempt(key, raw, now, owner, a)
  local windowMs, limit, claimMs, blockedMs = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local last = a + 4 + 4 * tonumber(ARGV[a + 4])
  local paused, grants, claims = load(raw, now, windowMs)
  if #grants > 0 and grants[#grants] > now then now = grants[#grants] end
  local other
  for o, c in pairs(claims) do
    if o ~= owner and (other == nil or c[1] < other) then other = c[1] end
  end
  local granted, wait, refused, blocked, since = 0, 0, nil, 0, 0
  for i = a + 5, last, 4 do
    local cap, rank, arrival = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
    if arrival < 0 then arrival = math.floor(now - tonumber(ARGV[i + 3])) end
    -- Best priority first, then the earliest arrival, whichever process it waits in.
    local order = rank * 2^44 + arrival
    if paused > now then
      wait = paused - now
    elseif #grants >= cap then
      wait = grants[#grants - cap + 1] + windowMs - now
    elseif other ~= nil and other < order then
      wait, blocked = blockedMs, 1
    end
    if wait > 0 then
      refused, since = order, arrival
      break
    end
    grants[#grants + 1] = now
    granted = granted + 1
  end
  if refused then claims[owner] = { refused, now + claimMs } else claims[owner] = nil end
  save(key, now, windowMs, limit, paused, grants, claims)
  -- When a first result or final, and progress, could go next at the earliest (other processes'
  -- grants and claims can only make it later): until then this process need not ask.
  local function freeIn(cap)
    local ms = paused - now
    if #grants >= cap then ms = math.max(ms, grants[#grants - cap + 1] + windowMs - now) end
    return math.max(0, math.ceil(ms))
  end
  return { granted, math.ceil(wait), blocked, since, freeIn(limit), freeIn(math.max(1, limit - 1)) }, last + 1
end
local now = tonumber(ARGV[1])
if now < 0 then now = clock() end
local raws = {}
for s = 1, #KEYS, 1000 do
  -- A missing key reads as false.
  local got = redis.call('MGET', unpack(KEYS, s, math.min(s + 999, #KEYS)))
  for j = 1, #got do raws[s + j - 1] = got[j] end
end
local out, a = {}, 3
for k = 1, #KEYS do
  out[k], a = attempt(KEYS[k], raws[k], now, ARGV[2], a)
end
out[#KEYS + 1] = now
return out
`

// KEYS: the route's state. ARGV: ms, windowMs. A pause only ever lengthens.
const PAUSE = `${STATE}
local now = clock()
local windowMs = tonumber(ARGV[2])
local paused, grants, claims = load(redis.call('GET', KEYS[1]), now, windowMs)
save(KEYS[1], now, windowMs, #grants, math.max(paused, now + tonumber(ARGV[1])), grants, claims)
`

/** What Redis answered for one route (see ATTEMPT). */
export type Answer = [
  granted: number,
  waitMs: number,
  blocked: number,
  arrival: number,
  anyMs: number,
  progressMs: number,
]
/** The script as ioredis calls it: the number of keys, the keys, then ARGV. */
export type Attempt = (...args: Array<string | number>) => Promise<[...Answer[], number]>
export type Pause = (key: string, ms: number, windowMs: number) => Promise<unknown>

/** The budget's scripts on `redis` (defined once per client), bound to it. */
export function budgetScripts(redis: Redis): { attempt: Attempt; pause: Pause } {
  redis.defineCommand('chorusBudgetAttempt', { lua: ATTEMPT })
  redis.defineCommand('chorusBudgetPause', { numberOfKeys: 1, lua: PAUSE })
  const client = redis as unknown as { chorusBudgetAttempt: Attempt; chorusBudgetPause: Pause }
  return { attempt: client.chorusBudgetAttempt.bind(client), pause: client.chorusBudgetPause.bind(client) }
}
