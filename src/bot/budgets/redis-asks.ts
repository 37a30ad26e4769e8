import { RedisClock } from './redis-clock.ts'
import type { Answer, Attempt } from './redis-scripts.ts'

/** One route's question to Redis: its state, its window and this process's best turns on it. */
export interface RouteAsk {
  key: string
  windowMs: number
  limit: number
  claimMs: number
  blockedMs: number
  /** In this process's order: cap, rank, arrival on Redis' clock (-1 when not yet given), performance.now() it arrived. */
  turns: ReadonlyArray<readonly [cap: number, rank: number, arrival: number, at: number]>
}

interface Pending {
  ask: RouteAsk
  resolve(answer: Answer): void
  reject(reason: unknown): void
}

/**
 * The budget's questions to Redis, one script call for every route asked about in one turn of the
 * event loop (a busy process asks about many workspaces at once), with Redis' clock reckoned here
 * (`RedisClock`) so the script reads `TIME` only now and then. A failed call fails every route in it.
 */
export class BudgetAsks {
  readonly #attempt: Attempt
  /** Claims are by process. */
  readonly #owner: string
  readonly #clock = new RedisClock()
  #pending: Pending[] = []

  constructor(attempt: Attempt, owner: string) {
    this.#attempt = attempt
    this.#owner = owner
  }

  ask(ask: RouteAsk): Promise<Answer> {
    return new Promise((resolve, reject) => {
      if (this.#pending.push({ ask, resolve, reject }) === 1) setImmediate(() => void this.#send())
    })
  }

  async #send(): Promise<void> {
    const pending = this.#pending
    this.#pending = []
    const sentAt = performance.now()
    const now = this.#clock.now(sentAt)
    const args: Array<string | number> = [pending.length, ...pending.map((p) => p.ask.key), now, this.#owner]
    for (const { ask } of pending) {
      args.push(ask.windowMs, ask.limit, ask.claimMs, ask.blockedMs, ask.turns.length)
      for (const [cap, rank, arrival, at] of ask.turns) args.push(cap, rank, arrival, sentAt - at)
    }
    let answer: Awaited<ReturnType<Attempt>>
    try {
      answer = await this.#attempt(...args)
    } catch (error) {
      for (const p of pending) p.reject(error)
      return
    }
    if (now < 0) this.#clock.read(answer[pending.length] as number, sentAt, performance.now())
    pending.forEach((p, i) => {
      p.resolve(answer[i] as Answer)
    })
  }
}
