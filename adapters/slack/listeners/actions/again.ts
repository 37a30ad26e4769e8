import type { BlockButtonAction, Middleware, SlackActionMiddlewareArgs } from '@slack/bolt'
import type { Bot } from '../../../../src/bot/index.ts'
import { clicked } from '../clicked.ts'
import { note } from '../explain.ts'
import { refusal } from '../refusal.ts'
import { requester } from '../requester.ts'
import { replyTarget } from '../target.ts'

/** Again (Retry on a failed reply): the run's command and input as a new run, beside the reply it was on. */
export function againAction(bot: Bot): Middleware<SlackActionMiddlewareArgs<BlockButtonAction>> {
  return async ({ ack, body, action, respond }) => {
    await ack()
    const refused = refusal(bot)
    if (refused !== undefined) {
      await respond(note(refused))
      return
    }
    const { channel, threadTs } = clicked(body)
    const outcome = await bot.intake(async (signal) => {
      const admission = await bot.admit(requester(body.user.id, channel, body.team?.id))
      if (!admission.ok) return admission
      return bot.retry(
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
