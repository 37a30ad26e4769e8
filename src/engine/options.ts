/**
 * What a run can be told (`RunOptions`), and what the engine assumes for a step where neither the
 * step nor its run sets an option (`DEFAULT_STEP_OPTIONS`), in one object.
 */
import type { Asker } from './ask.ts'
import type { Services } from './context.ts'
import type { FlowEvent } from './events.ts'
import type { RetryPolicy, StepOptions } from './flow.ts'
import type { Limiter } from './limiter.ts'
import type { ResumedStep } from './resume.ts'

export interface RunOptions {
  runId?: string
  /** Services for every step (`llm`, …), or a factory called per step try. */
  services?: Services
  /** Puts the steps' questions (`ctx.ask`) to people; without one, an ask fails the step. */
  asker?: Asker
  /** Bounds the model calls of every step that goes through `ctx.slot`, fair between runs. */
  limiter?: Limiter
  /** Straggler grace for every partial `all` that sets none (see `all`). */
  graceMs?: number
  /** Aborting it cancels the run. */
  signal?: AbortSignal
  /** The whole run is cut off after this many milliseconds (status `failed`, DeadlineExceededError). */
  deadlineMs?: number
  /** Step options applied where a step sets none. */
  defaults?: StepOptions
  /** Called synchronously with every event; a throw cancels the run. */
  onEvent?: (event: FlowEvent) => void
  /**
   * Step calls that succeeded in an earlier process (from a journal): when the run reaches call
   * `call` of `step`, it settles with `value` at once and the step is not called again.
   */
  resume?: ReadonlyArray<ResumedStep>
}

/** Every key of `T`, `undefined` where the default is to set no limit. */
type Defaults<T> = { [K in keyof T]-?: T[K] | undefined }

/** The engine's step options: a step's own option wins, then its run's `defaults`, then these. */
export const DEFAULT_STEP_OPTIONS = {
  /** No budget: a call lasts as long as its run lets it. */
  timeoutMs: undefined,
  /** No limit on one try but what is left of the budget. */
  attemptTimeoutMs: undefined,
  /** One try; a policy that leaves out a field takes it from here. */
  retries: { attempts: 1, baseMs: 250, maxMs: 4_000, maxRetryAfterMs: 30_000 },
  /** Bounds router cycles. */
  maxCalls: 25,
} as const satisfies Defaults<StepOptions> & { retries: Required<RetryPolicy> }
