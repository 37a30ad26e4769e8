import type { Logger } from 'pino'
import type { ReplyTarget } from '../store/index.ts'
import type { QuestionView } from './asks/types.ts'
import type { EditBudget } from './budgets/index.ts'
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
  /**
   * Posts a run's question beside its reply (Slack: the reply's channel or thread; Discord: a
   * follow-up, or a channel message through the bot once the token is over) and returns where it
   * is, as plain data for the journal. Throws CannotAskError with a user-safe reason when it cannot.
   */
  postQuestion?(target: ReplyTarget, view: QuestionView, ctx: { log: Logger }): Promise<unknown>
  /**
   * Edits a posted question in place (`message`: what postQuestion returned) with its tally or its
   * outcome; past the platform's short window through the bot token. Throws CannotAskError when it cannot.
   */
  editQuestion?(
    target: ReplyTarget,
    message: unknown,
    view: QuestionView,
    ctx: { log: Logger },
  ): Promise<void>
  /**
   * Whether the reply can be edited after `replyMs` runs out (Discord: through the bot, in a channel
   * it can see). A run that waited for people past that window continues only when it can.
   */
  lateEdits?(target: ReplyTarget): boolean
  /**
   * Whether the app is still installed where the run came from (Slack installed in many workspaces);
   * absent = always. A run picked up after its workspace removed the app ends without posting.
   */
  installed?(target: ReplyTarget): Promise<boolean>
}

/** How long a run's reply can still be edited at all (undefined: no limit). */
export function replyMsOf(platform: Platform, target: ReplyTarget, now: number): number | undefined {
  return platform.replyMs === undefined ? platform.remainingMs(target, now) : platform.replyMs(target, now)
}
