/** One call of a step: its tries, each within the time left, and the waits between them. */
import { StepClock } from './clock.ts'
import {
  CancelledError,
  isTransient,
  reasonOf,
  retryAfterOf,
  StepTimeoutError,
  StragglerError,
} from './errors.ts'
import type { NodeDef, RetryPolicy, StepContext, StepOptions } from './flow.ts'
import type { Outcome } from './gates.ts'
import { DEFAULT_STEP_OPTIONS } from './options.ts'
import { sleep } from './sleep.ts'

export interface AttemptPlan {
  step: string
  fn: NodeDef['fn']
  payload: unknown
  /** The call's signal: aborted when the run is cancelled or the call is no longer needed. */
  signal: AbortSignal
  /** The whole call's budget: every try and the waits between them, not time queued for a slot. */
  timeoutMs: number | undefined
  /** One try's limit; a try never gets more than what is left of the budget. */
  attemptTimeoutMs: number | undefined
  retries: NonNullable<StepOptions['retries']>
  /** The context for one try, whose signal is `signal`; `clock` says how much time is left. */
  context(attempt: number, signal: AbortSignal, clock: StepClock): StepContext
  onAttempt(attempt: number): void
  onRetry(attempt: number, delayMs: number, error: unknown): void
}

/** Runs one step call with its time limits and retries; never rejects. */
export async function attempt(plan: AttemptPlan): Promise<Outcome> {
  const { signal, timeoutMs, attemptTimeoutMs } = plan
  const policy = retryPolicy(plan.retries)
  let current: AbortController | undefined
  let budgetSpent = false
  const clock = new StepClock(timeoutMs, () => {
    budgetSpent = true
    current?.abort(new StepTimeoutError(plan.step, timeoutMs as number))
  })
  try {
    for (let n = 1; ; n++) {
      plan.onAttempt(n)
      if (signal.aborted) return abortedOutcome(signal.reason)
      const tryController = new AbortController()
      current = tryController
      const onAbort = (): void => tryController.abort(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      clock.startTry(attemptTimeoutMs, () =>
        tryController.abort(new StepTimeoutError(plan.step, attemptTimeoutMs as number)),
      )
      try {
        const ctx = plan.context(n, tryController.signal, clock)
        const value = await raceAbort(plan.fn, plan.payload, ctx)
        return { ok: true, value }
      } catch (thrown) {
        if (signal.aborted) return abortedOutcome(signal.reason)
        const error = tryController.signal.aborted ? tryController.signal.reason : thrown
        if (budgetSpent || n >= policy.attempts || !isTransient(error))
          return { ok: false, error, cancelled: false }
        const retryAfter = retryAfterOf(error)
        if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs)
          return { ok: false, error, cancelled: false }
        const delayMs = retryAfter ?? backoff(policy, n)
        // A wait that would use up the budget cannot lead to a useful try.
        const budget = clock.budgetMs()
        if (budget !== undefined && delayMs >= budget) return { ok: false, error, cancelled: false }
        plan.onRetry(n, delayMs, error)
        try {
          await sleep(delayMs, signal)
        } catch {
          return abortedOutcome(signal.reason)
        }
      } finally {
        clock.endTry()
        signal.removeEventListener('abort', onAbort)
      }
    }
  } finally {
    clock.stop()
  }
}

/** Calls the step and settles as soon as its signal aborts, even if the step ignores the signal. */
function raceAbort(fn: NodeDef['fn'], payload: unknown, ctx: StepContext): Promise<unknown> {
  const { signal } = ctx
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    const done = (): void => signal.removeEventListener('abort', onAbort)
    let pending: unknown
    try {
      pending = fn(payload, ctx)
    } catch (error) {
      done()
      reject(error)
      return
    }
    Promise.resolve(pending).then(
      (value) => {
        done()
        resolve(value)
      },
      (error: unknown) => {
        done()
        reject(error)
      },
    )
  })
}

/** The call's signal aborted: cancelled, or failed when a join gave up on it (a straggler). */
function abortedOutcome(reason: unknown): Outcome {
  if (reason instanceof StragglerError) return { ok: false, error: reason, cancelled: false }
  return {
    ok: false,
    error: reason instanceof CancelledError ? reason : new CancelledError(reasonOf(reason)),
    cancelled: true,
  }
}

/** A count of tries, or a policy whose missing fields come from the engine's defaults. */
function retryPolicy(retries: NonNullable<StepOptions['retries']>): Required<RetryPolicy> {
  const defaults = DEFAULT_STEP_OPTIONS.retries
  if (typeof retries === 'number') return { ...defaults, attempts: retries }
  return { ...defaults, ...retries }
}

/** Exponential backoff with jitter between half and all of the step. */
function backoff(policy: Required<RetryPolicy>, attempt: number): number {
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1))
  return Math.round(step / 2 + (Math.random() * step) / 2)
}
