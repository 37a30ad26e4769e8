import type { BlockButtonAction, Middleware, SlackActionMiddlewareArgs } from '@slack/bolt'
import type { Bot } from '../../../../src/bot/index.ts'
import { clicked } from '../clicked.ts'
import { note } from '../explain.ts'
import { refusal } from '../refusal.ts'
import { requester } from '../requester.ts'
import { replyTarget } from '../target.ts'

/** **Vote on these**: a final reply's ranked ideas as a /decide vote, in the reply's thread. */
export function voteOnAction(bot: Bot): Middleware<SlackActionMiddlewareArgs<BlockButtonAction>> {
  return async ({ ack, body, action, respond }) => {
    await ack()
    const refused = refusal(bot)
    if (refused !== undefined) {
      await respond(note(refused))
      return
    }
    const where = clicked(body)
    const channel = where.channel
    // The thread the reply is in, or the one it starts.
    const threadTs = where.threadTs ?? where.ts
    const outcome = await bot.intake(async (signal) => {
      const admission = await bot.admit(requester(body.user.id, channel, body.team?.id))
      if (!admission.ok) return admission
      return bot.voteOn(
        action.value ?? '',
        body.user.name ?? body.user.id,
        replyTarget({ teamId: body.team?.id, channel, threadTs, responseUrl: body.response_url }),
        { signal, userId: body.user.id },
      )
    })
    if ('refused' in outcome) await respond(note(outcome.refused))
    else if (!outcome.ok) await respond(note(outcome.message))
  }
}
