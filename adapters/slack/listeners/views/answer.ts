import type { Middleware, SlackViewMiddlewareArgs } from '@slack/bolt'
import type { Logger } from 'pino'
import type { AnswerOutcome, Bot } from '../../../../src/bot/index.ts'
import type { SlackQuestions } from '../../questions.ts'
import { readAnswerMetadata } from '../answer-metadata.ts'
import { ANSWER_FAILED, showAnswer } from '../answered.ts'

/** Slack: a view_submission is acknowledged within 3 s; an answer that takes longer is acked first. */
const ACK_WITHIN_MS = 2_500

/**
 * A form question's modal, submitted: values that fail the form's checks keep the modal open with
 * a reason under each field (response_action `errors`); otherwise it closes and the question's
 * message shows the outcome.
 */
export function answerView(
  bot: Bot,
  log: Logger,
  questions: SlackQuestions,
): Middleware<SlackViewMiddlewareArgs> {
  return async ({ ack, body, view, client }) => {
    const metadata = readAnswerMetadata(view.private_metadata)
    if (metadata === undefined) {
      await ack()
      log.warn({ event: 'slack.answer_bad_metadata' }, 'slack.answer_bad_metadata')
      return
    }
    // Each field is an input block whose block_id and action_id are the field's name.
    const values: Record<string, string> = {}
    for (const [block, actions] of Object.entries(view.state.values))
      values[block] = actions[block]?.value ?? ''
    const answering: Promise<AnswerOutcome | 'failed'> = bot
      .answer({
        runId: metadata.runId,
        key: metadata.key,
        user: { id: body.user.id, name: body.user.name || body.user.id },
        answer: { form: values },
        platform: 'slack',
      })
      .catch((err: unknown) => {
        log.error({ err, event: 'slack.answer_failed' }, 'slack.answer_failed')
        return 'failed' as const
      })
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(resolve, ACK_WITHIN_MS, 'late')
    })
    const first = await Promise.race([answering, late]).finally(() => clearTimeout(timer))
    if (typeof first === 'object' && first.kind === 'invalid') {
      await ack({ response_action: 'errors', errors: fieldErrors(first, inputBlocks(view.blocks)) })
      return
    }
    await ack()
    const outcome = first === 'late' ? await answering : first
    const tell = (text: string) =>
      client.chat.postEphemeral({
        channel: metadata.channel,
        user: body.user.id,
        text,
        ...(metadata.threadTs === undefined ? {} : { thread_ts: metadata.threadTs }),
      })
    if (outcome === 'failed') {
      await tell(ANSWER_FAILED).catch((err: unknown) => log.warn({ err }, 'slack.explain_failed'))
      return
    }
    await showAnswer(outcome, {
      questions,
      client,
      message: { channel: metadata.channel, ts: metadata.ts },
      log,
      tell,
    })
  }
}

/** The block ids of the modal's inputs: Slack accepts errors only under those. */
function inputBlocks(blocks: unknown): string[] {
  return ((blocks ?? []) as Array<{ type?: string; block_id?: string }>)
    .filter((b) => b.type === 'input' && b.block_id !== undefined)
    .map((b) => b.block_id as string)
}

/** Reasons by field, each under an input of the modal (a reason for the whole form goes under the first). */
function fieldErrors(
  outcome: Extract<AnswerOutcome, { kind: 'invalid' }>,
  inputs: string[],
): Record<string, string> {
  const errors: Record<string, string> = {}
  for (const [field, reason] of Object.entries(outcome.errors)) {
    const block = inputs.includes(field) ? field : inputs[0]
    if (block !== undefined)
      errors[block] = errors[block] === undefined ? reason : `${errors[block]} ${reason}`
  }
  if (Object.keys(errors).length === 0 && inputs[0] !== undefined) errors[inputs[0]] = outcome.message
  return errors
}
