import type { Logger } from 'pino'
import type { Bot, Requester } from '../../../src/bot/index.ts'
import type { DiscordTarget } from '../../../src/store/index.ts'
import type { Interaction } from '../interaction.ts'

/** What every listener is given: the bot and the adapter's logger. */
export interface Context {
  bot: Bot
  log: Logger
}

/** A listener of one kind of interaction; `rest` is its custom id after the prefix it was routed by. */
export type Listener = (ctx: Context, interaction: Interaction, rest: string) => void

/** The name Chorus shows for whoever sent an interaction; named, never mentioned. */
export function nameOf(interaction: Interaction): string {
  return interaction.user.name
}

/** Who the limits and budgets count: the user, the guild (the channel in a DM). */
export function requesterOf(interaction: Interaction): Requester {
  const guild = interaction.guildId
  return {
    platform: 'discord',
    user: interaction.user.id,
    place:
      guild === undefined
        ? { kind: 'channel', id: interaction.channelId ?? 'dm' }
        : { kind: 'server', id: guild },
    workspace: guild,
  }
}

/** The interaction's reply as plain data: any process can finish a run from it. */
export function targetOf(interaction: Interaction): DiscordTarget {
  return {
    platform: 'discord',
    applicationId: interaction.applicationId,
    interactionId: interaction.id,
    token: interaction.token,
    // The interaction's snowflake carries its creation time; the token lives 15 minutes from it.
    createdAt: interaction.createdAt,
    ...(interaction.guildId === undefined ? {} : { guildId: interaction.guildId }),
    // Where the bot edits the reply once the token is over.
    ...(interaction.channelId === undefined ? {} : { channelId: interaction.channelId }),
  }
}
