/** What one try of a step receives: the run's services, usage reporting, `slot` and the time it has left. */
import { type Asker, askFor } from './ask.ts'
import type { StepClock } from './clock.ts'
import type { FlowServices, StepContext, UsageReport } from './flow.ts'
import type { Limiter } from './limiter.ts'
import { slotFor } from './slots.ts'

/** What a services factory gets for one step try. */
export type StepServiceArgs = Pick<StepContext, 'runId' | 'step' | 'reportUsage' | 'slot' | 'remainingMs'> & {
  /** The step's call number in the run. */
  call: number
}

/** Services for every step, or a factory called per step try. */
export type Services = FlowServices | ((step: StepServiceArgs) => FlowServices)

export interface ContextPlan {
  runId: string
  step: string
  attempt: number
  /** The step's call number in the run (1 for the first): asks are numbered within it. */
  call: number
  asker: Asker | undefined
  /** The try's signal. */
  signal: AbortSignal
  clock: StepClock
  services: Services | undefined
  limiter: Limiter | undefined
  reportUsage(usage: UsageReport): void
  /** A model call of this try waited `ms` for its limiter slot. */
  onWaited(ms: number): void
}

/** The context of one try: the services (built for it by a factory) and the run's own members. */
export function stepContext(plan: ContextPlan): StepContext {
  const { runId, step, attempt, signal, clock, services, reportUsage } = plan
  const remainingMs = (): number | undefined => clock.remainingMs()
  const slot = slotFor({ limiter: plan.limiter, key: runId, clock, signal, onWaited: plan.onWaited })
  const base =
    typeof services === 'function'
      ? services({ runId, step, reportUsage, slot, remainingMs, call: plan.call })
      : services
  const ask = askFor({
    runId,
    step,
    call: plan.call,
    asker: plan.asker,
    signal,
    pause: () => {
      clock.queued()
      return () => clock.leftQueue()
    },
  })
  return {
    ...base,
    ask,
    signal,
    step,
    attempt,
    runId,
    reportUsage,
    slot,
    remainingMs,
  } as StepContext
}
