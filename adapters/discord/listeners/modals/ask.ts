import type { Interaction } from '../../interaction.ts'
import { ephemeral, FAILED_TEXT } from '../answer.ts'
import { answerFrom, settle, wordsOf } from '../asks.ts'
import type { Context } from '../context.ts'

/**
 * A question's form submitted: its fields go to the core, which checks them. From the question's
 * message, the message shows the outcome (type 7); a form that did not pass is said to the person
 * only, and the question stays open for another try.
 */
export function submitAnswer(ctx: Context, interaction: Interaction, rest: string): void {
  const answer = answerFrom(ctx, interaction, rest, { form: { ...interaction.fields } })
  if (interaction.fromMessage) {
    settle(ctx, interaction, answer, 'discord.answer_failed')
    return
  }
  // Not from a message (Discord sends none): there is no message to edit, only words to say.
  answer
    .then((outcome) => ephemeral(ctx.log, interaction, wordsOf(outcome) ?? 'Thanks, that decided it.'))
    .catch(async (err: unknown) => {
      ctx.log.error({ err }, 'discord.answer_failed')
      await ephemeral(ctx.log, interaction, FAILED_TEXT)
    })
}
