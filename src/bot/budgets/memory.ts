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

interface Waiter {
  rank: number
  seq: number
  resolve(): void
  reject(reason: Error): void
}

interface Lane {
  /** performance.now() of the grants still inside the window, oldest first. */
  grants: number[]
  /** Nothing is granted before this (a 429's Retry-After). */
  pausedUntil: number
  waiters: Waiter[]
  timer: ReturnType<typeof setTimeout> | undefined
}

/**
 * The edit budget of one process: a lane per route, at most `limit` turns in any `windowMs`
 * (a sliding window, so no burst at a window's edge), best priority first, arrival order within one;
 * progress turns leave the window's last turn to first results and finals.
 */
export class MemoryEditBudget implements EditBudget {
  readonly #lanes = new Map<string, Lane>()
  #seq = 0

  get waiting(): number {
    let n = 0
    for (const lane of this.#lanes.values()) n += lane.waiters.length
    return n
  }

  acquire(route: Route, priority: EditPriority): Turn {
    const lane = this.#lane(route.key)
    let waiter!: Waiter
    const granted = new Promise<void>((resolve, reject) => {
      waiter = { rank: PRIORITY_RANK[priority], seq: this.#seq++, resolve, reject }
    })
    lane.waiters.push(waiter)
    this.#drain(route, lane)
    return {
      granted,
      raise: (p) => {
        if (PRIORITY_RANK[p] >= waiter.rank) return
        waiter.rank = PRIORITY_RANK[p]
        // A raised turn may use the turn progress leaves free.
        if (lane.waiters.includes(waiter)) this.#drain(route, lane)
      },
      cancel: () => {
        const i = lane.waiters.indexOf(waiter)
        if (i < 0) return
        lane.waiters.splice(i, 1)
        waiter.reject(new TurnCancelledError())
      },
    }
  }

  pause(route: Route, ms: number): void {
    const lane = this.#lane(route.key)
    lane.pausedUntil = Math.max(lane.pausedUntil, performance.now() + ms)
    this.#drain(route, lane)
  }

  #lane(key: string): Lane {
    let lane = this.#lanes.get(key)
    if (lane === undefined) {
      lane = { grants: [], pausedUntil: 0, waiters: [], timer: undefined }
      this.#lanes.set(key, lane)
    }
    return lane
  }

  /** When the next turn of at most `cap` grants in the window may be granted on this lane. */
  #nextAt(route: Route, lane: Lane, now: number, cap = route.limit): number {
    while (lane.grants.length > 0 && (lane.grants[0] as number) <= now - route.windowMs) lane.grants.shift()
    const n = lane.grants.length
    const windowFree = n < cap ? now : (lane.grants[n - cap] as number) + route.windowMs
    return Math.max(windowFree, lane.pausedUntil)
  }

  #drain(route: Route, lane: Lane): void {
    if (lane.timer !== undefined) {
      clearTimeout(lane.timer)
      lane.timer = undefined
    }
    for (;;) {
      const now = performance.now()
      if (lane.waiters.length === 0) {
        const nextAt = this.#nextAt(route, lane, now)
        // An idle lane is forgotten once it holds nothing back (Discord has one per interaction).
        if (lane.grants.length === 0 && nextAt <= now) {
          if (this.#lanes.get(route.key) === lane) this.#lanes.delete(route.key)
        } else {
          const idle = Math.max(nextAt, (lane.grants.at(-1) ?? now) + route.windowMs) - now
          lane.timer = setTimeout(() => this.#drain(route, lane), idle)
          lane.timer.unref?.()
        }
        return
      }
      let best = 0
      for (let i = 1; i < lane.waiters.length; i++)
        if (turnOrder(lane.waiters[i] as Waiter, lane.waiters[best] as Waiter) < 0) best = i
      const nextAt = this.#nextAt(route, lane, now, capOf(route, (lane.waiters[best] as Waiter).rank))
      if (nextAt > now) {
        lane.timer = setTimeout(() => this.#drain(route, lane), nextAt - now)
        return
      }
      const [waiter] = lane.waiters.splice(best, 1)
      lane.grants.push(now)
      waiter?.resolve()
    }
  }
}
