import type { App } from '@slack/bolt'
import type { Logger } from 'pino'
import type { Bot } from '../../../src/bot/index.ts'
import type { SlackQuestions } from '../questions.ts'
import { registerActions } from './actions/index.ts'
import { registerCommands } from './commands/index.ts'
import { registerEvents } from './events/index.ts'
import { registerViews } from './views/index.ts'

/** Every Chorus listener on the app, by kind, as bolt's app template lays them out. */
export function registerListeners(app: App, bot: Bot, log: Logger, questions: SlackQuestions): void {
  registerCommands(app, bot, log)
  registerEvents(app, bot, log)
  registerActions(app, bot, log, questions)
  registerViews(app, bot, log, questions)
}
