import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Limiter } from '../engine/index.ts'
import { CLOSE, COLLECT, RENEW, type Tick, tickScript } from './limiter-script.ts'

export type { Limiter }

export interface RedisFairLimiterOptions {
  /** A client the caller owns; the limiter adds one subscriber connection of its own. */
  redis: Redis
  /** Keys are `${prefix}:limiter:*` (CHORUS_REDIS_PREFIX). */
  prefix: string
  /** Slots in flight across every process sharing `prefix`. */
  concurrency: number
  /** How long a process's slots (and places in the queue) outlive its last heartbeat. */
  leaseMs?: number
}

const DEFAULTS = { leaseMs: 5_000 } satisfies Required<Pick<RedisFairLimiterOptions, 'leaseMs'>>

/**
 * Calls, finishes and withdrawals within this long of the last call go to Redis together in the
 * next one: under load one script call carries many grants and releases, whatever the number of runs.
 */
const BATCH_MS = 10
/** After a failed call (Redis refused or lost the script), ask again after this, doubling up to the cap. */
const RETRY_MS = 200
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

interface Waiter {
  key: string
  start(): void
  fail(error: unknown): void
}

/**
 * A `FairLimiter` whose bound holds across every process sharing the Redis prefix: together they
 * never run more than `concurrency` jobs, and runs with waiting jobs are served round-robin,
 * wherever their jobs wait (start-time fair queuing, see limiter-script.ts). Redis does O(log n) work
 * per grant and release, and each process batches what happens within BATCH_MS into one call.
 * A process's slots and places are kept by a heartbeat every third of `leaseMs`, so a killed
 * process's slots come back within about `leaseMs`. A process hears about grants made for it by
 * other processes on `${prefix}:limiter:released`, and at its next heartbeat should a message be lost.
 */
export class RedisFairLimiter implements Limiter {
  readonly concurrency: number
  readonly #subscriber: Redis
  readonly #leaseMs: number
  readonly #keys: string[]
  readonly #channel: string
  readonly #grants: string
  readonly #tickScript: Tick
  /** Job ids are `${owner}:${n}`; the script tells processes apart by it. */
  readonly #owner = randomUUID()
  #seq = 0
  readonly #waiting = new Map<string, Waiter>()
  /** Waiting jobs Redis has not been told about yet. */
  readonly #unsent = new Set<string>()
  readonly #held = new Set<string>()
  #released: string[] = []
  #withdrawn: string[] = []
  /** Another process granted this one slots: collect them in the next call. */
  #collect = false
  /** Redis knows this process (a call renewed it); a lapse then means its places were dropped. */
  #registered = false
  #renewedAt = Number.NEGATIVE_INFINITY
  #lastCallAt = Number.NEGATIVE_INFINITY
  #inFlight: Promise<void> | undefined
  #queued = false
  #timer: NodeJS.Timeout | undefined
  #timerAt = Number.POSITIVE_INFINITY
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
    const base = `${options.prefix}:limiter`
    this.#keys = ['queue', 'held', 'owners', 'tags', 'state'].map((k) => `${base}:${k}`)
    this.#grants = `${base}:grants:`
    this.#channel = `${base}:released`
    this.#tickScript = tickScript(options.redis)
    this.#subscriber = options.redis.duplicate()
    this.#subscriber.on('message', (_channel: string, owners: string) => {
      if (!owners.includes(this.#owner)) return
      this.#collect = true
      this.#schedule(true)
    })
    // A failed subscription leaves the heartbeat, which collects too. The subscriber's errors are its
    // reconnect attempts during an outage, which the main connection's health reports once.
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
        // Redis knows the job: take its place back (or the slot it was granted meanwhile).
        if (!this.#unsent.delete(id)) {
          this.#withdrawn.push(id)
          this.#schedule()
        }
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
            this.#released.push(id)
            this.#schedule()
          })
        },
        fail: (error) => {
          signal?.removeEventListener('abort', onAbort)
          reject(error)
        },
      })
      this.#unsent.add(id)
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
    const released = [...this.#released.splice(0), ...this.#held]
    const withdrawn = [...this.#withdrawn.splice(0)]
    for (const id of this.#waiting.keys()) if (!this.#unsent.has(id)) withdrawn.push(id)
    for (const waiter of this.#waiting.values()) waiter.fail(new LimiterClosedError())
    this.#waiting.clear()
    this.#unsent.clear()
    try {
      if (this.#registered || released.length + withdrawn.length > 0)
        await this.#call(CLOSE, released, withdrawn, [])
    } finally {
      await this.#subscriber.quit().catch(() => this.#subscriber.disconnect())
    }
  }

  /** A call soon: at once after a quiet spell (or `now`), else BATCH_MS after the last one. */
  #schedule(now = false): void {
    if (this.#closed || this.#queued) return
    this.#queued = true
    // Everything that happens in this turn of the event loop goes in one call.
    queueMicrotask(() => {
      this.#queued = false
      this.#at(now ? performance.now() : this.#lastCallAt + BATCH_MS)
    })
  }

  /** Calls Redis at `when` (performance.now() time), unless a call is due sooner or on its way. */
  #at(when: number): void {
    if (this.#closed || this.#inFlight !== undefined) return
    if (this.#timer !== undefined && this.#timerAt <= when) return
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#timerAt = Number.POSITIVE_INFINITY
    const delay = when - performance.now()
    if (delay <= 0) {
      this.#tick()
      return
    }
    this.#timerAt = when
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#timerAt = Number.POSITIVE_INFINITY
      this.#tick()
    }, delay)
  }

  #tick(): void {
    if (this.#closed || this.#inFlight !== undefined) return
    const now = performance.now()
    const renew = now - this.#renewedAt >= this.#leaseMs / 3
    // The heartbeat collects too, in case a message was lost.
    const flags = (renew ? RENEW | COLLECT : 0) | (this.#collect ? COLLECT : 0)
    const released = this.#released.splice(0)
    const withdrawn = this.#withdrawn.splice(0)
    const arriving = [...this.#unsent]
    this.#unsent.clear()
    if (flags === 0 && released.length + withdrawn.length + arriving.length === 0) {
      this.#next()
      return
    }
    this.#collect = false
    this.#lastCallAt = now
    const known = this.#registered
    this.#inFlight = this.#call(flags, released, withdrawn, arriving)
      .then(
        ([lost, ...granted]) => {
          this.#failures = 0
          if (renew) {
            this.#renewedAt = now
            this.#registered = true
          }
          for (const id of granted) this.#grant(id)
          // This process had lapsed (a long pause, an outage): its places may have been dropped.
          if (lost === 1 && known) for (const id of this.#waiting.keys()) this.#unsent.add(id)
        },
        () => {
          // Redis did not take the call (a reply error such as MISCONF on a full disk; a dropped
          // connection is waited out by the client itself). Waiting jobs keep their places and are
          // withdrawn only by their own signals (the step's time, the run's deadline); running ones
          // go on, since model calls do not need Redis. The next call asks again after a backoff.
          this.#released.unshift(...released)
          this.#withdrawn.unshift(...withdrawn)
          for (const id of arriving) if (this.#waiting.has(id)) this.#unsent.add(id)
          if ((flags & COLLECT) !== 0) this.#collect = true
          this.#failures++
        },
      )
      .finally(() => {
        this.#inFlight = undefined
        this.#next()
      })
  }

  /** Starts a job Redis granted a slot; one withdrawn meanwhile gives the slot back in the next call. */
  #grant(id: string): void {
    const waiter = this.#waiting.get(id)
    if (waiter === undefined) {
      this.#released.push(id)
      return
    }
    this.#waiting.delete(id)
    this.#unsent.delete(id)
    waiter.start()
  }

  /** The next call: what is pending, the heartbeat while jobs wait or run, a retry, or nothing when idle. */
  #next(): void {
    if (this.#closed) return
    if (this.#failures > 0) {
      this.#at(performance.now() + Math.min(RETRY_MAX_MS, RETRY_MS * 2 ** (this.#failures - 1)))
    } else if (this.#collect || this.#released.length + this.#withdrawn.length + this.#unsent.size > 0) {
      this.#at(this.#lastCallAt + BATCH_MS)
    } else if (this.#held.size + this.#waiting.size > 0) {
      this.#at(this.#renewedAt + this.#leaseMs / 3)
    }
  }

  #call(
    flags: number,
    released: string[],
    withdrawn: string[],
    arriving: string[],
  ): Promise<[number, ...string[]]> {
    return this.#tickScript(
      ...this.#keys,
      this.#owner,
      this.concurrency,
      this.#leaseMs,
      this.#channel,
      this.#grants,
      flags,
      released.length,
      ...released,
      withdrawn.length,
      ...withdrawn,
      arriving.length * 2,
      ...arriving.flatMap((id) => [id, this.#waiting.get(id)?.key ?? '']),
    )
  }
}
