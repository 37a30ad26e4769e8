import type { App } from '@slack/bolt'
import type { Logger } from 'pino'
import type { Bot } from '../../../../src/bot/index.ts'
import { mention } from './mention.ts'

/** Events Chorus subscribes to: mentions of the app. */
export function registerEvents(app: App, bot: Bot, log: Logger): void {
  app.event('app_mention', mention(bot, log))
}
