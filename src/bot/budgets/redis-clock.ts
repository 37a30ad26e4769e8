/** How long a reading of Redis' clock is trusted before the next call reads `TIME` again. */
const RESYNC_MS = 10_000
/** A reading is kept only from a call this quick: its error is at most half of it. */
const MAX_SYNC_RTT_MS = 100

/**
 * This process's estimate of Redis' clock (ms), so the budget's script need not read `TIME` on every
 * call. Each reading comes from a call that did read it, timed on this process's monotonic clock: the
 * estimate is off by at most half that call's round trip (well under 50 ms, against Slack's windows
 * of a minute), and is read again every 10 s. Until a first reading, or when it is stale, `now`
 * answers -1: the script reads `TIME` itself and the answer gives the next reading.
 */
export class RedisClock {
  /** Redis' clock minus performance.now(), from the last reading. */
  #offset = 0
  #readAt = Number.NEGATIVE_INFINITY

  /** Redis' clock now, or -1 when the script must read it. */
  now(at = performance.now()): number {
    return at - this.#readAt > RESYNC_MS ? -1 : Math.round(at + this.#offset)
  }

  /** Redis said `redisMs` during a call sent at `sentAt` and answered at `answeredAt`. */
  read(redisMs: number, sentAt: number, answeredAt: number): void {
    if (!Number.isFinite(redisMs) || answeredAt - sentAt > MAX_SYNC_RTT_MS) return
    this.#offset = redisMs - (sentAt + answeredAt) / 2
    this.#readAt = answeredAt
  }
}
