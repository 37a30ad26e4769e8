import {
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  Client,
  Events,
  GatewayIntentBits,
  type Interaction,
  MessageFlags,
  type RESTOptions,
} from 'discord.js'
import type { Logger } from 'pino'
import type { Bot, Config } from '../../src/bot/index.ts'
import { discordSettings } from './config.ts'
import { STOP_PREFIX } from './render.ts'
import { DiscordSink } from './sink.ts'

export { commandJson, inviteUrl } from './commands.ts'
export { discordSettings } from './config.ts'
export { neutralise, renderView } from './render.ts'

/** Discord: an interaction token lives 15 minutes; stop a run a minute before so its last edit still lands. */
export const TOKEN_LIFETIME_MS = 15 * 60_000
const RUN_BUDGET_MS = TOKEN_LIFETIME_MS - 60_000
/** Interaction webhooks allow about 5 edits per 2 s; one progress edit a second stays inside it. */
const MIN_EDIT_MS = 1_000
const NO_MENTIONS = { parse: [] }

export interface DiscordOptions {
  /** Merged into the REST options (tests shorten timeouts). */
  rest?: Partial<RESTOptions>
  /** Overrides the run budget (tests). */
  runBudgetMs?: number
}

/** Logs in and answers every flow's slash command; resolves once the gateway session is ready. */
export async function startDiscord(
  bot: Bot,
  config: Config,
  options: DiscordOptions = {},
): Promise<{ client: Client; stop(): Promise<void> }> {
  const settings = discordSettings(config)
  const log = bot.logger.child({ platform: 'discord' })
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: settings.api, ...options.rest },
    // Discord's default for interactions pings users; Chorus never pings anyone.
    allowedMentions: NO_MENTIONS,
  })
  client.on(Events.InteractionCreate, (interaction) =>
    handle(bot, log, interaction, options.runBudgetMs ?? RUN_BUDGET_MS),
  )
  client.on(Events.Error, (error) => log.error({ err: error }, 'discord.client_error'))
  client.rest.on('rateLimited', (info) =>
    log.warn({ route: info.route, retryAfter: info.retryAfter, global: info.global }, 'discord.rate_limited'),
  )
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()))
  await client.login(settings.token)
  await ready
  log.info({ user: client.user?.tag }, 'discord.ready')
  return { client, stop: () => client.destroy() }
}

function handle(bot: Bot, log: Logger, interaction: Interaction, budgetMs: number): void {
  if (interaction.isChatInputCommand()) command(bot, log, interaction, budgetMs)
  else if (interaction.isButton() && interaction.customId.startsWith(STOP_PREFIX)) stop(bot, log, interaction)
}

function command(bot: Bot, log: Logger, interaction: ChatInputCommandInteraction, budgetMs: number): void {
  const cmd = bot.command(interaction.commandName)
  const ephemeral = (content: string) =>
    interaction
      .reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: NO_MENTIONS })
      .catch((err: unknown) => {
        log.error({ err }, 'discord.reply_failed')
      })
  if (cmd === undefined) {
    void ephemeral(
      `Chorus has no /${interaction.commandName} any more; ask an admin to run \`npm run discord:register\`.`,
    )
    return
  }
  const values = Object.fromEntries(interaction.options.data.map((o) => [o.name, o.value]))
  const parsed = bot.parseOptions(cmd, values)
  // Discord: the first response must arrive within 3 s. Validation is synchronous, so the answer
  // (an ephemeral usage message, or the deferral) is sent before anything else is awaited.
  if (!parsed.ok) {
    void ephemeral(parsed.message)
    return
  }
  const user = interaction.user.globalName ?? interaction.user.username
  interaction
    .deferReply()
    .then(() => {
      const remaining = budgetMs - (Date.now() - interaction.createdTimestamp)
      const run = bot.start({
        command: cmd,
        input: parsed.input,
        user,
        platform: 'discord',
        sink: new DiscordSink(interaction, log),
        minIntervalMs: MIN_EDIT_MS,
        deadlineMs: Math.max(1_000, remaining),
      })
      return run.done
    })
    .catch(async (err: unknown) => {
      log.error({ err, interaction: interaction.id }, 'discord.command_failed')
      const content = 'Chorus hit an error; the details are in its log.'
      const reply =
        interaction.deferred || interaction.replied
          ? interaction.followUp({ content, flags: MessageFlags.Ephemeral, allowedMentions: NO_MENTIONS })
          : interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: NO_MENTIONS })
      await reply.catch((e: unknown) => log.error({ err: e }, 'discord.error_reply_failed'))
    })
}

function stop(bot: Bot, log: Logger, interaction: ButtonInteraction): void {
  const run = bot.get(interaction.customId.slice(STOP_PREFIX.length))
  if (run === undefined) {
    interaction
      .reply({
        content: 'That run has already finished.',
        flags: MessageFlags.Ephemeral,
        allowedMentions: NO_MENTIONS,
      })
      .catch((err: unknown) => log.error({ err }, 'discord.reply_failed'))
    return
  }
  // Acknowledge the click at once; the run's own reply then says it was stopped and by whom.
  interaction
    .deferUpdate()
    .then(() => run.cancel(interaction.user.globalName ?? interaction.user.username))
    .catch((err: unknown) => log.error({ err }, 'discord.stop_failed'))
}
