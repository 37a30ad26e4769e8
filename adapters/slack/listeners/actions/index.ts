import type { App, BlockAction, BlockButtonAction } from '@slack/bolt'
import type { Logger } from 'pino'
import type { Bot } from '../../../../src/bot/index.ts'
import { ANSWER_ACTION, ANSWER_FORM, ANSWER_SELECT } from '../../question-render.ts'
import type { SlackQuestions } from '../../questions.ts'
import { FEEDBACK_ACTION, REFINE_ACTION, RETRY_ACTION, STOP_ACTION, VOTE_ON_ACTION } from '../../render.ts'
import { againAction } from './again.ts'
import { answerAction } from './answer.ts'
import { answerFormAction } from './answer-form.ts'
import { feedbackAction } from './feedback.ts'
import { refineAction } from './refine.ts'
import { stopAction } from './stop.ts'
import { voteOnAction } from './vote-on.ts'

/**
 * The buttons on a Chorus reply: Stop while it runs; Again, Refine, Vote on these and feedback once
 * it is final. On a question: its choices (buttons or a select) and a form's "Answer…".
 */
export function registerActions(app: App, bot: Bot, log: Logger, questions: SlackQuestions): void {
  app.action(STOP_ACTION, stopAction(bot))
  app.action(RETRY_ACTION, againAction(bot))
  app.action(REFINE_ACTION, refineAction(log))
  app.action(FEEDBACK_ACTION, feedbackAction(bot))
  app.action<BlockButtonAction>(VOTE_ON_ACTION, voteOnAction(bot))
  app.action<BlockAction>(ANSWER_ACTION, answerAction(bot, log, questions))
  app.action<BlockAction>(ANSWER_SELECT, answerAction(bot, log, questions))
  app.action<BlockButtonAction>(ANSWER_FORM, answerFormAction(bot, log, questions))
}
