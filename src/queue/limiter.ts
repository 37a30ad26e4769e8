import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Limiter } from '../engine/index.ts'

export type { Limiter }

export interface RedisFairLimiterOptions {
  /** A client the caller owns; the limiter adds one subscriber connection of its own. */
  redis: Redis
  /** Keys are `${prefix}:limiter:*` (CHORUS_REDIS_PREFIX). */
  prefix: string
  /** Slots in flight across every process sharing `prefix`. */
  concurrency: number
  /** How long a slot (or a place in the queue) outlives its last heartbeat. */
  leaseMs?: number
}

const DEFAULTS = { leaseMs: 5_000 } satisfies Required<Pick<RedisFairLimiterOptions, 'leaseMs'>>

/** While jobs wait, ask again this often even if no release message arrives (a lost message, a late subscriber). */
const POLL_MS = 200
/** After a failed call (Redis refused or lost the script), ask again after this, doubling up to the cap. */
const RETRY_MAX_MS = 2_000

export class LimiterClosedError extends Error {
  readonly code = 'LIMITER_CLOSED'
  constructor() {
    super(
      'The limiter was closed while this job waited; submit it to a new limiter (a shutdown drops waiting work)',
    )
    this.name = 'LimiterClosedError'
  }
}

// The one script that changes the limiter's state, so every grant is decided atomically.
// KEYS: leases (id → expiry), waiters (id → expiry), queue (id → arrival), keys (id → fairness key), seq.
// ARGV: concurrency, leaseMs, channel, then three lists, each its length followed by its items:
//   ids to forget (finished, withdrawn), held ids to renew, this process's waiters as (id, key) pairs.
// Returns this process's waiters that hold a slot; publishes the owners of the other grants it made.
const TICK = `
local leases, waiters, queue, keyOf, seq = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local concurrency, leaseMs = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = now + leaseMs
local function forget(id)
  redis.call('ZREM', leases, id)
  redis.call('ZREM', queue, id)
  redis.call('ZREM', waiters, id)
  redis.call('HDEL', keyOf, id)
end
local i = 4
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do forget(ARGV[i]); i = i + 1 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('ZADD', leases, 'XX', expiry, ARGV[i]); i = i + 1 end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', now)) do forget(id) end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', waiters, '-inf', now)) do forget(id) end
local mine, isMine = {}, {}
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local id, key = ARGV[i], ARGV[i + 1]; i = i + 2
  mine[#mine + 1] = id
  isMine[id] = true
  if not redis.call('ZSCORE', leases, id) then
    if not redis.call('ZSCORE', queue, id) then
      redis.call('ZADD', queue, redis.call('INCR', seq), id)
      redis.call('HSET', keyOf, id, key)
    end
    redis.call('ZADD', waiters, expiry, id)
  end
end
local active = redis.call('ZCARD', leases)
local others = {}
if active < concurrency then
  local held = {}
  for _, id in ipairs(redis.call('ZRANGE', leases, 0, -1)) do
    local key = redis.call('HGET', keyOf, id)
    if key then held[key] = (held[key] or 0) + 1 end
  end
  local queued = redis.call('ZRANGE', queue, 0, -1)
  local keys, taken = {}, {}
  for j, id in ipairs(queued) do keys[j] = redis.call('HGET', keyOf, id) or '' end
  while active < concurrency do
    -- The key holding the fewest slots goes first; among equals, the earliest arrival.
    local best, fewest = nil, math.huge
    for j = 1, #queued do
      if not taken[j] then
        local h = held[keys[j]] or 0
        if h < fewest then
          best, fewest = j, h
          if h == 0 then break end
        end
      end
    end
    if not best then break end
    taken[best] = true
    local id = queued[best]
    redis.call('ZREM', queue, id)
    redis.call('ZREM', waiters, id)
    redis.call('ZADD', leases, expiry, id)
    held[keys[best]] = fewest + 1
    active = active + 1
    if not isMine[id] then others[string.match(id, '^[^:]*')] = true end
  end
end
if redis.call('ZCARD', queue) == 0 then redis.call('DEL', seq) end
local owners = {}
for owner in pairs(others) do owners[#owners + 1] = owner end
if #owners > 0 then redis.call('PUBLISH', ARGV[3], table.concat(owners, ' ')) end
local granted = {}
for _, id in ipairs(mine) do
  if redis.call('ZSCORE', leases, id) then granted[#granted + 1] = id end
end
return granted
`

interface Waiter {
  key: string
  start(): void
  fail(error: unknown): void
}

type Tick = (...args: Array<string | number>) => Promise<string[]>

/**
 * A `FairLimiter` whose bound holds across every process sharing the Redis prefix: together they
 * never run more than `concurrency` jobs, and a waiting key holding fewer slots is served first,
 * wherever its jobs wait. Slots are leases renewed by a heartbeat, so a killed process's slots come
 * back after `leaseMs`. Waiters hear about grants on `${prefix}:limiter:released`, and poll too.
 */
export class RedisFairLimiter implements Limiter {
  readonly concurrency: number
  readonly #redis: Redis
  readonly #subscriber: Redis
  readonly #leaseMs: number
  readonly #keys: string[]
  readonly #channel: string
  readonly #tickScript: Tick
  /** Lease ids are `${owner}:${n}`; the script tells owners apart by it. */
  readonly #owner = randomUUID()
  #seq = 0
  readonly #waiting = new Map<string, Waiter>()
  readonly #held = new Set<string>()
  #forget: string[] = []
  #inFlight: Promise<void> | undefined
  #again = false
  #queued = false
  #timer: NodeJS.Timeout | undefined
  #closed = false
  /** Calls that failed in a row: the next one waits longer. */
  #failures = 0

  constructor(options: RedisFairLimiterOptions) {
    const { concurrency } = options
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError(`concurrency must be a whole number >= 1, got ${concurrency}`)
    const leaseMs = options.leaseMs ?? DEFAULTS.leaseMs
    if (!Number.isInteger(leaseMs) || leaseMs < 100)
      throw new RangeError(`leaseMs must be a whole number >= 100, got ${leaseMs}`)
    this.concurrency = concurrency
    this.#leaseMs = leaseMs
    this.#redis = options.redis
    const base = `${options.prefix}:limiter`
    this.#keys = [`${base}:leases`, `${base}:waiters`, `${base}:queue`, `${base}:keys`, `${base}:seq`]
    this.#channel = `${base}:released`
    this.#redis.defineCommand('chorusLimiterTick', { numberOfKeys: this.#keys.length, lua: TICK })
    const client = this.#redis as unknown as { chorusLimiterTick: Tick }
    this.#tickScript = client.chorusLimiterTick.bind(client)
    this.#subscriber = this.#redis.duplicate()
    this.#subscriber.on('message', (_channel: string, owners: string) => {
      if (owners.includes(this.#owner)) this.#schedule()
    })
    // A failed subscription leaves polling, which is enough. The subscriber's errors are its reconnect
    // attempts during an outage, which the main connection's health reports once.
    this.#subscriber.on('error', () => {})
    this.#subscriber.subscribe(this.#channel).catch(() => undefined)
  }

  /** Jobs of this process running now. */
  get active(): number {
    return this.#held.size
  }

  /** Jobs of this process waiting for a slot. */
  get waiting(): number {
    return this.#waiting.size
  }

  run<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#closed) return Promise.reject(new LimiterClosedError())
    if (signal?.aborted) return Promise.reject(signal.reason)
    return new Promise<T>((resolve, reject) => {
      const id = `${this.#owner}:${++this.#seq}`
      const onAbort = (): void => {
        if (!this.#waiting.delete(id)) return
        this.#forget.push(id)
        this.#schedule()
        reject(signal?.reason)
      }
      this.#waiting.set(id, {
        key,
        start: () => {
          signal?.removeEventListener('abort', onAbort)
          this.#held.add(id)
          let result: Promise<T>
          try {
            result = fn()
          } catch (error) {
            result = Promise.reject(error)
          }
          result.then(resolve, reject).finally(() => {
            this.#held.delete(id)
            this.#forget.push(id)
            this.#schedule()
          })
        },
        fail: (error) => {
          signal?.removeEventListener('abort', onAbort)
          reject(error)
        },
      })
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#schedule()
    })
  }

  /** Stops the heartbeat, gives back this process's slots and places, and closes the subscriber. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#timer)
    await this.#inFlight
    const ids = [...this.#forget.splice(0), ...this.#held, ...this.#waiting.keys()]
    for (const waiter of this.#waiting.values()) waiter.fail(new LimiterClosedError())
    this.#waiting.clear()
    try {
      if (ids.length > 0) await this.#call(ids, [], [])
    } finally {
      await this.#subscriber.quit().catch(() => this.#subscriber.disconnect())
    }
  }

  /** One script call soon, batching everything that happens in this turn of the event loop. */
  #schedule(): void {
    if (this.#closed || this.#queued) return
    this.#queued = true
    queueMicrotask(() => {
      this.#queued = false
      this.#tick()
    })
  }

  #tick(): void {
    if (this.#closed) return
    if (this.#inFlight !== undefined) {
      this.#again = true
      return
    }
    clearTimeout(this.#timer)
    const forget = this.#forget.splice(0)
    const waiting = [...this.#waiting].map(([id, w]) => [id, w.key] as const)
    this.#inFlight = this.#call(forget, [...this.#held], waiting)
      .then(
        (granted) => {
          this.#failures = 0
          for (const id of granted) {
            const waiter = this.#waiting.get(id)
            // A waiter withdrawn meanwhile is in #forget: the next call gives its slot back.
            if (waiter === undefined) continue
            this.#waiting.delete(id)
            waiter.start()
          }
        },
        () => {
          // Redis did not take the call (a reply error such as MISCONF on a full disk; a dropped
          // connection is waited out by the client itself). Waiting jobs keep their places and are
          // withdrawn only by their own signals (the step's time, the run's deadline); running ones
          // go on, since model calls do not need Redis. The next call asks again after a backoff.
          this.#forget.unshift(...forget)
          this.#failures++
        },
      )
      .finally(() => {
        this.#inFlight = undefined
        if (this.#again) {
          this.#again = false
          this.#tick()
        } else this.#arm()
      })
  }

  /** The poll while jobs wait, the heartbeat while they run, nothing when idle. */
  #arm(): void {
    if (this.#closed) return
    const delay =
      this.#failures > 0
        ? Math.min(RETRY_MAX_MS, POLL_MS * 2 ** (this.#failures - 1))
        : this.#waiting.size > 0
          ? POLL_MS
          : this.#held.size > 0 || this.#forget.length > 0
            ? Math.floor(this.#leaseMs / 3)
            : undefined
    if (delay !== undefined) this.#timer = setTimeout(() => this.#tick(), delay)
  }

  #call(
    forget: string[],
    held: string[],
    waiting: ReadonlyArray<readonly [string, string]>,
  ): Promise<string[]> {
    return this.#tickScript(
      ...this.#keys,
      this.concurrency,
      this.#leaseMs,
      this.#channel,
      forget.length,
      ...forget,
      held.length,
      ...held,
      waiting.length,
      ...waiting.flat(),
    )
  }
}
