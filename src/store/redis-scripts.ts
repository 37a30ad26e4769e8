/** Ended runs (and their steps) expire on their own after this, in case nothing prunes them. */
export const ENDED_RUN_TTL_MS = 7 * 24 * 60 * 60 * 1000

// Keeps the ended-runs index and the safety TTL in step with `updatedAt`.
// KEYS: run, steps, ended. ARGV: now, id, ttlMs (as the script's last three).
const TOUCH = `
local function touch(now, id, ttl)
  if redis.call('HGET', KEYS[1], 'status') ~= 'running' then
    redis.call('ZADD', KEYS[3], 'XX', now, id)
    redis.call('PEXPIRE', KEYS[1], ttl)
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
end
`

/** The run store's Lua scripts, one per change, so each is atomic (defined through ioredis' `defineCommand`). */
export const SCRIPTS = {
  // KEYS: run, running. ARGV: id, command, input, user, target, createdAt, now.
  chorusStoreCreate: {
    numberOfKeys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'command', ARGV[2], 'input', ARGV[3], 'user', ARGV[4],
  'target', ARGV[5], 'status', 'running', 'createdAt', ARGV[6], 'updatedAt', ARGV[7], 'delivered', '')
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
return 1`,
  },
  // KEYS: running. ARGV: run key prefix. Returns each running run's hash, oldest first.
  chorusStoreUnfinished: {
    numberOfKeys: 1,
    readOnly: true,
    lua: `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local h = redis.call('HGETALL', ARGV[1] .. id)
  if #h > 0 then out[#out + 1] = h end
end
return out`,
  },
  // KEYS: steps, run. ARGV: field, value ('1' or '0' then the payload), ttlMs for orphans.
  chorusStoreStep: {
    numberOfKeys: 2,
    lua: `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and string.sub(cur, 1, 1) == '1' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[2])
if ttl == -2 then ttl = tonumber(ARGV[3]) end
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`,
  },
  // KEYS: run, steps, ended. ARGV: target, now, id, ttlMs.
  chorusStoreTarget: {
    numberOfKeys: 3,
    lua: `${TOUCH}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'target', ARGV[1], 'updatedAt', ARGV[2])
touch(ARGV[2], ARGV[3], ARGV[4])
return 1`,
  },
  // KEYS: run, steps, ended. ARGV: view, now, id, ttlMs.
  chorusStoreDelivered: {
    numberOfKeys: 3,
    lua: `${TOUCH}
local d = redis.call('HGET', KEYS[1], 'delivered')
if not d then return 0 end
if string.find(',' .. d, ',' .. ARGV[1] .. ',', 1, true) then return 0 end
redis.call('HSET', KEYS[1], 'delivered', d .. ARGV[1] .. ',', 'updatedAt', ARGV[2])
touch(ARGV[2], ARGV[3], ARGV[4])
return 1`,
  },
  // KEYS: run, steps, running, ended. ARGV: status, stoppedBy, note ('1' + value, or '0'), now, id, ttlMs.
  chorusStoreFinish: {
    numberOfKeys: 4,
    lua: `
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updatedAt', ARGV[4])
if string.sub(ARGV[2], 1, 1) == '1' then redis.call('HSET', KEYS[1], 'stoppedBy', string.sub(ARGV[2], 2)) end
if string.sub(ARGV[3], 1, 1) == '1' then redis.call('HSET', KEYS[1], 'note', string.sub(ARGV[3], 2)) end
redis.call('ZREM', KEYS[3], ARGV[5])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', string.format('(%d', tonumber(ARGV[4]) - tonumber(ARGV[6])))
return 1`,
  },
  // KEYS: ended. ARGV: before, run key prefix, batch. Returns {runs deleted, index entries seen}.
  chorusStorePrune: {
    numberOfKeys: 1,
    lua: `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, ARGV[3])
local n = 0
for _, id in ipairs(ids) do
  local k = ARGV[2] .. id
  if redis.call('HGET', k, 'status') ~= 'running' then
    n = n + redis.call('DEL', k)
    redis.call('DEL', k .. ':steps')
  end
  redis.call('ZREM', KEYS[1], id)
end
return {n, #ids}`,
  },
  // KEYS: one sorted set of use times per limit. ARGV: now, member, then limit and windowMs per key.
  // Returns {1, remaining...} when every limit has room (one use counted in each), else {0, index, retryAt}.
  // No numberOfKeys: the caller passes the key count first (ioredis' variadic form).
  chorusStoreTake: {
    lua: `
local now = tonumber(ARGV[1])
local remaining = {1}
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n >= limit then
    local nth = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
    return {0, i - 1, tonumber(nth[2]) + window}
  end
  remaining[#remaining + 1] = limit - n - 1
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, tonumber(ARGV[2 + 2 * i]))
end
return remaining`,
  },
  // KEYS: total. ARGV: amount, ttlMs. The total expires ttlMs after its first spend.
  chorusStoreSpend: {
    numberOfKeys: 1,
    lua: `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return total`,
  },
} satisfies Record<string, { numberOfKeys?: number; lua: string; readOnly?: boolean }>
