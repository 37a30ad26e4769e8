/** A step's `ctx.slot`: a model call waits for the run's limiter while the step's clock stands still. */
import type { StepClock } from './clock.ts'
import type { StepContext } from './flow.ts'
import type { Limiter } from './limiter.ts'

export interface SlotPlan {
  /** Without one, `fn` runs at once. */
  limiter: Limiter | undefined
  /** The limiter's fairness key: the run. */
  key: string
  clock: StepClock
  /** The try's signal: aborting it withdraws a call still waiting. */
  signal: AbortSignal
  /** Called with the time a call waited when it gets its slot. */
  onWaited(ms: number): void
}

/** `ctx.slot` for one try of a step. */
export function slotFor(plan: SlotPlan): StepContext['slot'] {
  const { limiter, key, clock, signal } = plan
  return <T>(fn: (timeoutMs: number | undefined) => Promise<T>, own?: AbortSignal): Promise<T> => {
    if (limiter === undefined) return fn(clock.remainingMs())
    const queuedAt = performance.now()
    const start = clock.queued()
    let got = false
    return limiter
      .run(
        key,
        () => {
          got = true
          plan.onWaited(performance.now() - queuedAt)
          const end = start()
          return fn(clock.remainingMs()).finally(end)
        },
        own ?? signal,
      )
      .finally(() => {
        if (!got) clock.leftQueue()
      })
  }
}
