import type { Logger } from 'pino'
import type { Interaction } from '../interaction.ts'
import { NO_MENTIONS } from '../render.ts'

/** Said when handling an interaction failed; the log has the details. */
export const FAILED_TEXT = 'Chorus hit an error; the details are in its log.'

/** Discord's message flag for "only you can see this". */
export const EPHEMERAL = 64

/** Answers with a message only the user sees: the first response, or a follow-up once one was sent. */
export function ephemeral(log: Logger, interaction: Interaction, content: string): Promise<void> {
  const message = { content, flags: EPHEMERAL, allowed_mentions: NO_MENTIONS }
  const { deferred, replied } = interaction.state
  const sent = deferred || replied ? interaction.followUp(message) : interaction.reply(message)
  return sent.then(
    () => undefined,
    (err: unknown) => log.error({ err }, 'discord.reply_failed'),
  )
}

/**
 * Says why a command was not started, only to whoever sent it: the first response, or, when the
 * deferral ("thinking…") already went out, in its place (deleted, then an ephemeral follow-up).
 */
export async function refuse(log: Logger, interaction: Interaction, content: string): Promise<void> {
  if (interaction.state.deferred && !interaction.state.replied)
    await interaction.deleteReply().catch((err: unknown) => log.warn({ err }, 'discord.reply_failed'))
  await ephemeral(log, interaction, content)
}
