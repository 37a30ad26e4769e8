import type { ButtonInteraction, StringSelectMenuInteraction } from 'discord.js'
import { questionIdOf } from '../../render-question.ts'
import { settle } from '../asks.ts'
import { type Context, nameOf } from '../context.ts'
import { inactive } from './inactive.ts'

/** A choice on a question: a button (`<run>:<key>:<index>`) or a select (`<run>:<key>`, the index as its value). */
export function answerChoice(
  ctx: Context,
  interaction: ButtonInteraction | StringSelectMenuInteraction,
  rest: string,
): void {
  const { runId, key, index } = questionIdOf(rest)
  const choice = interaction.isStringSelectMenu() ? Number(interaction.values[0]) : index
  if (choice === undefined || !Number.isInteger(choice)) {
    inactive(ctx, interaction)
    return
  }
  const answer = ctx.bot.answer({
    runId,
    key,
    user: { id: interaction.user.id, name: nameOf(interaction) },
    answer: { choice },
    platform: 'discord',
  })
  settle(ctx, interaction, answer, 'discord.answer_failed')
}
