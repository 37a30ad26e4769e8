import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import type {
  DeliveredView,
  LimitSpec,
  NewRun,
  ReplyTarget,
  RunRecord,
  RunStatus,
  RunStore,
  StepOutcome,
  Take,
} from './types.ts'

export interface RedisStoreOptions {
  /** A client the caller owns (left open by `close()`), or a `redis://` URL the store connects to. */
  redis: Redis | string
  /** Every key starts with `${prefix}:` (CHORUS_REDIS_PREFIX). */
  prefix: string
}

/** Ended runs (and their steps) expire on their own after this, in case nothing prunes them. */
export const ENDED_RUN_TTL_MS = 7 * 24 * 60 * 60 * 1000
/** Ended runs deleted per prune script, so one call never blocks Redis for long. */
const PRUNE_BATCH = 500

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

const SCRIPTS = {
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

type Script = (...args: Array<string | number>) => Promise<unknown>
type Scripts = { [K in keyof typeof SCRIPTS]: Script }

/**
 * The run store on Redis (with REDIS_URL). A run is a hash; `running` (by createdAt) and `ended`
 * (by updatedAt) sorted sets index it; steps are a hash per run keyed `call:step`. Every method is
 * one command or one Lua script (EVALSHA through ioredis' `defineCommand`), so each is atomic.
 */
export class RedisStore implements RunStore {
  readonly describe: string
  readonly #redis: Redis
  readonly #owned: boolean
  readonly #scripts: Scripts
  readonly #prefix: string

  constructor(options: RedisStoreOptions) {
    this.#owned = typeof options.redis === 'string'
    this.#redis = typeof options.redis === 'string' ? new Redis(options.redis) : options.redis
    this.#prefix = options.prefix
    this.describe = `redis:${options.prefix}`
    for (const [name, definition] of Object.entries(SCRIPTS)) this.#redis.defineCommand(name, definition)
    const client = this.#redis as unknown as Scripts
    this.#scripts = Object.fromEntries(
      Object.keys(SCRIPTS).map((name) => [name, client[name as keyof Scripts].bind(client)]),
    ) as Scripts
  }

  #run(id: string): string {
    return `${this.#prefix}:run:${id}`
  }

  get #running(): string {
    return `${this.#prefix}:runs:running`
  }

  get #ended(): string {
    return `${this.#prefix}:runs:ended`
  }

  async create(run: NewRun): Promise<void> {
    await this.#scripts.chorusStoreCreate(
      this.#run(run.id),
      this.#running,
      run.id,
      run.command,
      JSON.stringify(run.input),
      run.user,
      JSON.stringify(run.target),
      run.createdAt,
      Date.now(),
    )
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const hash = await this.#redis.hgetall(this.#run(id))
    return hash.id === undefined ? undefined : toRecord(hash)
  }

  async unfinished(): Promise<RunRecord[]> {
    const hashes = (await this.#scripts.chorusStoreUnfinished(this.#running, this.#run(''))) as string[][]
    return hashes.map((flat) => toRecord(fromPairs(flat)))
  }

  async recordStep(runId: string, outcome: StepOutcome): Promise<void> {
    const value = outcome.ok ? `1${JSON.stringify({ v: outcome.value })}` : `0${outcome.error}`
    const run = this.#run(runId)
    await this.#scripts.chorusStoreStep(
      `${run}:steps`,
      run,
      `${outcome.call}:${outcome.step}`,
      value,
      ENDED_RUN_TTL_MS,
    )
  }

  async completedSteps(runId: string): Promise<Array<{ step: string; call: number; value: unknown }>> {
    const hash = await this.#redis.hgetall(`${this.#run(runId)}:steps`)
    const steps: Array<{ step: string; call: number; value: unknown }> = []
    for (const [field, value] of Object.entries(hash)) {
      if (!value.startsWith('1')) continue
      const colon = field.indexOf(':')
      steps.push({
        step: field.slice(colon + 1),
        call: Number(field.slice(0, colon)),
        value: (JSON.parse(value.slice(1)) as { v: unknown }).v,
      })
    }
    // The same order as the SQLite store: by call, then step.
    return steps.sort((a, b) => a.call - b.call || (a.step < b.step ? -1 : a.step > b.step ? 1 : 0))
  }

  async setTarget(runId: string, target: ReplyTarget): Promise<void> {
    const run = this.#run(runId)
    await this.#scripts.chorusStoreTarget(
      run,
      `${run}:steps`,
      this.#ended,
      JSON.stringify(target),
      Date.now(),
      runId,
      ENDED_RUN_TTL_MS,
    )
  }

  async markDelivered(runId: string, view: DeliveredView): Promise<void> {
    const run = this.#run(runId)
    await this.#scripts.chorusStoreDelivered(
      run,
      `${run}:steps`,
      this.#ended,
      view,
      Date.now(),
      runId,
      ENDED_RUN_TTL_MS,
    )
  }

  async finish(
    runId: string,
    status: Exclude<RunStatus, 'running'>,
    details: { stoppedBy?: string; note?: string } = {},
  ): Promise<boolean> {
    const run = this.#run(runId)
    const changed = await this.#scripts.chorusStoreFinish(
      run,
      `${run}:steps`,
      this.#running,
      this.#ended,
      status,
      details.stoppedBy === undefined ? '0' : `1${details.stoppedBy}`,
      details.note === undefined ? '0' : `1${details.note}`,
      Date.now(),
      runId,
      ENDED_RUN_TTL_MS,
    )
    return changed === 1
  }

  async prune(before: number): Promise<number> {
    let deleted = 0
    for (;;) {
      const [n, seen] = (await this.#scripts.chorusStorePrune(
        this.#ended,
        before,
        this.#run(''),
        PRUNE_BATCH,
      )) as [number, number]
      deleted += n
      if (seen < PRUNE_BATCH) return deleted
    }
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.set(`${this.#prefix}:claim:${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK'
  }

  async take(limits: ReadonlyArray<LimitSpec>, now: number): Promise<Take> {
    if (limits.length === 0) return { ok: true, remaining: [] }
    const args: Array<string | number> = [limits.length]
    for (const l of limits) args.push(`${this.#prefix}:limit:${l.key}`)
    args.push(now, `${now}:${randomUUID()}`)
    for (const l of limits) args.push(l.limit, l.windowMs)
    const [ok, ...rest] = (await this.#scripts.chorusStoreTake(...args)) as number[]
    if (ok === 1) return { ok: true, remaining: rest }
    return { ok: false, refused: rest[0] as number, retryAt: rest[1] as number }
  }

  async spend(key: string, amount: number, ttlMs: number): Promise<number> {
    return Number(await this.#scripts.chorusStoreSpend(`${this.#prefix}:total:${key}`, amount, ttlMs))
  }

  async close(): Promise<void> {
    if (this.#owned && this.#redis.status !== 'end') await this.#redis.quit()
  }
}

function fromPairs(flat: string[]): Record<string, string> {
  const hash: Record<string, string> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i] as string] = flat[i + 1] as string
  return hash
}

function toRecord(hash: Record<string, string>): RunRecord {
  return {
    id: hash.id as string,
    command: hash.command as string,
    input: JSON.parse(hash.input as string) as Record<string, unknown>,
    user: hash.user as string,
    target: JSON.parse(hash.target as string) as ReplyTarget,
    createdAt: Number(hash.createdAt),
    status: hash.status as RunStatus,
    updatedAt: Number(hash.updatedAt),
    delivered: (hash.delivered ?? '').split(',').filter((v) => v !== '') as DeliveredView[],
    stoppedBy: hash.stoppedBy,
    note: hash.note,
  }
}
