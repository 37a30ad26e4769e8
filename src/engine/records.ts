/**
 * Every step's record in a run (status, calls, timing) and its failures, kept together with the
 * step event that reports each change, so the result and the events say the same thing.
 */
import { reasonOf, UpstreamFailedError } from './errors.ts'
import type { FlowEventBody } from './events.ts'
import type { NodeDef } from './flow.ts'
import type { Outcome } from './gates.ts'
import type { StepFailure, StepRecord } from './result.ts'

/** One run's step records, by node index (declared order). */
export class StepRecords {
  readonly #runId: string
  readonly #records: StepRecord[]
  /** Step calls that failed on their own, in the order they failed. */
  readonly failures: StepFailure[] = []

  constructor(runId: string, nodes: readonly NodeDef[]) {
    this.#runId = runId
    this.#records = nodes.map((node) => ({
      name: node.name,
      kind: node.kind,
      status: 'pending',
      calls: 0,
      attempts: 0,
      startedAt: undefined,
      durationMs: undefined,
      error: undefined,
      cancelReason: undefined,
    }))
  }

  get(node: NodeDef): StepRecord {
    return this.#records[node.index] as StepRecord
  }

  /** The records in declared order. */
  list(): StepRecord[] {
    return [...this.#records]
  }

  /** A new call of `node` starts running at `at`; returns its step.started event. */
  start(node: NodeDef, at: number, resumed: boolean): FlowEventBody {
    const record = this.get(node)
    record.calls++
    record.status = 'running'
    record.startedAt = at
    record.error = undefined
    record.cancelReason = undefined
    return {
      type: 'step.started',
      runId: this.#runId,
      step: node.name,
      call: record.calls,
      attempt: 1,
      resumed,
      at,
    }
  }

  /** The current call of `node` ended at `at` with `outcome`; returns the event that reports it. */
  settle(node: NodeDef, outcome: Outcome, at: number, call: SettledCall): FlowEventBody {
    const record = this.get(node)
    record.durationMs = at - call.startedAt
    if (outcome.ok) {
      record.status = 'completed'
      return {
        type: 'step.completed',
        runId: this.#runId,
        step: node.name,
        call: record.calls,
        resumed: call.resumed,
        value: outcome.value,
        durationMs: record.durationMs,
        queuedMs: call.queuedMs,
        at,
      }
    }
    if (outcome.cancelled) {
      record.status = 'cancelled'
      record.cancelReason = reasonOf(outcome.error)
      return {
        type: 'step.cancelled',
        runId: this.#runId,
        step: node.name,
        reason: record.cancelReason,
        queuedMs: call.queuedMs,
        at,
      }
    }
    record.status = 'failed'
    record.error = outcome.error
    this.failures.push({ step: node.name, call: record.calls, error: outcome.error })
    return {
      type: 'step.failed',
      runId: this.#runId,
      step: node.name,
      error: outcome.error,
      durationMs: record.durationMs,
      queuedMs: call.queuedMs,
      at,
    }
  }

  /** `node` fails without running (its trigger failed, or past its call limit); returns its step.failed. */
  skip(node: NodeDef, error: unknown, at: number): FlowEventBody {
    const record = this.get(node)
    record.status = 'failed'
    record.error = error
    if (!(error instanceof UpstreamFailedError))
      this.failures.push({ step: node.name, call: record.calls + 1, error })
    return {
      type: 'step.failed',
      runId: this.#runId,
      step: node.name,
      error,
      durationMs: 0,
      queuedMs: 0,
      at,
    }
  }
}

/** What the record needs of a call that ended. */
export interface SettledCall {
  startedAt: number
  queuedMs: number
  resumed: boolean
}
