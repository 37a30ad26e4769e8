import type { Asker, RunResult } from '../../engine/index.ts'
import type { ReplyTarget } from '../../store/index.ts'
import type { Command } from '../commands/index.ts'
import type { PlatformName } from '../platform.ts'
import type { ReplySink } from '../reply/index.ts'

/** A run in progress in this process. */
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

/** A run started from the console or a test: not journaled, its sink given. */
export interface StartRequest {
  command: Command
  input: Record<string, unknown>
  /** Platform user id or display name: logged, and shown as who asked. */
  user: string
  platform: PlatformName
  sink: ReplySink
  /** Least time between progress updates; the platform's edit rate. */
  minIntervalMs?: number
  /** Cut the run off after this long. */
  deadlineMs?: number
  /** Who answers the run's questions (`ctx.ask`); without one, an ask fails its step. */
  asker?: Asker
}

/** A run accepted from Slack or Discord: journaled first, answerable from any process. */
export interface AcceptRequest {
  command: Command
  input: Record<string, unknown>
  user: string
  /** The platform user id of `user`: who may answer the run's questions meant for the requester. */
  userId?: string
  target: ReplyTarget
  /**
   * The platform's own placeholder (Discord's deferred reply), sent after the journal write: the run
   * starts once it settles, and is abandoned if it fails.
   */
  placeholder?: Promise<unknown>
  /** The trace context of the run this one reruns (Again, Refine): a tracer links the new trace to it. */
  follows?: string
}

export type StopOutcome =
  /** Live in this process: cancelling; its reply will say who stopped it. */
  | 'stopping'
  /** Not live anywhere here but unfinished in the journal: marked stopped and its reply closed. */
  | 'stopped'
  | 'finished'
  | 'unknown'

export type RetryOutcome = { ok: true; runId: string } | { ok: false; message: string }

/** How a rerun (Retry, Again, Refine) is accepted: the platform's placeholder, and `intake`'s signal. */
export interface RerunOptions {
  placeholder?: Promise<unknown>
  signal?: AbortSignal
  /** The platform user id of whoever asked for the rerun (who answers its questions). */
  userId?: string
}
