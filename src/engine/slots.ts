/** A step's `ctx.slot`: a model call waits for the run's limiter while the step's clock stands still. */
import type { StepClock } from './clock.ts'
import type { Limiter } from './limiter.ts'

export interface SlotPlan {
  /** Without one, `fn` runs at once. */
  limiter: Limiter | undefined
  /** The limiter's fairness key: the run. */
  key: string
  clock: StepClock
  /** The try's signal: aborting it withdraws a call still waiting. */
  signal(): AbortSignal
  /** Called with the time a call waited when it gets its slot. */
  onWaited(ms: number): void
}

/** Runs `fn` once the run's limiter has a slot (at once without a limiter), with the time left then. */
export function inSlot<T>(
  plan: SlotPlan,
  fn: (timeoutMs: number | undefined) => Promise<T>,
  own: AbortSignal | undefined,
): Promise<T> {
  const { limiter, clock } = plan
  if (limiter === undefined) return fn(clock.remainingMs())
  const queuedAt = performance.now()
  clock.waiting()
  let got = false
  return limiter
    .run(
      plan.key,
      () => {
        got = true
        plan.onWaited(performance.now() - queuedAt)
        clock.got()
        return fn(clock.remainingMs()).finally(() => clock.released())
      },
      own ?? plan.signal(),
    )
    .finally(() => {
      if (!got) clock.leftQueue()
    })
}
