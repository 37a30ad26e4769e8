import type { AnswerOutcome, AnswerRequest } from '../../../src/bot/index.ts'
import type { Interaction } from '../interaction.ts'
import { NO_MENTIONS } from '../render.ts'
import { questionIdOf, renderQuestion } from '../render-question.ts'
import { ephemeral, FAILED_TEXT } from './answer.ts'
import { type Context, nameOf } from './context.ts'

/** Discord: a click is answered within 3 s; an answer waits this long for its outcome before it defers. */
const DECIDE_MS = 1_500

/** Gives the core `answer` from whoever sent `interaction`, to the question its custom id (`rest`) names. */
export function answerFrom(
  { bot }: Context,
  interaction: Interaction,
  rest: string,
  answer: AnswerRequest['answer'],
): Promise<AnswerOutcome> {
  const { runId, key } = questionIdOf(rest)
  const user = { id: interaction.user.id, name: nameOf(interaction) }
  return bot.answer({ runId, key, user, answer, platform: 'discord' })
}

/**
 * An interaction on a question's message (a click, a select, a modal submitted from it) is answered
 * by editing that message in place (type 7, or a deferral then an edit), with its own fresh token:
 * it works however old the question is.
 *
 * Shows what an answer came to: the question's message edited with the view it returns (a new tally,
 * the decision, or the question as it is now, for a stale message) and, to the person only, what
 * the core says (a counted vote, a refusal, a form that did not pass). Answers within Discord's 3 s:
 * an outcome slower than DECIDE_MS is deferred first and shown after.
 */
export function settle(
  { log }: Context,
  interaction: Interaction,
  work: Promise<AnswerOutcome>,
  failedEvent: string,
): void {
  let deferral: Promise<unknown> | undefined
  const timer = setTimeout(() => {
    deferral = interaction.deferUpdate()
  }, DECIDE_MS)
  work
    .then(
      async (outcome) => {
        clearTimeout(timer)
        if (deferral !== undefined) await deferral
        await show({ log }, interaction, outcome, deferral !== undefined)
      },
      async (err: unknown) => {
        clearTimeout(timer)
        log.error({ err }, failedEvent)
        if (deferral !== undefined) await deferral
        await ephemeral(log, interaction, FAILED_TEXT)
      },
    )
    .catch((err: unknown) => log.error({ err }, failedEvent))
}

/** Shows `outcome` on an interaction not yet answered (or deferred, then `deferred`). */
export async function show(
  { log }: Pick<Context, 'log'>,
  interaction: Interaction,
  outcome: AnswerOutcome,
  deferred = false,
): Promise<void> {
  const view = outcome.kind === 'invalid' ? undefined : outcome.view
  if (view !== undefined) {
    const message = { ...renderQuestion(view), allowed_mentions: NO_MENTIONS }
    await (deferred ? interaction.editReply(message) : interaction.update(message))
  }
  const words = wordsOf(outcome)
  if (words !== undefined) await ephemeral(log, interaction, words)
  else if (view === undefined && !deferred) await interaction.deferUpdate()
}

/** What the person who answered is told, if anything: a decision shows on the message itself. */
export function wordsOf(outcome: AnswerOutcome): string | undefined {
  switch (outcome.kind) {
    case 'decided':
      return undefined
    case 'invalid':
      return invalidText(outcome.message)
    default:
      return outcome.message
  }
}

/** Discord modals cannot show errors beside their fields: the reasons, and how to try again. */
function invalidText(reasons: string): string {
  const lines = reasons
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => `• ${l}`)
  return `Your answer was not taken:\n${lines.join('\n')}\nThe question is still open: press **Answer…** to try again.`
}
