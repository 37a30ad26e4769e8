import type { Interaction } from '../../interaction.ts'
import { refineModal } from '../../render.ts'
import type { Context } from '../context.ts'

/** Refine opens its modal; Discord: the modal (response type 9) must be the first response, within 3 s. */
export function openRefine({ log }: Context, interaction: Interaction, runId: string): void {
  interaction
    .showModal(refineModal(runId))
    .catch((err: unknown) => log.error({ err }, 'discord.refine_open_failed'))
}
