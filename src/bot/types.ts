import type { RunResult } from '../engine/index.ts'

export interface CommandRun {
  runId: string
  /** Stops the run: every in-flight model call is aborted; the reply says who stopped it. */
  cancel(by: string): void
  /**
   * Stops working on the run in this process without ending it: the reply says it continues after
   * the restart, and the journal keeps it for the next start.
   */
  suspend(notice: string): void
  /** Settles after the terminal view was shown (or showing it failed and was logged). */
  done: Promise<RunResult>
}
