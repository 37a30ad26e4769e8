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
    const budget = this.#budget?.remaining()
    const attempt = this.#try?.remaining()
    if (budget === undefined) return attempt
    return attempt === undefined ? budget : Math.min(budget, attempt)
  }

  budgetMs(): number | undefined {
    return this.#budget?.remaining()
  }

  /** A call starts waiting for a slot (`got` when it has one, `released` when it ends) or for people. */
  waiting(): void {
    const before = this.#paused()
    this.#waiting++
    this.#changed(before)
  }

  /** A call that waited got its slot. */
  got(): void {
    const before = this.#paused()
    this.#waiting--
    this.#active++
    this.#changed(before)
  }

  /** A call that had a slot ended. */
  released(): void {
    const before = this.#paused()
    this.#active--
    this.#changed(before)
  }

  /** A call gave up waiting without getting a slot (or the people answered). */
  leftQueue(): void {
    const before = this.#paused()
    this.#waiting--
    this.#changed(before)
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

  #changed(before: boolean): void {
    if (this.#stopped) return
    const after = this.#paused()
    if (before === after) return
    if (after) {
      this.#budget?.pause()
      this.#try?.pause()
    } else {
      this.#budget?.resume()
      this.#try?.resume()
    }
  }
}

/**
 * A timer that can be paused: calls `onSpent` once `ms` of running time have passed. A pause does
 * not clear its timer: when the timer comes, it looks at the time left and sets itself again for
 * that, so a step that waits a moment for each of its model calls does not set a timer for each.
 */
class Countdown {
  /** Running time left, as of `#since` (or now, while paused). */
  #left: number
  /** When it last resumed; undefined while paused or stopped. */
  #since: number | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #stopped = false
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
  }

  resume(): void {
    if (this.#stopped || this.#since !== undefined || this.#left <= 0) return
    this.#since = performance.now()
    if (this.#timer === undefined) this.#arm(this.#left)
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#since = undefined
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      // Paused: `resume` sets it again for what is left.
      if (this.#since === undefined) return
      // A timer may come a fraction of a millisecond early.
      const left = this.remaining()
      if (left >= 1) {
        this.#arm(left)
        return
      }
      this.#left = 0
      this.#since = undefined
      this.#onSpent()
    }, ms)
  }
}
