/** One call of a step: its tries, each with the timeout, and the waits between them. */
import { CancelledError, isTransient, retryAfterOf, StepTimeoutError } from './errors.ts'
import type { NodeDef, RetryPolicy, StepContext, StepOptions } from './flow.ts'
import type { Outcome } from './gates.ts'
import { sleep } from './sleep.ts'

const RETRY_DEFAULTS = { baseMs: 250, maxMs: 4_000, maxRetryAfterMs: 30_000 }

export interface AttemptPlan {
  step: string
  fn: NodeDef['fn']
  payload: unknown
  /** The call's signal: aborted when the run is cancelled or the call is no longer needed. */
  signal: AbortSignal
  timeoutMs: number | undefined
  retries: StepOptions['retries']
  /** The context for one try, whose signal is `signal`. */
  context(attempt: number, signal: AbortSignal): StepContext
  onAttempt(attempt: number): void
  onRetry(attempt: number, delayMs: number, error: unknown): void
}

/** Runs one step call with its timeout and retries; never rejects. */
export async function attempt(plan: AttemptPlan): Promise<Outcome> {
  const { signal, timeoutMs } = plan
  const policy = retryPolicy(plan.retries)
  for (let n = 1; ; n++) {
    plan.onAttempt(n)
    if (signal.aborted) return cancelledOutcome(signal.reason)
    const tryController = new AbortController()
    const onAbort = (): void => tryController.abort(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => tryController.abort(new StepTimeoutError(plan.step, timeoutMs)), timeoutMs)
    try {
      const value = await raceAbort(plan.fn, plan.payload, plan.context(n, tryController.signal))
      return { ok: true, value }
    } catch (thrown) {
      if (signal.aborted) return cancelledOutcome(signal.reason)
      const error = tryController.signal.aborted ? tryController.signal.reason : thrown
      if (n >= policy.attempts || !isTransient(error)) return { ok: false, error, cancelled: false }
      const retryAfter = retryAfterOf(error)
      if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs)
        return { ok: false, error, cancelled: false }
      const delayMs = retryAfter ?? backoff(policy, n)
      plan.onRetry(n, delayMs, error)
      try {
        await sleep(delayMs, signal)
      } catch {
        return cancelledOutcome(signal.reason)
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
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

export function cancelledOutcome(reason: unknown): Outcome {
  return {
    ok: false,
    error: reason instanceof CancelledError ? reason : new CancelledError(reasonOf(reason)),
    cancelled: true,
  }
}

export function reasonOf(reason: unknown): string {
  if (reason instanceof CancelledError) return reason.reason
  if (reason instanceof Error) return reason.message
  return reason === undefined ? 'cancelled' : String(reason)
}

function retryPolicy(retries: StepOptions['retries']): Required<RetryPolicy> {
  if (retries === undefined) return { attempts: 1, ...RETRY_DEFAULTS }
  if (typeof retries === 'number') return { attempts: retries, ...RETRY_DEFAULTS }
  return { ...RETRY_DEFAULTS, ...retries }
}

/** Exponential backoff with jitter between half and all of the step. */
function backoff(policy: Required<RetryPolicy>, attempt: number): number {
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1))
  return Math.round(step / 2 + (Math.random() * step) / 2)
}
