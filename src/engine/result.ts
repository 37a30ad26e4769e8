import type { UsageReport } from './flow.ts'

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
