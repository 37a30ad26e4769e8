import type { ChatInputCommandInteraction } from 'discord.js'
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

  constructor(interaction: ChatInputCommandInteraction) {
    this.#interaction = interaction
  }

  async show(view: ReplyView): Promise<void> {
    const { main, more } = renderView(view)
    await this.#interaction.editReply({ ...main, allowedMentions: NO_MENTIONS })
    if (!TERMINAL.has(view.status)) return
    for (const message of more) await this.#interaction.followUp({ ...message, allowedMentions: NO_MENTIONS })
  }
}
