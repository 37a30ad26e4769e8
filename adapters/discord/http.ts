import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { REST } from 'discord.js'
import { type Bot, type Check, type Config, ConfigError } from '../../src/bot/index.ts'
import { discordHttpSettings } from './config.ts'
import { INTERACTIONS_PATH, interactionsEndpoint } from './endpoint.ts'
import type { DiscordOptions } from './index.ts'
import { discordPlatform, watchRateLimits, webhookRest } from './platform.ts'
import { publicKeyOf } from './verify.ts'

/**
 * Discord over HTTP (DISCORD_PUBLIC_KEY): Discord POSTs each interaction to
 * `POST /discord/interactions` on PORT, and Chorus answers through the interaction's callback and
 * webhook: no gateway connection, and no client-side bot-wide rate limit (interaction endpoints are
 * not under Discord's global limit). With DISCORD_TOKEN, the bot's REST client (no gateway either)
 * posts and edits what outlives an interaction's 15 minutes. Runs go through the store and queue as
 * on the gateway, so any number of these receivers can stand behind one load balancer.
 */
/** The interactions endpoint as a request handler, for a server of its own or one Slack's receiver serves on PORT. */
export interface DiscordInteractions {
  path: typeof INTERACTIONS_PATH
  handle(req: IncomingMessage, res: ServerResponse): void
}

/**
 * Attaches Discord over HTTP to the bot and returns its endpoint's handler, not yet listening: with
 * Slack's HTTP mode (or its install pages) in the same process, Slack's receiver serves it on PORT
 * beside Slack's own routes (`startSlack`'s `routes`), else `startDiscordHttp` gives it a server.
 */
export function discordInteractions(
  bot: Bot,
  config: Config,
  options: DiscordOptions = {},
): DiscordInteractions {
  const settings = discordHttpSettings(config)
  const log = bot.logger.child({ platform: 'discord', delivery: 'http' })
  const webhooks = webhookRest(settings.api, options.rest)
  const botRest =
    settings.token === undefined
      ? undefined
      : new REST({ ...options.rest, api: settings.api }).setToken(settings.token)
  bot.attach(
    discordPlatform(
      { webhooks, bot: botRest },
      {
        ...(options.runBudgetMs === undefined ? {} : { budgetMs: options.runBudgetMs }),
        ...(options.clock === undefined ? {} : { clock: options.clock }),
      },
    ),
  )
  watchRateLimits([webhooks, ...(botRest === undefined ? [] : [botRest])], bot, log)
  const endpoint = interactionsEndpoint({ bot, log }, publicKeyOf(settings.publicKey), webhooks)
  log.info({ path: INTERACTIONS_PATH, botToken: botRest !== undefined }, 'discord.http_ready')
  return {
    path: INTERACTIONS_PATH,
    handle: (req, res) => {
      endpoint(req, res).catch((err: unknown) => {
        log.error({ err }, 'discord.http_failed')
        if (!res.headersSent) res.writeHead(500).end()
      })
    },
  }
}

/** Discord over HTTP on a server of its own, on PORT (or `options.port`). */
export async function startDiscordHttp(
  bot: Bot,
  config: Config,
  options: DiscordOptions & { port?: number } = {},
): Promise<{ name: 'discord'; port: number; stop(): Promise<void>; check(): Check }> {
  const settings = discordHttpSettings(config)
  const { handle } = discordInteractions(bot, config, options)
  const server = createServer(handle)
  // Discord holds no connection open between interactions; idle keep-alive sockets need not stay.
  server.keepAliveTimeout = 5_000
  const wanted = options.port ?? settings.port
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new ConfigError(
              'discord_port_in_use',
              `PORT ${wanted} is already in use, so Discord's interactions endpoint cannot listen there; set PORT to a free port (and point the load balancer at it).`,
            )
          : err,
      ),
    )
    server.listen(wanted, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  bot.logger.info({ platform: 'discord', port }, 'discord.http_listening')
  let stopped = false
  return {
    name: 'discord',
    port,
    stop: () => {
      stopped = true
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
    },
    check: () =>
      !stopped && server.listening
        ? { ok: true }
        : { ok: false, reason: 'Discord interactions endpoint is not listening' },
  }
}
