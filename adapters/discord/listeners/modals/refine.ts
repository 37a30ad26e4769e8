import type { Interaction } from '../../interaction.ts'
import { REFINE_FIELD } from '../../render.ts'
import { type Context, nameOf } from '../context.ts'
import { rerun } from '../rerun.ts'

/** The Refine modal submitted: the run again with what should change; its reply shows under the message refined. */
export function submitRefine(ctx: Context, interaction: Interaction, runId: string): void {
  const by = nameOf(interaction)
  const request = interaction.fields[REFINE_FIELD] ?? ''
  rerun(ctx, interaction, 'discord.refine_failed', (target, options) =>
    ctx.bot.refine(runId, request, by, target, options),
  )
}
