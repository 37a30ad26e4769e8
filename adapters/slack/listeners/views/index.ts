import type { App } from '@slack/bolt'
import type { Logger } from 'pino'
import type { Bot } from '../../../../src/bot/index.ts'
import { ANSWER_VIEW } from '../../question-render.ts'
import type { SlackQuestions } from '../../questions.ts'
import { REFINE_VIEW } from '../../render.ts'
import { answerView } from './answer.ts'
import { refineView } from './refine.ts'

/** Modal submissions: Refine's "what should change", and the answers to form questions. */
export function registerViews(app: App, bot: Bot, log: Logger, questions: SlackQuestions): void {
  app.view(REFINE_VIEW, refineView(bot, log))
  app.view(ANSWER_VIEW, answerView(bot, log, questions))
}
