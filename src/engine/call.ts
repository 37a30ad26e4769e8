/** One call of a step as its run makes it: the invocation in flight, its tries wired to the run. */
import { attempt } from './attempt.ts'
import { stepContext } from './context.ts'
import type { FlowEventBody } from './events.ts'
import type { NodeDef, UsageReport } from './flow.ts'
import type { Outcome } from './gates.ts'
import { DEFAULT_STEP_OPTIONS, type RunOptions } from './options.ts'
import type { StepRecord } from './result.ts'

/** One call of a step, in flight. */
export interface Invocation {
  node: NodeDef
  /** The epoch it started in: 0 at kickoff, then one per settlement (see gates.ts). */
  epoch: number
  payload: unknown
  controller: AbortController
  startedAt: number
  /** Id of its step.started event. */
  eventId: number
  /** Time its calls spent waiting for a limiter slot while none of them held one. */
  queuedMs: number
  /** Its outcome comes from `resume`: the step is not called. */
  resumed: boolean
}

/** What a call needs of its run. */
export interface CallHost {
  readonly runId: string
  readonly options: RunOptions
  /** Milliseconds since the run started. */
  now(): number
  /** Numbers and reports an event; returns its id. */
  emit(body: FlowEventBody, causeId: number): number
  /** Adds a step's token usage to the run's. */
  addUsage(usage: UsageReport): void
}

/**
 * Calls the step: its tries (attempt.ts) under its options, else its run's `defaults`, else the
 * engine's; each try gets a fresh context. Never rejects.
 */
export function callStep(inv: Invocation, record: StepRecord, run: CallHost): Promise<Outcome> {
  const { node } = inv
  const step = node.name
  const defaults = run.options.defaults
  return attempt({
    step,
    fn: node.fn,
    payload: inv.payload,
    signal: inv.controller.signal,
    timeoutMs: node.options.timeoutMs ?? defaults?.timeoutMs ?? DEFAULT_STEP_OPTIONS.timeoutMs,
    attemptTimeoutMs:
      node.options.attemptTimeoutMs ?? defaults?.attemptTimeoutMs ?? DEFAULT_STEP_OPTIONS.attemptTimeoutMs,
    retries: node.options.retries ?? defaults?.retries ?? DEFAULT_STEP_OPTIONS.retries,
    context: (n, signal, clock) =>
      stepContext({
        runId: run.runId,
        step,
        attempt: n,
        call: record.calls,
        asker: run.options.asker,
        signal,
        clock,
        services: run.options.services,
        limiter: run.options.limiter,
        reportUsage: (usage) => {
          run.addUsage(usage)
          run.emit({ type: 'usage', runId: run.runId, step, usage, at: run.now() }, inv.eventId)
        },
        onWaited: (ms) => {
          inv.queuedMs += ms
        },
      }),
    onAttempt: (n) => {
      record.attempts = n
    },
    onRetry: (n, delayMs, error) =>
      run.emit(
        { type: 'step.retrying', runId: run.runId, step, attempt: n, delayMs, error, at: run.now() },
        inv.eventId,
      ),
  })
}
