/**
 * The time limits of one step call: the call's budget (`timeoutMs`, across tries and the waits
 * between them) and the current try's (`attemptTimeoutMs`). Both stand still while the step only
 * waits for a limiter slot: queue time counts against the run's deadline, not the step's timeout.
 */
export class StepClock {
  readonly #budget: Countdown | undefined
  #try: Countdown | undefined
  #waiting = 0
  #active = 0
  #stopped = false

  constructor(budgetMs: number | undefined, onBudgetSpent: () => void) {
    this.#budget = budgetMs === undefined ? undefined : new Countdown(budgetMs, onBudgetSpent)
  }

  /** Starts the limit of one try (none when `ms` is undefined); it never outlasts the budget. */
  startTry(ms: number | undefined, onSpent: () => void): void {
    this.#try?.stop()
    this.#try = ms === undefined ? undefined : new Countdown(ms, onSpent)
    if (this.#paused()) this.#try?.pause()
  }

  endTry(): void {
    this.#try?.stop()
    this.#try = undefined
  }

  /** What the current try may still spend, or undefined without limits. */
  remainingMs(): number | undefined {
    const left = [this.#budget?.remaining(), this.#try?.remaining()].filter((x) => x !== undefined)
    return left.length === 0 ? undefined : Math.min(...left)
  }

  budgetMs(): number | undefined {
    return this.#budget?.remaining()
  }

  /** A call starts waiting for a slot; call the result when it got one, and its result when it ends. */
  queued(): () => () => void {
    this.#change(() => this.#waiting++)
    let started = false
    return () => {
      if (started) return () => {}
      started = true
      this.#change(() => {
        this.#waiting--
        this.#active++
      })
      let ended = false
      return () => {
        if (ended) return
        ended = true
        this.#change(() => this.#active--)
      }
    }
  }

  /** A call gave up waiting without getting a slot. */
  leftQueue(): void {
    this.#change(() => this.#waiting--)
  }

  /** The call ended: its limits never run again, even if a wait it began ends later (an ask). */
  stop(): void {
    this.#stopped = true
    this.#budget?.stop()
    this.#try?.stop()
  }

  #paused(): boolean {
    return this.#waiting > 0 && this.#active === 0
  }

  #change(update: () => void): void {
    const before = this.#paused()
    update()
    if (this.#stopped) return
    const after = this.#paused()
    if (before === after) return
    for (const c of [this.#budget, this.#try]) {
      if (after) c?.pause()
      else c?.resume()
    }
  }
}

/** A timer that can be paused: calls `onSpent` once `ms` of running time have passed. */
class Countdown {
  #left: number
  #since: number | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  readonly #onSpent: () => void

  constructor(ms: number, onSpent: () => void) {
    this.#left = ms
    this.#onSpent = onSpent
    this.resume()
  }

  remaining(): number {
    const running = this.#since === undefined ? 0 : performance.now() - this.#since
    return Math.max(0, this.#left - running)
  }

  pause(): void {
    if (this.#since === undefined) return
    this.#left = this.remaining()
    this.#since = undefined
    clearTimeout(this.#timer)
  }

  resume(): void {
    if (this.#since !== undefined || this.#left <= 0) return
    this.#since = performance.now()
    this.#timer = setTimeout(() => {
      this.#left = 0
      this.#since = undefined
      this.#onSpent()
    }, this.#left)
  }

  stop(): void {
    clearTimeout(this.#timer)
    this.#since = undefined
  }
}
