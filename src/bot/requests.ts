import type { Logger } from 'pino'
import type { ReplyTarget } from '../store/index.ts'
import type { EditBudget } from './budgets/index.ts'
import type { Command } from './commands/index.ts'
import type { BotObserver } from './observer.ts'
import type { ReplySink } from './reply/index.ts'

export type PlatformName = 'slack' | 'discord' | 'console'

/** How a platform answers runs: everything it needs comes from a run's plain-data reply target. */
export interface Platform {
  name: 'slack' | 'discord'
  /** Rebuilds a reply sink from a target in whatever process finishes the run. */
  sink(
    target: ReplyTarget,
    ctx: {
      runId: string
      log: Logger
      save(target: ReplyTarget): void
      budget: EditBudget
      observer: BotObserver
    },
  ): ReplySink
  /** Least time between progress edits; the platform's edit rate. */
  minIntervalMs: number
  /** How long a run on this target may still take (Discord: until a minute before its token ends); undefined = no limit. */
  remainingMs(target: ReplyTarget, now: number): number | undefined
  /** How long its reply can still be edited at all (Discord: the token's 15 minutes); without it, `remainingMs`. */
  replyMs?(target: ReplyTarget, now: number): number | undefined
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
}

/** A run accepted from Slack or Discord: journaled first, answerable from any process. */
export interface AcceptRequest {
  command: Command
  input: Record<string, unknown>
  user: string
  target: ReplyTarget
  /**
   * The platform's own placeholder (Discord's deferred reply), sent after the journal write: the run
   * starts once it settles, and is abandoned if it fails.
   */
  placeholder?: Promise<unknown>
}

export type StopOutcome =
  /** Live in this process: cancelling; its reply will say who stopped it. */
  | 'stopping'
  /** Not live anywhere here but unfinished in the journal: marked stopped and its reply closed. */
  | 'stopped'
  | 'finished'
  | 'unknown'

export type RetryOutcome = { ok: true; runId: string } | { ok: false; message: string }
