import { MessageFlags, type RepliableInteraction } from 'discord.js'
import type { Logger } from 'pino'
import { NO_MENTIONS } from '../render.ts'

/** Said when handling an interaction failed; the log has the details. */
export const FAILED_TEXT = 'Chorus hit an error; the details are in its log.'

/** Answers with a message only the user sees: the first response, or a follow-up once one was sent. */
export function ephemeral(log: Logger, interaction: RepliableInteraction, content: string): Promise<void> {
  const message = { content, flags: MessageFlags.Ephemeral, allowedMentions: NO_MENTIONS } as const
  const sent =
    interaction.deferred || interaction.replied ? interaction.followUp(message) : interaction.reply(message)
  return sent.then(
    () => undefined,
    (err: unknown) => log.error({ err }, 'discord.reply_failed'),
  )
}
