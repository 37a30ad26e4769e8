/**
 * A slash command's own response_url as the road for its reply: what it may still carry. Slack
 * (api.slack.com/interactivity/handling#message_responses): up to 5 posts within 30 minutes of the
 * payload, and an in-channel post through it is a message that later posts with `replace_original`
 * replace (api.slack.com/interactivity/slash-commands: "modify previously-posted app messages in that
 * interactive chain"). None of it is spent from the workspace's chat.update tier.
 */
import { isTerminal, type Phase, phaseOf, type ReplyView } from '../../src/bot/index.ts'
import type { SlackTarget } from '../../src/store/index.ts'

/** Slack: a response_url takes 5 posts. */
export const RESPONSE_URL_USES = 5
/** Slack: within 30 minutes of the payload. */
export const RESPONSE_URL_MS = 30 * 60_000
/** Not used in its last minute: a post in flight must not race the expiry. */
const MARGIN_MS = 60_000

/**
 * A Slack reply target as the adapter keeps it: the store's SlackTarget (saved in the journal as
 * JSON) with what the response_url road needs.
 */
export interface SlackReply extends SlackTarget {
  /** When the slash command's response_url was handed out (epoch ms); only commands set it. */
  responseUrlAt?: number
  /** Posts spent from it so far. */
  responseUses?: number
}

/**
 * What the command's response_url does with `view`: `post` it; `skip` it (progress, or a step back
 * such as streaming that paused, or news that would take the use the end keeps); or `closed` (no
 * command URL, used up, or expiring), when only the bot token can reach the reply. The last use
 * always waits for the end (final, failed or stopped), so the end is never left without one.
 */
export function responseUrlFor(
  target: SlackReply,
  view: ReplyView,
  lastPhase: Phase | undefined,
  now: number,
): 'post' | 'skip' | 'closed' {
  const at = target.responseUrlAt
  if (target.responseUrl === undefined || at === undefined) return 'closed'
  if (now > at + RESPONSE_URL_MS - MARGIN_MS) return 'closed'
  const uses = target.responseUses ?? 0
  if (isTerminal(view.status)) return uses < RESPONSE_URL_USES ? 'post' : 'closed'
  if (lastPhase !== undefined && RANK[phaseOf(view)] <= RANK[lastPhase]) return 'skip'
  return uses < RESPONSE_URL_USES - 1 ? 'post' : 'skip'
}

/** News moves one way: the placeholder, the first streamed words, the first result, the end. */
const RANK: Readonly<Record<Phase, number>> = {
  working: 0,
  streaming: 1,
  first: 2,
  final: 3,
  failed: 3,
  stopped: 3,
}
