import type { BlockButtonAction, Middleware, SlackActionMiddlewareArgs } from '@slack/bolt'
import type { Bot, RerunOptions, RetryOutcome } from '../../../../src/bot/index.ts'
import type { ReplyTarget } from '../../../../src/store/index.ts'
import { clicked } from '../clicked.ts'
import { note } from '../explain.ts'
import { refusal } from '../refusal.ts'
import { requester } from '../requester.ts'
import { replyTarget } from '../target.ts'

/** Starts the new run for the button's run id, by whom, replying at `target`. */
type Start = (runId: string, by: string, target: ReplyTarget, options: RerunOptions) => Promise<RetryOutcome>

/**
 * A button that starts a new run from the one it is on (Again, Vote on these): refused while Chorus
 * cannot take commands, admitted like a command, its refusals said to the clicker only. `ownThread`:
 * the new run answers in the reply's thread, started from the reply when it has none.
 */
export function rerunAction(
  start: Start,
  bot: Bot,
  ownThread: boolean,
): Middleware<SlackActionMiddlewareArgs<BlockButtonAction>> {
  return async ({ ack, body, action, respond }) => {
    await ack()
    const refused = refusal(bot)
    if (refused !== undefined) {
      await respond(note(refused))
      return
    }
    const where = clicked(body)
    const { channel } = where
    const threadTs = ownThread ? (where.threadTs ?? where.ts) : where.threadTs
    const outcome = await bot.intake(async (signal) => {
      const admission = await bot.admit(requester(body.user.id, channel, body.team?.id))
      if (!admission.ok) return admission
      return start(
        action.value ?? '',
        body.user.name ?? body.user.id,
        replyTarget({
          teamId: body.team?.id,
          enterpriseId: body.enterprise?.id,
          channel,
          threadTs,
          responseUrl: body.response_url,
        }),
        { signal, userId: body.user.id },
      )
    })
    if ('refused' in outcome) await respond(note(outcome.refused))
    else if (!outcome.ok) await respond(note(outcome.message))
  }
}
