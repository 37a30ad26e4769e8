import type { Interaction } from '../../interaction.ts'
import { ephemeral } from '../answer.ts'
import { type Context, nameOf } from '../context.ts'

/** 👍 or 👎 under a final reply (`up:<run>`, `down:<run>`): noted for the run, thanked ephemerally. */
export function feedback({ bot, log }: Context, interaction: Interaction, rest: string): void {
  const [rating, runId = ''] = rest.split(':')
  void bot.feedback(runId, rating === 'up' ? 'up' : 'down', nameOf(interaction), 'discord')
  void ephemeral(log, interaction, 'Thanks, noted.')
}
