/** Ended runs (and their steps) expire on their own after this, in case nothing prunes them. */
export const ENDED_RUN_TTL_MS = 7 * 24 * 60 * 60 * 1000

// Keeps the ended-runs index and the safety TTL in step with `updatedAt`, for a run whose status
// the script read.
// KEYS: run, steps, ended, questions. ARGV: now, id, ttlMs (as the script's last three).
const TOUCH = `
local function touch(status, now, id, ttl)
  if status ~= 'running' then
    redis.call('ZADD', KEYS[3], 'XX', now, id)
    redis.call('PEXPIRE', KEYS[1], ttl)
    redis.call('PEXPIRE', KEYS[2], ttl)
    redis.call('PEXPIRE', KEYS[4], ttl)
  end
end
`

// Gives a run's steps or questions (KEYS[1]) the run's (KEYS[2]) safety TTL: none while it runs, the
// rest of its own once ended, a whole one when the run is gone (orphans must not live forever).
const FOLLOW_RUN = `
local function followRun(ttlMs)
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl == -2 then ttl = tonumber(ttlMs) end
  if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
end
`

// A question's fields in a run's questions hash (KEYS[1]): those whose name starts with `prefix`
// (redis-questions.ts names fields as JSON arrays that start with the question's id).
const RECORD = `
local function record(prefix)
  local out = {}
  local h = redis.call('HGETALL', KEYS[1])
  for i = 1, #h, 2 do
    if string.sub(h[i], 1, #prefix) == prefix then
      out[#out + 1] = h[i]
      out[#out + 1] = h[i + 1]
    end
  end
  return out
end
`

/** The run store's Lua scripts, one per change, so each is atomic (defined through ioredis' `defineCommand`). */
export const SCRIPTS = {
  // KEYS: run, running. ARGV: id, command, input, user, target, createdAt, now, userId ('1' + id, or '0'),
  // traceparent ('' for none). 'asked' turns '1' when the run opens a question (its questions hash
  // then needs the run's TTL at the end; a run from before the field counts as asked).
  chorusStoreCreate: {
    numberOfKeys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fields = { 'id', ARGV[1], 'command', ARGV[2], 'input', ARGV[3], 'user', ARGV[4], 'target', ARGV[5],
  'status', 'running', 'createdAt', ARGV[6], 'updatedAt', ARGV[7], 'delivered', '', 'parked', '0', 'wakes', '0',
  'asked', '0' }
if string.sub(ARGV[8], 1, 1) == '1' then
  fields[#fields + 1] = 'userId'
  fields[#fields + 1] = string.sub(ARGV[8], 2)
end
if ARGV[9] ~= nil and ARGV[9] ~= '' then
  fields[#fields + 1] = 'traceparent'
  fields[#fields + 1] = ARGV[9]
end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
return 1`,
  },
  // KEYS: running. ARGV: run key prefix. Returns each running, unparked run's hash, oldest first.
  chorusStoreUnfinished: {
    numberOfKeys: 1,
    readOnly: true,
    lua: `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.call('HGET', ARGV[1] .. id, 'parked') ~= '1' then
    local h = redis.call('HGETALL', ARGV[1] .. id)
    if #h > 0 then out[#out + 1] = h end
  end
end
return out`,
  },
  // KEYS: running. ARGV: run key prefix. Returns {id, wakeAt or ''} per parked run, oldest first.
  chorusStoreParkedRuns: {
    numberOfKeys: 1,
    readOnly: true,
    lua: `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local h = redis.call('HMGET', ARGV[1] .. id, 'parked', 'wakeAt')
  if h[1] == '1' then out[#out + 1] = {id, h[2] or ''} end
end
return out`,
  },
  // KEYS: run. ARGV: wakes, wakeAt ('' for none), now.
  chorusStorePark: {
    numberOfKeys: 1,
    lua: `
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'wakes') or '0') ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'parked', '1', 'updatedAt', ARGV[3])
if ARGV[2] == '' then redis.call('HDEL', KEYS[1], 'wakeAt') else redis.call('HSET', KEYS[1], 'wakeAt', ARGV[2]) end
return 1`,
  },
  // KEYS: run. ARGV: now. Returns 1 when the run was parked.
  chorusStoreWake: {
    numberOfKeys: 1,
    lua: `
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
local parked = redis.call('HGET', KEYS[1], 'parked') == '1'
redis.call('HINCRBY', KEYS[1], 'wakes', 1)
redis.call('HSET', KEYS[1], 'parked', '0', 'updatedAt', ARGV[1])
redis.call('HDEL', KEYS[1], 'wakeAt')
if parked then return 1 end
return 0`,
  },
  // KEYS: run, steps, ended, questions. ARGV: target, now, id, ttlMs.
  chorusStoreTarget: {
    numberOfKeys: 4,
    lua: `${TOUCH}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
redis.call('HSET', KEYS[1], 'target', ARGV[1], 'updatedAt', ARGV[2])
touch(status, ARGV[2], ARGV[3], ARGV[4])
return 1`,
  },
  // KEYS: run, steps, ended, questions. ARGV: view, now, id, ttlMs, target ('' for none).
  // The target changed with the view (a placeholder's message id) rides in the same write.
  chorusStoreDelivered: {
    numberOfKeys: 4,
    lua: `${TOUCH}
local h = redis.call('HMGET', KEYS[1], 'delivered', 'status', 'shown')
local d = h[1]
if not d then return 0 end
local seen = string.find(',' .. d, ',' .. ARGV[1] .. ',', 1, true)
local fields = { 'updatedAt', ARGV[2] }
if ARGV[5] ~= nil and ARGV[5] ~= '' then
  fields[#fields + 1] = 'target'
  fields[#fields + 1] = ARGV[5]
elseif seen then
  return 0
end
if not seen then
  fields[#fields + 1] = 'delivered'
  fields[#fields + 1] = d .. ARGV[1] .. ','
  fields[#fields + 1] = 'shown'
  fields[#fields + 1] = (h[3] or '') .. ARGV[1] .. ':' .. ARGV[2] .. ','
end
redis.call('HSET', KEYS[1], unpack(fields))
touch(h[2], ARGV[2], ARGV[3], ARGV[4])
return 1`,
  },
  // KEYS: run, steps, running, ended, questions. ARGV: status, stoppedBy, note ('1' + value, or '0'), now, id, ttlMs,
  // summary ('1' + JSON, or '0'), when the final view was shown ('' for not in this write).
  // The final view's delivery rides in the same write; recorded even when the run had ended (a Stop).
  // A run that recorded no step gets an empty steps hash with the TTL, so a straggler's late step
  // (a plain HSETNX) cannot leave one without. The ended index is trimmed of runs past their TTL
  // now and then (prune does the rest).
  chorusStoreFinish: {
    numberOfKeys: 5,
    lua: `
local h = redis.call('HMGET', KEYS[1], 'status', 'parked', 'delivered', 'shown', 'asked')
local fields = {}
if ARGV[8] ~= nil and ARGV[8] ~= '' and h[3] and not string.find(',' .. h[3], ',final,', 1, true) then
  fields = { 'delivered', h[3] .. 'final,', 'shown', (h[4] or '') .. 'final:' .. ARGV[8] .. ',' }
end
if h[1] ~= 'running' then
  if h[1] and #fields > 0 then
    fields[#fields + 1] = 'updatedAt'
    fields[#fields + 1] = ARGV[4]
    redis.call('HSET', KEYS[1], unpack(fields))
    redis.call('ZADD', KEYS[4], 'XX', ARGV[4], ARGV[5])
  end
  return 0
end
for _, v in ipairs({ 'status', ARGV[1], 'updatedAt', ARGV[4], 'parked', '0' }) do fields[#fields + 1] = v end
if string.sub(ARGV[2], 1, 1) == '1' then
  fields[#fields + 1] = 'stoppedBy'
  fields[#fields + 1] = string.sub(ARGV[2], 2)
end
if string.sub(ARGV[3], 1, 1) == '1' then
  fields[#fields + 1] = 'note'
  fields[#fields + 1] = string.sub(ARGV[3], 2)
end
if string.sub(ARGV[7] or '0', 1, 1) == '1' then
  fields[#fields + 1] = 'summary'
  fields[#fields + 1] = string.sub(ARGV[7], 2)
end
redis.call('HSET', KEYS[1], unpack(fields))
if h[2] == '1' then redis.call('HDEL', KEYS[1], 'wakeAt') end
redis.call('ZREM', KEYS[3], ARGV[5])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
if redis.call('PEXPIRE', KEYS[2], ARGV[6]) == 0 then
  redis.call('HSET', KEYS[2], '_', '')
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
if h[5] ~= '0' then redis.call('PEXPIRE', KEYS[5], ARGV[6]) end
if tonumber(ARGV[4]) % 16 == 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', string.format('(%d', tonumber(ARGV[4]) - tonumber(ARGV[6])))
end
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
    redis.call('DEL', k .. ':steps', k .. ':questions')
  end
  redis.call('ZREM', KEYS[1], id)
end
return {n, #ids}`,
  },
  // KEYS: running, ended. ARGV: run key prefix, limit, command, status, platform ('' = any), most
  // index entries to look at per set. Returns the matching runs' hashes, newest first from each set
  // (running by createdAt, ended by updatedAt); the caller merges them.
  chorusStoreRecent: {
    numberOfKeys: 2,
    readOnly: true,
    lua: `
local limit, cap = tonumber(ARGV[2]), tonumber(ARGV[6])
local out = {}
local function scan(key)
  local found, seen = 0, 0
  while found < limit and seen < cap do
    local ids = redis.call('ZREVRANGE', key, seen, seen + 199)
    if #ids == 0 then return end
    seen = seen + #ids
    for _, id in ipairs(ids) do
      local h = redis.call('HMGET', ARGV[1] .. id, 'command', 'status', 'target')
      local ok = h[1] and (ARGV[3] == '' or h[1] == ARGV[3]) and (ARGV[4] == '' or h[2] == ARGV[4])
      if ok and ARGV[5] ~= '' then ok = cjson.decode(h[3]).platform == ARGV[5] end
      if ok and found < limit then
        found = found + 1
        out[#out + 1] = redis.call('HGETALL', ARGV[1] .. id)
      end
    end
  end
end
if ARGV[4] == '' or ARGV[4] == 'running' then scan(KEYS[1]) end
if ARGV[4] ~= 'running' then scan(KEYS[2]) end
return out`,
  },
  // KEYS: run. ARGV: 'up' or 'down'. A run that is gone gets nothing.
  chorusStoreRate: {
    numberOfKeys: 1,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
return 1`,
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
  // KEYS: questions, run. ARGV: prefix, open field, question, ttlMs for orphans. Returns its fields.
  // The open field holds the open order (from the hash's 'opened' counter), a space, the question.
  chorusStoreOpenQuestion: {
    numberOfKeys: 2,
    lua: `${FOLLOW_RUN}${RECORD}
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then
  local seq = redis.call('HINCRBY', KEYS[1], 'opened', 1)
  redis.call('HSET', KEYS[1], ARGV[2], seq .. ' ' .. ARGV[3])
  followRun(ARGV[4])
  if redis.call('HGET', KEYS[2], 'asked') == '0' then redis.call('HSET', KEYS[2], 'asked', '1') end
end
return record(ARGV[1])`,
  },
  // KEYS: questions, run. ARGV: prefix, decision field, version field, answer field, answer, ttlMs.
  // Returns {kept (1 or 0), fields}. An answer field holds its first version (its place), a space, the answer.
  chorusStoreGiveAnswer: {
    numberOfKeys: 2,
    lua: `${FOLLOW_RUN}${RECORD}
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then return {0, record(ARGV[1])} end
local version = redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
local cur = redis.call('HGET', KEYS[1], ARGV[4])
local pos = cur and string.match(cur, '^(%d+) ') or version
redis.call('HSET', KEYS[1], ARGV[4], pos .. ' ' .. ARGV[5])
followRun(ARGV[6])
return {1, record(ARGV[1])}`,
  },
  // KEYS: questions. ARGV: prefix, open field, decision field, version field, version, decision.
  // Returns {won (1 or 0), fields}.
  chorusStoreDecide: {
    numberOfKeys: 1,
    lua: `${RECORD}
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 or redis.call('HEXISTS', KEYS[1], ARGV[3]) == 1 then
  return {0, record(ARGV[1])}
end
if tonumber(redis.call('HGET', KEYS[1], ARGV[4]) or '0') ~= tonumber(ARGV[5]) then return {0, record(ARGV[1])} end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[6])
return {1, record(ARGV[1])}`,
  },
  // KEYS: questions. ARGV: open field, message field, message. Only an opened question takes one.
  chorusStoreQuestionMessage: {
    numberOfKeys: 1,
    lua: `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return 1`,
  },
} satisfies Record<string, { numberOfKeys?: number; lua: string; readOnly?: boolean }>

type Script = (...args: Array<string | number>) => Promise<unknown>

/** The scripts as commands on a client that defined them (`defineCommand`). */
export type Scripts = { [K in keyof typeof SCRIPTS]: Script }
