import type { BlockButtonAction, Middleware, SlackActionMiddlewareArgs } from '@slack/bolt'
import type { Bot } from '../../../../src/bot/index.ts'
import { rerunAction } from './rerun.ts'

/** Again (Retry on a failed reply): the run's command and input as a new run, beside the reply it was on. */
export function againAction(bot: Bot): Middleware<SlackActionMiddlewareArgs<BlockButtonAction>> {
  return rerunAction((...args) => bot.retry(...args), bot, false)
}
