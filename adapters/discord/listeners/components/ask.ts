import type { Interaction } from '../../interaction.ts'
import { questionIdOf } from '../../render-question.ts'
import { answerFrom, settle } from '../asks.ts'
import type { Context } from '../context.ts'
import { inactive } from './inactive.ts'

/** A choice on a question: a button (`<run>:<key>:<index>`) or a select (`<run>:<key>`, the index as its value). */
export function answerChoice(ctx: Context, interaction: Interaction, rest: string): void {
  const choice = interaction.kind === 'select' ? Number(interaction.values[0]) : questionIdOf(rest).index
  if (choice === undefined || !Number.isInteger(choice)) {
    inactive(ctx, interaction)
    return
  }
  settle(ctx, interaction, answerFrom(ctx, interaction, rest, { choice }), 'discord.answer_failed')
}
