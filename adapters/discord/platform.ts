import { REST, type RESTOptions } from 'discord.js'
import type { Logger } from 'pino'
import type { Bot, Config, Platform } from '../../src/bot/index.ts'
import type { DiscordTarget } from '../../src/store/index.ts'
import { discordApi, discordSettings } from './config.ts'
import { editQuestion, postQuestion } from './questions.ts'
import { DiscordSink } from './sink.ts'
import { DISCORD_TOKEN_CLOCK, type TokenClock, tokenLeftMs } from './token.ts'
import { noteTokenRun, runOfUrl } from './token-runs.ts'

/** Discord: a fresh run stops a minute before its token ends, so its last edit still lands. */
const RUN_MARGIN_MS = 60_000
/** Interaction webhooks allow about 5 edits per 2 s; one progress edit a second stays inside it. */
export const MIN_EDIT_MS = 1_000

/**
 * The REST clients a platform answers with: `webhooks` for interaction webhooks (no authorization,
 * see `webhookRest`), `bot` (the bot token) for channel messages once a token is over. Without `bot`,
 * replies and questions live only as long as their interaction's token.
 */
export interface DiscordRest {
  webhooks: REST
  bot?: REST | undefined
}

export interface DiscordPlatformOptions {
  /** How long a fresh run may take; default a minute less than the token lives. */
  budgetMs?: number
  /** The token's lifetime and margin (tests shorten them). */
  clock?: TokenClock
}

/**
 * How runs answer on Discord from plain data: interaction webhooks need only the application id and
 * the token in the target, so any process with a REST client can finish a run; once the token is
 * over, the bot edits the same message in its channel (`target.channelId`, `target.messageId`).
 */
export function discordPlatform(rest: DiscordRest, options: DiscordPlatformOptions = {}): Platform {
  const clock = options.clock ?? DISCORD_TOKEN_CLOCK
  const budgetMs = options.budgetMs ?? clock.lifetimeMs - RUN_MARGIN_MS
  return {
    name: 'discord',
    minIntervalMs: MIN_EDIT_MS,
    remainingMs: (target, now) => (target as DiscordTarget).createdAt + budgetMs - now,
    replyMs: (target, now) => tokenLeftMs(target as DiscordTarget, now, clock.lifetimeMs),
    sink: (target, ctx) => {
      const t = target as DiscordTarget
      noteTokenRun(rest.webhooks, t.token, ctx.runId, t.createdAt + clock.lifetimeMs)
      return new DiscordSink({ rest, clock, target: t, log: ctx.log, budget: ctx.budget, save: ctx.save })
    },
    postQuestion: (target, view, ctx) => postQuestion(rest, clock, target as DiscordTarget, view, ctx.log),
    editQuestion: (target, message, view, ctx) =>
      editQuestion(rest, clock, target as DiscordTarget, message, view, ctx.log),
    lateEdits: (target) => {
      const t = target as DiscordTarget
      return rest.bot !== undefined && t.channelId !== undefined && t.messageId !== undefined
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

/**
 * The REST clients of a process that only works runs (`npm run worker`; no gateway connection):
 * webhooks always, the bot's own client when DISCORD_TOKEN is set.
 */
export function discordRest(config: Config): DiscordRest {
  if (config.DISCORD_TOKEN === undefined)
    return {
      webhooks: webhookRest(discordApi(config)),
    }
  const settings = discordSettings(config)
  return {
    webhooks: webhookRest(settings.api),
    bot: new REST({ api: settings.api }).setToken(settings.token),
  }
}

/**
 * Logs each wait on a 429 and counts it in the metrics (and, on an interaction webhook, in the run's
 * trace), for every REST client the adapter answers with.
 */
export function watchRateLimits(rests: REST[], bot: Bot, log: Logger): void {
  for (const rest of rests) {
    rest.on('rateLimited', (info) => {
      log.warn(
        { route: info.route, retryAfter: info.retryAfter, global: info.global },
        'discord.rate_limited',
      )
      const route = info.global ? 'global' : info.route
      bot.observer.rateLimited?.('discord', route, info.retryAfter, runOfUrl(rest, info.url))
    })
  }
}
