import type { BlockButtonAction, Middleware, SlackActionMiddlewareArgs } from '@slack/bolt'
import type { Logger } from 'pino'
import type { AnswerOutcome, Bot } from '../../../../src/bot/index.ts'
import { answerModal, readAnswerValue } from '../../question-render.ts'
import type { SlackQuestions } from '../../questions.ts'
import type { AnswerMetadata } from '../answer-metadata.ts'
import { ANSWER_FAILED, showAnswer } from '../answered.ts'
import { clicked } from '../clicked.ts'
import { note } from '../explain.ts'

/** "Answer…" on a form question: opens its modal for someone who may answer; its submission is `views/answer.ts`. */
export function answerFormAction(
  bot: Bot,
  log: Logger,
  questions: SlackQuestions,
): Middleware<SlackActionMiddlewareArgs<BlockButtonAction>> {
  return async ({ ack, body, action, client, respond }) => {
    await ack()
    const asked = readAnswerValue(action.value)
    const { channel, ts, threadTs } = clicked(body)
    if (asked === undefined) {
      await respond(note('Chorus does not know that question.'))
      return
    }
    const lookup = await bot
      .question(asked.runId, asked.key, body.user.id)
      .catch((err: unknown) => log.error({ err, event: 'slack.answer_failed' }, 'slack.answer_failed'))
    if (lookup === undefined) {
      await respond(note(ANSWER_FAILED))
      return
    }
    if (!lookup.ok) {
      const refused: AnswerOutcome =
        lookup.view === undefined
          ? { kind: 'refused', message: lookup.message }
          : { kind: 'refused', message: lookup.message, view: lookup.view }
      await showAnswer(refused, {
        questions,
        client,
        message: { channel, ts },
        log,
        tell: (text) => respond(note(text)),
      })
      return
    }
    const metadata: AnswerMetadata = {
      runId: asked.runId,
      key: asked.key,
      channel,
      ts,
      ...(threadTs === undefined ? {} : { threadTs }),
    }
    // Slack: a trigger_id opens a modal within 3 s of the click, once.
    await client.views
      .open({ trigger_id: body.trigger_id, view: answerModal(lookup.view, JSON.stringify(metadata)) })
      .catch(async (err: unknown) => {
        log.error({ err }, 'slack.answer_open_failed')
        await respond(note('Chorus could not open the form; try again.'))
      })
  }
}
