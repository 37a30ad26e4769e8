import type { BlockButtonAction, Middleware, SlackActionMiddlewareArgs } from '@slack/bolt'
import type { Bot } from '../../../../src/bot/index.ts'
import { rerunAction } from './rerun.ts'

/** **Vote on these**: a final reply's ranked ideas as a /decide vote, in the reply's thread. */
export function voteOnAction(bot: Bot): Middleware<SlackActionMiddlewareArgs<BlockButtonAction>> {
  return rerunAction((...args) => bot.voteOn(...args), bot, true)
}
