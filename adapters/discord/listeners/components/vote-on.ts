import type { Interaction } from '../../interaction.ts'
import { type Context, nameOf } from '../context.ts'
import { rerun } from '../rerun.ts'

/** Vote on these (under a final reply with ranked ideas): the ideas put to the channel as a vote, a new run for the clicker. */
export function voteOn(ctx: Context, interaction: Interaction, runId: string): void {
  const by = nameOf(interaction)
  rerun(ctx, interaction, 'discord.vote_on_failed', (target, options) =>
    ctx.bot.voteOn(runId, by, target, options),
  )
}
