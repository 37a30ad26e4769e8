import type { BlockButtonAction, Middleware, SlackActionMiddlewareArgs } from '@slack/bolt'
import type { Bot } from '../../../../src/bot/index.ts'
import { note } from '../explain.ts'

/** 👍 / 👎 on a final reply: recorded against the run, thanked at once. */
export function feedbackAction(bot: Bot): Middleware<SlackActionMiddlewareArgs<BlockButtonAction>> {
  return async ({ ack, body, action, respond }) => {
    await ack()
    void bot.feedback(
      action.value ?? '',
      action.action_id.endsWith('_up') ? 'up' : 'down',
      body.user.name ?? body.user.id,
      'slack',
    )
    await respond(note('Thanks, noted.'))
  }
}
