import type { Interaction } from '../../interaction.ts'
import type { Context } from '../context.ts'

/** Discord shows at most 25 autocomplete choices. */
const MAX_CHOICES = 25

/** Choices of the focused option that contain what was typed; else none. */
export function choices({ bot, log }: Context, interaction: Interaction): void {
  const focused = interaction.options.find((o) => o.focused === true)
  const option = bot.command(interaction.commandName)?.options.find((o) => o.name === focused?.name)
  const typed = String(focused?.value ?? '').toLowerCase()
  const matching = (option?.choices ?? [])
    .filter((c) => c.toLowerCase().includes(typed))
    .slice(0, MAX_CHOICES)
    .map((c) => ({ name: c, value: c }))
  interaction.respond(matching).catch((err: unknown) => log.error({ err }, 'discord.autocomplete_failed'))
}
