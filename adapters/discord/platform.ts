import { createHash } from 'node:crypto'
import { REST, type RESTOptions } from 'discord.js'
import type { Config, Platform } from '../../src/bot/index.ts'
import type { DiscordTarget } from '../../src/store/index.ts'
import { discordSettings } from './config.ts'
import { DiscordSink } from './sink.ts'

/** Discord: an interaction token lives 15 minutes; stop a run a minute before so its last edit still lands. */
export const TOKEN_LIFETIME_MS = 15 * 60_000
export const RUN_BUDGET_MS = TOKEN_LIFETIME_MS - 60_000
/** Interaction webhooks allow about 5 edits per 2 s; one progress edit a second stays inside it. */
export const MIN_EDIT_MS = 1_000
/** Webhook calls on one interaction (edits and follow-ups): 4 per 2 s, under the 5 per 2 s Discord allows. */
export const WEBHOOK_BUDGET = { limit: 4, windowMs: 2_000 }

/** How long the interaction token of `target` still works: 15 minutes from the interaction's creation. */
export function tokenLeftMs(target: DiscordTarget, now: number): number {
  return target.createdAt + TOKEN_LIFETIME_MS - now
}

/**
 * How runs answer on Discord from plain data: interaction webhooks need only the application id and
 * the token in the target, so any process with a REST client can finish a run. `rest` should be a
 * `webhookRest` (no client-side global limit).
 */
export function discordPlatform(rest: REST, budgetMs: number = RUN_BUDGET_MS): Platform {
  return {
    name: 'discord',
    minIntervalMs: MIN_EDIT_MS,
    remainingMs: (target, now) => (target as DiscordTarget).createdAt + budgetMs - now,
    replyMs: (target, now) => tokenLeftMs(target as DiscordTarget, now),
    sink: (target, ctx) => {
      const t = target as DiscordTarget
      // The token is a credential: the route key carries a digest of it, never the token.
      const digest = createHash('sha256').update(t.token).digest('base64url').slice(0, 16)
      return new DiscordSink({
        rest,
        target: t,
        log: ctx.log,
        route: { key: `discord:webhook:${t.applicationId}:${digest}`, ...WEBHOOK_BUDGET },
        budget: ctx.budget,
      })
    },
  }
}

/**
 * A REST client for interaction webhooks. Discord: "Interaction endpoints are not bound to the bot's
 * Global Rate Limit", yet @discordjs/rest 2.6 counts every request, `auth: false` ones included,
 * against its client-side 50 per second; this client has no such limit. Per-route buckets (the
 * X-RateLimit headers, Retry-After on a 429) still hold.
 */
export function webhookRest(api: string, options: Partial<RESTOptions> = {}): REST {
  return new REST({ ...options, api, globalRequestsPerSecond: Number.POSITIVE_INFINITY })
}

/** The webhook REST client for a process that only works runs (`npm run worker`); no gateway connection. */
export function discordRest(config: Config): REST {
  const settings = discordSettings(config)
  return webhookRest(settings.api)
}
