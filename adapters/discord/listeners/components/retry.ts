import type { Interaction } from '../../interaction.ts'
import { type Context, nameOf } from '../context.ts'
import { rerun } from '../rerun.ts'

/** Retry (under a failed or stopped reply) and Again (under a final one): the run's command anew, for the clicker. */
export function retry(ctx: Context, interaction: Interaction, runId: string): void {
  const by = nameOf(interaction)
  rerun(ctx, interaction, 'discord.retry_failed', (target, options) =>
    ctx.bot.retry(runId, by, target, options),
  )
}
