/**
 * Edits to a platform are spent from one budget per route (a Slack workspace's method, a Discord
 * interaction webhook) shared by every run: final views first, then first results, then progress.
 * Implementations: in this process (`memory.ts`) and in Redis (`redis.ts`), where
 * every process on a prefix shares one budget.
 */
export type EditPriority = 'final' | 'first' | 'progress'

export const PRIORITY_RANK: Readonly<Record<EditPriority, number>> = { final: 0, first: 1, progress: 2 }

/** Turns are served best priority first, in arrival order within one. */
export function turnOrder(a: { rank: number; seq: number }, b: { rank: number; seq: number }): number {
  return a.rank - b.rank || a.seq - b.seq
}

/**
 * How many grants a turn of `rank` may find in the window and still go: progress (and streamed
 * text) never takes a window's last turn, so a first result or a final that comes next goes at once.
 */
export function capOf(route: Route, rank: number): number {
  return rank === PRIORITY_RANK.progress ? Math.max(1, route.limit - 1) : route.limit
}

/** A route's budget: at most `limit` calls in any `windowMs` (the platform's rate, with headroom). */
export interface Route {
  /** e.g. `slack:T123:chat.update`, `discord:webhook:<app>:<hash of token>`. */
  key: string
  limit: number
  windowMs: number
}

/** One waiting turn; its priority can rise while it waits (a first result replaced the progress it waited with). */
export interface Turn {
  /** Resolves when the call may be made; rejects if the turn was cancelled. */
  readonly granted: Promise<void>
  raise(priority: EditPriority): void
  /** Withdraws the turn if not yet granted. */
  cancel(): void
}

export interface EditBudget {
  /** Queues a turn on `route`; turns are granted highest priority first, in arrival order within one. */
  acquire(route: Route, priority: EditPriority): Turn
  /** The platform said to wait (429 Retry-After): nothing more is granted on `route` for `ms`. */
  pause(route: Route, ms: number): void
  /** Turns waiting on every route (for metrics). */
  readonly waiting: number
}

/** What a cancelled turn's `granted` rejects with. */
export class TurnCancelledError extends Error {
  readonly code = 'TURN_CANCELLED'
  constructor() {
    super('This turn was cancelled before it was granted; acquire a new one to make the call')
    this.name = 'TurnCancelledError'
  }
}

/** A platform refused a call for its rate limit; `retryAfterMs` is what it asked for. */
export class PlatformRateLimited extends Error {
  readonly code = 'platform_rate_limited'
  readonly retryAfterMs: number
  constructor(route: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super(`${route} is rate limited; retry after ${retryAfterMs} ms`, options)
    this.name = 'PlatformRateLimited'
    this.retryAfterMs = retryAfterMs
  }
}

/** Spends one turn on `route` and calls `fn`; on a 429 waits what the platform asked (budget paused) and calls again. */
export async function spend<T>(
  budget: EditBudget,
  route: Route,
  priority: EditPriority,
  fn: () => Promise<T>,
  onLimited?: (retryAfterMs: number) => void,
): Promise<T> {
  for (;;) {
    await budget.acquire(route, priority).granted
    try {
      return await fn()
    } catch (error) {
      if (!(error instanceof PlatformRateLimited)) throw error
      onLimited?.(error.retryAfterMs)
      budget.pause(route, error.retryAfterMs)
    }
  }
}
