import { type ChatInputCommandInteraction, MessageFlags } from 'discord.js'
import type { Logger } from 'pino'
import type { ReplySink, ReplyView } from '../../src/bot/index.ts'
import { renderView } from './render.ts'

const NO_MENTIONS = { parse: [] }
const TERMINAL = new Set(['final', 'failed', 'stopped'])

/**
 * One reply per run: the deferred reply is edited with progress, then the first result, then the
 * combined result; only a body too long for one message continues in follow-ups. Edits notify nobody.
 */
export class DiscordSink implements ReplySink {
  readonly #interaction: ChatInputCommandInteraction
  readonly #log: Logger

  constructor(interaction: ChatInputCommandInteraction, log: Logger) {
    this.#interaction = interaction
    this.#log = log
  }

  async show(view: ReplyView): Promise<void> {
    const { main, more } = renderView(view)
    try {
      await this.#interaction.editReply({ ...main, allowedMentions: NO_MENTIONS })
      if (!TERMINAL.has(view.status)) return
      for (const message of more)
        await this.#interaction.followUp({ ...message, allowedMentions: NO_MENTIONS })
    } catch (error) {
      // The log gets the details (the pump logs the rethrown error); the user gets a short word.
      if (TERMINAL.has(view.status)) {
        await this.#interaction
          .followUp({
            content: 'Chorus could not post its full reply; the details are in its log.',
            flags: MessageFlags.Ephemeral,
            allowedMentions: NO_MENTIONS,
          })
          .catch((e: unknown) => this.#log.error({ err: e }, 'discord.explain_failed'))
      }
      throw error
    }
  }
}
