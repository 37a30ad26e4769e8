import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import {
  capOf,
  type EditBudget,
  type EditPriority,
  PRIORITY_RANK,
  type Route,
  type Turn,
  TurnCancelledError,
  turnOrder,
} from './budget.ts'
import { BudgetAsks } from './redis-asks.ts'
import { type Answer, budgetScripts, type Pause } from './redis-scripts.ts'

export interface RedisEditBudgetOptions {
  /** A client the caller owns; closing the budget leaves it open. */
  redis: Redis
  /** Keys are `${prefix}:budget:*` (CHORUS_REDIS_PREFIX). */
  prefix: string
}

/**
 * A process asks again this soon when another process's better turn is due to take the free turn,
 * doubling while it stays blocked (a killed process's claim lapses only after its window and the grace).
 */
const BLOCKED_RETRY_MS = 10
/** A process's claim outlives its last question by this much beyond the route's window (it asks at least once a window). */
const CLAIM_GRACE_MS = 1_000

export class BudgetUnavailableError extends Error {
  readonly code = 'BUDGET_UNAVAILABLE'
  constructor(route: string, cause: unknown) {
    super(
      `The edit budget could not reach Redis for ${route}, so this turn was not granted; check REDIS_URL and that Redis is up`,
      { cause },
    )
    this.name = 'BudgetUnavailableError'
  }
}

export class BudgetClosedError extends Error {
  readonly code = 'BUDGET_CLOSED'
  constructor() {
    super(
      'The edit budget was closed while this turn waited; acquire it from a new budget (a shutdown drops waiting turns)',
    )
    this.name = 'BudgetClosedError'
  }
}

interface Waiter {
  rank: number
  seq: number
  /** performance.now() when it arrived; Redis gets its age, so no process's clock matters. */
  at: number
  /** Its arrival on Redis' clock, fixed the first time Redis made it wait. */
  arrival: number | undefined
  resolve(): void
  reject(reason: Error): void
}

interface Lane {
  route: Route
  key: string
  waiters: Waiter[]
  timer: ReturnType<typeof setTimeout> | undefined
  /** The call on its way; `again` asks for another as soon as it returns. */
  busy: Promise<void> | undefined
  again: boolean
  scheduled: boolean
  /** The rank Redis refused last; until the timer, only a better turn is worth asking about. */
  refused: number | undefined
  /** Redis holds this process's claim on the route (a refused turn waits here). */
  claimed: boolean
  /** How soon to ask again while another process's better turn blocks this one. */
  blockedMs: number
  /**
   * By rank, the performance.now() before which Redis would refuse a turn (the window full, a
   * pause), as its last answer said: a new progress turn waits for it instead of asking. The lane
   * is kept until then.
   */
  freeAt: number[]
}

/**
 * An edit budget shared by every process on the Redis prefix: together they grant at most `limit`
 * turns in any `windowMs` on a route, on Redis' clock. Each process keeps its waiting turns and
 * asks Redis for the best of them; a refused process claims its place (its best turn's priority and
 * arrival), so a better turn waiting in another process is served first. A refused turn asks again
 * when Redis says the window or a pause lets it (no polling; behind another process's better turn,
 * soon, backing off), and at once when a better one arrives here or it is raised.
 * Redis unreachable: the turns waiting on that route reject with `BudgetUnavailableError`.
 */
export class RedisEditBudget implements EditBudget {
  readonly #base: string
  readonly #asks: BudgetAsks
  readonly #pause: Pause
  readonly #lanes = new Map<string, Lane>()
  #seq = 0
  #closed = false

  constructor(options: RedisEditBudgetOptions) {
    this.#base = `${options.prefix}:budget`
    const scripts = budgetScripts(options.redis)
    // Claims are by process.
    this.#asks = new BudgetAsks(scripts.attempt, randomUUID())
    this.#pause = scripts.pause
  }

  get waiting(): number {
    let n = 0
    for (const lane of this.#lanes.values()) n += lane.waiters.length
    return n
  }

  acquire(route: Route, priority: EditPriority): Turn {
    if (this.#closed) {
      const granted = Promise.reject(new BudgetClosedError())
      return { granted, raise: () => {}, cancel: () => {} }
    }
    const lane = this.#lane(route)
    let waiter!: Waiter
    const granted = new Promise<void>((resolve, reject) => {
      const at = performance.now()
      waiter = { rank: PRIORITY_RANK[priority], seq: this.#seq++, at, arrival: undefined, resolve, reject }
    })
    lane.waiters.push(waiter)
    this.#wake(lane, waiter.rank)
    return {
      granted,
      raise: (p) => {
        if (PRIORITY_RANK[p] >= waiter.rank) return
        waiter.rank = PRIORITY_RANK[p]
        if (lane.waiters.includes(waiter)) this.#wake(lane, waiter.rank)
      },
      cancel: () => {
        const i = lane.waiters.indexOf(waiter)
        if (i < 0) return
        lane.waiters.splice(i, 1)
        waiter.reject(new TurnCancelledError())
        // The claim may be this turn's: ask again so Redis holds the next one's, or none.
        if (lane.claimed) this.#wake(lane)
        else if (lane.waiters.length === 0 && lane.busy === undefined) this.#forget(lane)
      },
    }
  }

  pause(route: Route, ms: number): void {
    if (this.#closed || !(ms > 0)) return
    const lane = this.#lanes.get(route.key)
    if (lane !== undefined) lane.freeAt = lane.freeAt.map((at) => Math.max(at, performance.now() + ms))
    // A pause Redis did not record fails the turns waiting on the route (the one `spend` takes
    // right after the pause among them), which report the outage.
    this.#pause(this.#key(route), Math.ceil(ms), route.windowMs).catch((error: unknown) => {
      const lane = this.#lanes.get(route.key)
      if (lane !== undefined) this.#fail(lane, error)
    })
  }

  /** Rejects every waiting turn, stops the timers and withdraws this process's claims. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const lanes = [...this.#lanes.values()]
    for (const lane of lanes) {
      clearTimeout(lane.timer)
      lane.timer = undefined
      for (const waiter of lane.waiters.splice(0)) waiter.reject(new BudgetClosedError())
    }
    await Promise.all(lanes.map((lane) => lane.busy))
    this.#lanes.clear()
    await Promise.all(lanes.filter((lane) => lane.claimed).map((lane) => this.#call(lane, [])))
  }

  #key(route: Route): string {
    return `${this.#base}:route:${route.key}`
  }

  #lane(route: Route): Lane {
    let lane = this.#lanes.get(route.key)
    if (lane === undefined) {
      lane = {
        route,
        key: this.#key(route),
        waiters: [],
        timer: undefined,
        busy: undefined,
        again: false,
        scheduled: false,
        refused: undefined,
        claimed: false,
        blockedMs: BLOCKED_RETRY_MS,
        freeAt: [0, 0, 0],
      }
      this.#lanes.set(route.key, lane)
    }
    lane.route = route
    return lane
  }

  #forget(lane: Lane): void {
    clearTimeout(lane.timer)
    lane.timer = undefined
    lane.refused = undefined
    if (this.#lanes.get(lane.route.key) !== lane) return
    // Kept while Redis' last answer still says when the next turn can go (the next view comes soon).
    const keepMs = Math.max(...lane.freeAt) - performance.now()
    if (keepMs > 0 && !this.#closed) lane.timer = setTimeout(() => this.#forget(lane), keepMs)
    else this.#lanes.delete(lane.route.key)
  }

  /** Asks Redis soon, unless a turn of `rank` could not go before the refused one's timer anyway. */
  #wake(lane: Lane, rank?: number): void {
    if (lane.busy !== undefined) {
      lane.again = true
      return
    }
    if (rank !== undefined && lane.timer !== undefined && lane.refused !== undefined && rank >= lane.refused)
      return
    if (lane.scheduled) return
    lane.scheduled = true
    // One call for everything that happens in this turn of the event loop.
    queueMicrotask(() => {
      lane.scheduled = false
      this.#ask(lane)
    })
  }

  #ask(lane: Lane): void {
    if (this.#closed) return
    if (lane.busy !== undefined) {
      lane.again = true
      return
    }
    clearTimeout(lane.timer)
    lane.timer = undefined
    if (lane.waiters.length === 0 && !lane.claimed) {
      this.#forget(lane)
      return
    }
    // A window never grants more than `limit`, so the best `limit` turns are all worth asking about.
    const batch = [...lane.waiters].sort(turnOrder).slice(0, lane.route.limit)
    const best = batch[0]
    // Progress that Redis would refuse waits without asking. A first result or final asks anyway:
    // refused, it claims its place ahead of later turns in other processes.
    const waitMs = best === undefined ? 0 : (lane.freeAt[best.rank] ?? 0) - performance.now()
    if (!lane.claimed && best?.rank === PRIORITY_RANK.progress && waitMs > 0) {
      lane.refused = best.rank
      lane.timer = setTimeout(() => this.#ask(lane), waitMs)
      return
    }
    lane.busy = this.#call(lane, batch)
      .then(
        ([granted, waitMs, blocked, arrival, anyMs, progressMs]) => {
          const now = performance.now()
          lane.freeAt = [now + anyMs, now + anyMs, now + progressMs]
          for (const waiter of batch.slice(0, granted)) {
            const i = lane.waiters.indexOf(waiter)
            // A turn cancelled while Redis granted it stays spent: the window errs on the safe side.
            if (i < 0) continue
            lane.waiters.splice(i, 1)
            waiter.resolve()
          }
          const next = batch[granted]
          if (next !== undefined) next.arrival ??= arrival
          lane.claimed = next !== undefined
          lane.refused = next?.rank
          lane.blockedMs =
            blocked === 1 ? Math.min(lane.route.windowMs, lane.blockedMs * 2) : BLOCKED_RETRY_MS
          if (next === undefined) {
            if (lane.waiters.length > 0) lane.again = true
          } else if (!this.#closed) {
            const ms = Math.min(lane.route.windowMs, Math.max(1, waitMs))
            lane.timer = setTimeout(() => this.#ask(lane), ms)
          }
        },
        (error: unknown) => {
          lane.again = false
          this.#fail(lane, error)
        },
      )
      .finally(() => {
        lane.busy = undefined
        if (this.#closed) return
        if (lane.again) {
          lane.again = false
          this.#ask(lane)
        } else if (lane.waiters.length === 0 && !lane.claimed) this.#forget(lane)
      })
  }

  /** Redis could not answer: every turn waiting on the route rejects (its claim lapses in Redis). */
  #fail(lane: Lane, error: unknown): void {
    const failed = new BudgetUnavailableError(lane.route.key, error)
    for (const waiter of lane.waiters.splice(0)) waiter.reject(failed)
    lane.claimed = false
    lane.refused = undefined
    if (lane.busy === undefined) this.#forget(lane)
  }

  #call(lane: Lane, batch: readonly Waiter[]): Promise<Answer> {
    const { route } = lane
    return this.#asks.ask({
      key: lane.key,
      windowMs: route.windowMs,
      limit: route.limit,
      claimMs: route.windowMs + CLAIM_GRACE_MS,
      blockedMs: lane.blockedMs,
      turns: batch.map((w) => [capOf(route, w.rank), w.rank, w.arrival ?? -1, w.at] as const),
    })
  }
}
