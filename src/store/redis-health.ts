import { Redis, type RedisOptions } from 'ioredis'
import type { Logger } from 'pino'

/**
 * Every Chorus connection to Redis waits for Redis rather than failing a command: a restart, a
 * failover or a hung server delays journal writes, limiter grants and budget turns, it does not fail
 * the runs behind them (BullMQ asks the same of its workers' connections). Reconnects back off to a
 * second, so a Redis that returns is used again within about a second.
 */
export const REDIS_OPTIONS = {
  maxRetriesPerRequest: null,
  retryStrategy: (times: number) => Math.min(100 * times, 1_000),
} satisfies RedisOptions

/** How often the health probe pings, and how long a ping may take before Redis counts as down. */
const PROBE_EVERY_MS = 1_000
const PROBE_TIMEOUT_MS = 1_500

/**
 * Whether Redis answers now, from the connection's events (a closed socket is an outage at once) and
 * a ping a second (a hung server, whose socket stays open, is one after 1.5 s without an answer). An
 * outage is logged once when it starts (`redis.down`, warn) and once when it ends (`redis.up`, with
 * its duration); the client errors in between are debug lines, never raw stack traces.
 */
export class RedisHealth {
  readonly #redis: Redis
  readonly #log: Logger
  readonly #listeners = new Set<(up: boolean) => void>()
  #up = true
  #since = performance.now()
  #outages = 0
  #probe: Promise<unknown> | undefined
  #probeAt = 0
  #timer: NodeJS.Timeout | undefined

  constructor(redis: Redis, log: Logger) {
    this.#redis = redis
    this.#log = log
    redis.on('error', (err: Error) => this.quiet(err, 'redis.error'))
    redis.on('close', () => this.#down('the connection closed'))
    redis.on('ready', () => this.#check())
    this.#timer = setInterval(() => this.#check(), PROBE_EVERY_MS)
    this.#timer.unref()
  }

  /** A client of Chorus' own (REDIS_OPTIONS) whose outages this health reports. */
  static connect(url: string, log: Logger): { redis: Redis; health: RedisHealth } {
    const redis = new Redis(url, { ...REDIS_OPTIONS, enableAutoPipelining: true })
    return { redis, health: new RedisHealth(redis, log) }
  }

  get up(): boolean {
    return this.#up
  }

  /** Outages seen since start. */
  get outages(): number {
    return this.#outages
  }

  /** How long Redis has been in its current state (up or down), in ms. */
  get forMs(): number {
    return performance.now() - this.#since
  }

  /** Calls `listener` with the new state whenever Redis goes down or comes back. */
  onChange(listener: (up: boolean) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Logs a Redis client's error: a debug line while Redis is known to be down (reconnect attempts
   * fail once a second), a warning otherwise. Give it to every connection (`on('error', …)`): ioredis
   * prints an unhandled error event to stderr itself.
   */
  quiet(err: unknown, msg: string): void {
    if (this.#up) this.#log.warn({ err }, msg)
    else this.#log.debug({ err }, msg)
  }

  close(): void {
    clearInterval(this.#timer)
    this.#listeners.clear()
  }

  #check(): void {
    if (this.#probe !== undefined) {
      if (performance.now() - this.#probeAt > PROBE_TIMEOUT_MS) this.#down('no answer to a ping')
      return
    }
    if (this.#redis.status === 'end') return
    this.#probeAt = performance.now()
    const probe = this.#redis.ping().then(
      () => this.#upAgain(),
      () => undefined,
    )
    this.#probe = probe.finally(() => {
      this.#probe = undefined
    })
  }

  #down(reason: string): void {
    if (!this.#up || this.#redis.status === 'end') return
    this.#up = false
    this.#since = performance.now()
    this.#outages++
    this.#log.warn({ event: 'redis.down', reason }, 'redis.down')
    for (const listener of this.#listeners) listener(false)
  }

  #upAgain(): void {
    if (this.#up) return
    const downMs = Math.round(performance.now() - this.#since)
    this.#up = true
    this.#since = performance.now()
    this.#log.warn({ event: 'redis.up', downMs }, 'redis.up')
    for (const listener of this.#listeners) listener(true)
  }
}
