import type { App } from '@slack/bolt'
import type { Logger } from 'pino'
import type { Bot } from '../../../../src/bot/index.ts'
import { FEEDBACK_ACTION, REFINE_ACTION, RETRY_ACTION, STOP_ACTION } from '../../render.ts'
import { againAction } from './again.ts'
import { feedbackAction } from './feedback.ts'
import { refineAction } from './refine.ts'
import { stopAction } from './stop.ts'

/** The buttons on a Chorus reply: Stop while it runs; Again, Refine and feedback once it is final. */
export function registerActions(app: App, bot: Bot, log: Logger): void {
  app.action(STOP_ACTION, stopAction(bot))
  app.action(RETRY_ACTION, againAction(bot))
  app.action(REFINE_ACTION, refineAction(log))
  app.action(FEEDBACK_ACTION, feedbackAction(bot))
}
