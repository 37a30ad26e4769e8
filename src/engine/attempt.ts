/** What a step call does when a try fails: try again after a wait, or end with the failure. */
import { CancelledError, isTransient, reasonOf, retryAfterOf, StragglerError } from './errors.ts'
import type { RetryPolicy, StepOptions } from './flow.ts'
import type { Outcome } from './gates.ts'
import { DEFAULT_STEP_OPTIONS } from './options.ts'

/** Where a failed try stands. */
export interface Failed {
  /** Which try failed (1 for the first). */
  attempt: number
  error: unknown
  retries: NonNullable<StepOptions['retries']>
  /** The call's budget is spent: no more tries. */
  budgetSpent: boolean
  /** What is left of the call's budget, or undefined without one. */
  budgetMs: number | undefined
}

/** How long to wait before the next try, or undefined when the call ends with this failure. */
export function retryDelay(failed: Failed): number | undefined {
  const { error, attempt } = failed
  const policy = retryPolicy(failed.retries)
  if (failed.budgetSpent || attempt >= policy.attempts || !isTransient(error)) return undefined
  const retryAfter = retryAfterOf(error)
  if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs) return undefined
  const delayMs = retryAfter ?? backoff(policy, attempt)
  // A wait that would use up the budget cannot lead to a useful try.
  if (failed.budgetMs !== undefined && delayMs >= failed.budgetMs) return undefined
  return delayMs
}

/** The call's signal aborted: cancelled, or failed when a join gave up on it (a straggler). */
export function abortedOutcome(reason: unknown): Outcome {
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
