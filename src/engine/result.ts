/** A run's result, and how its status follows from how it ended. */
import type { UsageReport } from './flow.ts'
import type { Outcome } from './gates.ts'

export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled'

/** One step's outcome and timing within a run (the last call, for steps called more than once). */
export interface StepRecord {
  name: string
  kind: 'start' | 'listen' | 'router'
  status: StepStatus
  calls: number
  attempts: number
  /** Milliseconds since run start. */
  startedAt: number | undefined
  durationMs: number | undefined
  error: unknown
  cancelReason: string | undefined
}

/** A step call that failed on its own (not because one of its inputs failed). */
export interface StepFailure {
  step: string
  call: number
  error: unknown
}

/** A run's explicit result: the `final` output plus every step's outcome and timing. */
export interface RunResult<R = unknown, F = unknown> {
  runId: string
  flow: string
  status: 'completed' | 'failed' | 'cancelled'
  output: R | undefined
  first: F | undefined
  error: unknown
  /** Why it was cancelled, when it was. */
  reason: string | undefined
  /** Steps in declared order. */
  steps: StepRecord[]
  /**
   * Every step call that failed on its own, in the order they failed, including failures the flow
   * tolerated (a partial `all`) and failures on branches that do not lead to `final`.
   */
  failures: StepFailure[]
  durationMs: number
  usage: UsageReport
}

/** How a run with nothing left in flight ended. */
export interface RunEnd {
  /** The final step's outcome, when it settled. */
  final: Outcome | undefined
  /** Set when the deadline cut the run off. */
  deadlineError: unknown
  /** Set when the run was cancelled. */
  cancelReason: string | undefined
  /** Why `final` never settled; asked only then. */
  notReached(): unknown
}

/** A run's status and error: a final output completes it; else the deadline, a cancel, then the failure. */
export function runStatus(end: RunEnd): Pick<RunResult, 'status' | 'error'> {
  if (end.final?.ok === true) return { status: 'completed', error: undefined }
  if (end.deadlineError !== undefined) return { status: 'failed', error: end.deadlineError }
  if (end.cancelReason !== undefined) return { status: 'cancelled', error: undefined }
  return { status: 'failed', error: end.final === undefined ? end.notReached() : end.final.error }
}
