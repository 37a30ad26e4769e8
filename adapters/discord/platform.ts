import { REST } from 'discord.js'
import type { Config, Platform } from '../../src/bot/index.ts'
import type { DiscordTarget } from '../../src/store/index.ts'
import { discordSettings } from './config.ts'
import { DiscordSink } from './sink.ts'

/** Discord: an interaction token lives 15 minutes; stop a run a minute before so its last edit still lands. */
export const TOKEN_LIFETIME_MS = 15 * 60_000
export const RUN_BUDGET_MS = TOKEN_LIFETIME_MS - 60_000
/** Interaction webhooks allow about 5 edits per 2 s; one progress edit a second stays inside it. */
export const MIN_EDIT_MS = 1_000

/**
 * How runs answer on Discord from plain data: interaction webhooks need only the application id and
 * the token in the target, so any process with a REST client can finish a run.
 */
export function discordPlatform(rest: REST, budgetMs: number = RUN_BUDGET_MS): Platform {
  return {
    name: 'discord',
    minIntervalMs: MIN_EDIT_MS,
    remainingMs: (target, now) => (target as DiscordTarget).createdAt + budgetMs - now,
    sink: (target, ctx) => new DiscordSink({ rest, target: target as DiscordTarget, log: ctx.log }),
  }
}

/** A REST client for a process that only works runs (`npm run worker`); no gateway connection. */
export function discordRest(config: Config): REST {
  const settings = discordSettings(config)
  return new REST({ api: settings.api }).setToken(settings.token)
}
