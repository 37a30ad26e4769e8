import type { BlockAction, Middleware, SlackActionMiddlewareArgs } from '@slack/bolt'
import type { Logger } from 'pino'
import type { Bot } from '../../../../src/bot/index.ts'
import { readAnswerValue } from '../../question-render.ts'
import type { SlackQuestions } from '../../questions.ts'
import { ANSWER_FAILED, showAnswer } from '../answered.ts'
import { clicked } from '../clicked.ts'
import { note } from '../explain.ts'

/** A choice on a question's message (a button, or an option of its select): one answer, shown at once. */
export function answerAction(
  bot: Bot,
  log: Logger,
  questions: SlackQuestions,
): Middleware<SlackActionMiddlewareArgs<BlockAction>> {
  return async ({ ack, body, action, client, respond }) => {
    await ack()
    const value =
      action.type === 'button'
        ? action.value
        : action.type === 'static_select'
          ? action.selected_option.value
          : undefined
    const picked = readAnswerValue(value)
    if (picked?.choice === undefined) {
      log.warn({ event: 'slack.answer_bad_value', actionId: action.action_id }, 'slack.answer_bad_value')
      await respond(note('Chorus does not know that question.'))
      return
    }
    const outcome = await bot
      .answer({
        runId: picked.runId,
        key: picked.key,
        user: { id: body.user.id, name: body.user.name ?? body.user.id },
        answer: { choice: picked.choice },
        platform: 'slack',
      })
      .catch((err: unknown) => log.error({ err, event: 'slack.answer_failed' }, 'slack.answer_failed'))
    if (outcome === undefined) {
      await respond(note(ANSWER_FAILED))
      return
    }
    const { channel, ts } = clicked(body)
    await showAnswer(outcome, {
      questions,
      client,
      message: { channel, ts },
      log,
      tell: (text) => respond(note(text)),
    })
  }
}
