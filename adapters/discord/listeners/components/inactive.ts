import type { Interaction } from '../../interaction.ts'
import { ephemeral } from '../answer.ts'
import type { Context } from '../context.ts'

/** Said to a click on a component Chorus no longer knows (an old message, a removed feature). */
export const INACTIVE_COMPONENT = 'This button is no longer active.'

/** Any other component: Discord shows "This interaction failed" to a click left unanswered. */
export function inactive({ log }: Context, interaction: Interaction): void {
  log.info(
    { event: 'discord.unknown_component', customId: interaction.customId },
    'discord.unknown_component',
  )
  void ephemeral(log, interaction, INACTIVE_COMPONENT)
}
