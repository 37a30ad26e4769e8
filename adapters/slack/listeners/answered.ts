import type { WebClient } from '@slack/web-api'
import type { Logger } from 'pino'
import type { AnswerOutcome, QuestionView } from '../../../src/bot/index.ts'
import type { QuestionMessage, SlackQuestions } from '../questions.ts'

/** What the person hears when the journal would not take their answer (the log has the details). */
export const ANSWER_FAILED = 'Chorus could not take your answer just now; try again.'

/**
 * What a click or a submission shows: the question's message edited with its tally or its outcome
 * (a stale one loses its controls), and a word to the person who answered, seen by them only.
 */
export async function showAnswer(
  outcome: AnswerOutcome,
  where: {
    questions: SlackQuestions
    message: QuestionMessage
    /** The workspace's client (bolt's, for the event's own token). */
    client: WebClient
    log: Logger
    tell(text: string): Promise<unknown>
  },
): Promise<void> {
  const edit = (view: QuestionView | undefined): Promise<void> =>
    view === undefined
      ? Promise.resolve()
      : where.questions
          .edit(where.message, view, where.log, where.client)
          .catch((err: unknown) =>
            where.log.warn({ err, event: 'slack.question_edit_failed' }, 'slack.question_edit_failed'),
          )
  const tell = (text: string): Promise<void> =>
    where.tell(text).then(
      () => undefined,
      (err: unknown) => where.log.warn({ err, event: 'slack.explain_failed' }, 'slack.explain_failed'),
    )
  switch (outcome.kind) {
    case 'counted':
      // A vote says it counted (and that it can change); a single answer's edit says enough.
      await Promise.all([
        edit(outcome.view),
        outcome.view.collect === undefined ? undefined : tell(outcome.message),
      ])
      return
    case 'decided':
      await edit(outcome.view)
      return
    case 'refused':
      await Promise.all([tell(outcome.message), edit(outcome.view)])
      return
    case 'invalid':
      await tell(outcome.message)
      return
  }
}
