import { Client, Events, GatewayIntentBits, type RESTOptions } from 'discord.js'
import type { Bot, Check, Config } from '../../src/bot/index.ts'
import { discordSettings } from './config.ts'
import { fromGateway } from './from-gateway.ts'
import { gatewayState } from './gateway.ts'
import { guardInteractions } from './guard.ts'
import { route } from './listeners/index.ts'
import { discordPlatform, watchRateLimits, webhookRest } from './platform.ts'
import { NO_MENTIONS } from './render.ts'
import type { TokenClock } from './token.ts'

export { commandJson, inviteUrl } from './commands.ts'
export { discordHttpSettings, discordSettings } from './config.ts'
export { INTERACTIONS_PATH } from './endpoint.ts'
export { type DiscordInteractions, discordInteractions, startDiscordHttp } from './http.ts'
export { INACTIVE_COMPONENT, TOKEN_EXPIRED_TEXT } from './listeners/index.ts'
export {
  type DiscordRest,
  discordPlatform,
  discordRest,
  webhookRest,
} from './platform.ts'
export { CANNOT_POST_TEXT } from './questions.ts'
export { neutralise, renderView } from './render.ts'
export { TOKEN_LIFETIME_MS, type TokenClock } from './token.ts'

export interface DiscordOptions {
  /** Merged into the REST options (tests shorten timeouts). */
  rest?: Partial<RESTOptions>
  /** Overrides the run budget (tests). */
  runBudgetMs?: number
  /** Overrides the interaction token's lifetime and margin (tests, with a fake Discord whose tokens die sooner). */
  clock?: TokenClock
}

/** Logs in and answers every flow's slash command; resolves once the gateway session is ready. */
export async function startDiscord(
  bot: Bot,
  config: Config,
  options: DiscordOptions = {},
): Promise<{ name: 'discord'; client: Client; stop(): Promise<void>; check(): Check }> {
  const settings = discordSettings(config)
  const log = bot.logger.child({ platform: 'discord' })
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: settings.api, ...options.rest },
    // Discord's default for interactions pings users; Chorus never pings anyone.
    allowedMentions: NO_MENTIONS,
  })
  // A malformed INTERACTION_CREATE must not kill the process (discord.js throws in its socket handler).
  guardInteractions(client, log)
  // Interactions are answered (callbacks, then their webhooks) on a REST client of their own, without
  // the global limit; past a token's 15 minutes, through the bot (the client's own REST, with its token).
  const webhooks = webhookRest(settings.api, options.rest)
  bot.attach(
    discordPlatform(
      { webhooks, bot: client.rest },
      {
        ...(options.runBudgetMs === undefined ? {} : { budgetMs: options.runBudgetMs }),
        ...(options.clock === undefined ? {} : { clock: options.clock }),
      },
    ),
  )
  const ctx = { bot, log }
  client.on(Events.InteractionCreate, (interaction) => {
    const incoming = fromGateway(interaction, webhooks)
    if (incoming !== undefined) route(ctx, incoming)
  })
  client.on(Events.Error, (error) => log.error({ err: error }, 'discord.client_error'))
  watchRateLimits([client.rest, webhooks], bot, log)
  const gateway = gatewayState(client)
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()))
  await client.login(settings.token)
  await ready
  log.info({ user: client.user?.tag }, 'discord.ready')
  let stopped = false
  return {
    name: 'discord',
    client,
    stop: () => {
      stopped = true
      return client.destroy()
    },
    check: () =>
      !stopped && gateway() === 'ready' && client.isReady()
        ? { ok: true }
        : { ok: false, reason: `Discord gateway is ${stopped ? 'stopped' : gateway()}` },
  }
}
