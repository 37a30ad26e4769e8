import type { BlockButtonAction, Middleware, SlackActionMiddlewareArgs } from '@slack/bolt'
import type { Bot, StopOutcome } from '../../../../src/bot/index.ts'
import { note } from '../explain.ts'

const STOP_REPLIES: Partial<Record<StopOutcome, string>> = {
  finished: 'That run has already finished.',
  unknown: 'Chorus has no record of that run any more, so there is nothing to stop.',
}

/** Stop: cancels the run the button carries; the reply itself says who stopped it. */
export function stopAction(bot: Bot): Middleware<SlackActionMiddlewareArgs<BlockButtonAction>> {
  return async ({ ack, body, action, respond }) => {
    await ack()
    // Named, not mentioned: a mention would ping them.
    const outcome = await bot.stop(action.value ?? '', body.user.name ?? body.user.id)
    const text = STOP_REPLIES[outcome]
    if (text !== undefined) await respond(note(text))
  }
}
