import type { App } from '@slack/bolt'
import type { Logger } from 'pino'
import type { Bot } from '../../../../src/bot/index.ts'
import { REFINE_VIEW } from '../../render.ts'
import { refineView } from './refine.ts'

/** Modal submissions: Refine's "what should change". */
export function registerViews(app: App, bot: Bot, log: Logger): void {
  app.view(REFINE_VIEW, refineView(bot, log))
}
