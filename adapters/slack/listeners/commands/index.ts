import type { App } from '@slack/bolt'
import type { Logger } from 'pino'
import type { Bot } from '../../../../src/bot/index.ts'
import { flowCommand } from './flow.ts'
import { unknownCommand } from './unknown.ts'

/** One slash command per flow, then the catch-all for commands Chorus has no flow for. */
export function registerCommands(app: App, bot: Bot, log: Logger): void {
  for (const command of bot.commands) app.command(`/${command.name}`, flowCommand(bot, log, command))
  app.command(/.*/, unknownCommand(bot, log))
}
