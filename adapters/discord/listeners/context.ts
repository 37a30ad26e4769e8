import type { RepliableInteraction } from 'discord.js'
import type { Logger } from 'pino'
import type { Bot, Requester } from '../../../src/bot/index.ts'
import type { DiscordTarget } from '../../../src/store/index.ts'

/** What every listener is given: the bot and the adapter's logger. */
export interface Context {
  bot: Bot
  log: Logger
}

/** A listener of one kind of interaction; `rest` is its custom id after the prefix it was routed by. */
export type Listener<I> = (ctx: Context, interaction: I, rest: string) => void

/** The name Chorus shows for whoever sent an interaction; named, never mentioned. */
export function nameOf(interaction: RepliableInteraction): string {
  return interaction.user.globalName ?? interaction.user.username
}

/** Who the limits and budgets count: the user, the guild (the channel in a DM). */
export function requesterOf(interaction: RepliableInteraction): Requester {
  const guild = interaction.guildId ?? undefined
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
export function targetOf(interaction: RepliableInteraction): DiscordTarget {
  return {
    platform: 'discord',
    applicationId: interaction.applicationId,
    interactionId: interaction.id,
    token: interaction.token,
    // The interaction's snowflake carries its creation time; the token lives 15 minutes from it.
    createdAt: interaction.createdTimestamp,
    ...(interaction.guildId === null ? {} : { guildId: interaction.guildId }),
    // Where the bot edits the reply once the token is over.
    ...(interaction.channelId === null ? {} : { channelId: interaction.channelId }),
  }
}
