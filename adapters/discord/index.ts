import {
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  Client,
  Events,
  GatewayIntentBits,
  type Interaction,
  MessageFlags,
  type ModalSubmitInteraction,
  type RESTOptions,
  type RepliableInteraction,
} from 'discord.js'
import type { Logger } from 'pino'
import { type Bot, type Config, DRAINING_MESSAGE, type RetryOutcome } from '../../src/bot/index.ts'
import type { DiscordTarget } from '../../src/store/index.ts'
import { discordSettings } from './config.ts'
import { guardInteractions } from './guard.ts'
import { discordPlatform, RUN_BUDGET_MS } from './platform.ts'
import {
  FEEDBACK_PREFIX,
  NO_MENTIONS,
  REFINE_FIELD,
  REFINE_PREFIX,
  RETRY_PREFIX,
  refineModal,
  STOP_PREFIX,
} from './render.ts'

export { commandJson, inviteUrl } from './commands.ts'
export { discordSettings } from './config.ts'
export { discordPlatform, discordRest, TOKEN_LIFETIME_MS } from './platform.ts'
export { neutralise, renderView } from './render.ts'

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
  const budgetMs = options.runBudgetMs ?? RUN_BUDGET_MS
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: settings.api, ...options.rest },
    // Discord's default for interactions pings users; Chorus never pings anyone.
    allowedMentions: NO_MENTIONS,
  })
  // A malformed INTERACTION_CREATE must not kill the process (discord.js throws in its socket handler).
  guardInteractions(client, log)
  bot.attach(discordPlatform(client.rest, budgetMs))
  client.on(Events.InteractionCreate, (interaction) => handle(bot, log, interaction))
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

function handle(bot: Bot, log: Logger, interaction: Interaction): void {
  if (interaction.isChatInputCommand()) command(bot, log, interaction)
  else if (interaction.isButton() && interaction.customId.startsWith(STOP_PREFIX)) stop(bot, log, interaction)
  else if (interaction.isButton() && interaction.customId.startsWith(RETRY_PREFIX))
    retry(bot, log, interaction)
  else if (interaction.isButton() && interaction.customId.startsWith(REFINE_PREFIX))
    // Discord: the modal (response type 9) must be the first response, within 3 s.
    interaction
      .showModal(refineModal(interaction.customId.slice(REFINE_PREFIX.length)))
      .catch((err: unknown) => log.error({ err }, 'discord.refine_open_failed'))
  else if (interaction.isModalSubmit() && interaction.customId.startsWith(REFINE_PREFIX))
    refine(bot, log, interaction)
  else if (interaction.isButton() && interaction.customId.startsWith(FEEDBACK_PREFIX)) {
    const [rating, runId = ''] = interaction.customId.slice(FEEDBACK_PREFIX.length).split(':')
    bot.feedback(
      runId,
      rating === 'up' ? 'up' : 'down',
      interaction.user.globalName ?? interaction.user.username,
    )
    void ephemeral(log, interaction, 'Thanks, noted.')
  }
}

function refine(bot: Bot, log: Logger, interaction: ModalSubmitInteraction): void {
  if (!bot.accepting) {
    void ephemeral(log, interaction, DRAINING_MESSAGE)
    return
  }
  const by = interaction.user.globalName ?? interaction.user.username
  const request = interaction.fields.getTextInputValue(REFINE_FIELD)
  // The submit's deferred reply becomes the refined run's message, shown under the message refined.
  const placeholder = interaction.deferReply()
  explainRefusal(
    log,
    interaction,
    placeholder,
    bot.refine(interaction.customId.slice(REFINE_PREFIX.length), request, by, targetOf(interaction), {
      placeholder,
    }),
  )
}

/** A rerun (Again, Retry, Refine) that did not start says why in the deferred reply made for it. */
function explainRefusal(
  log: Logger,
  interaction: RepliableInteraction,
  placeholder: Promise<unknown>,
  outcome: Promise<RetryOutcome>,
): void {
  outcome
    .then(async (o) => {
      if (o.ok) return
      await placeholder.catch(() => undefined)
      await interaction
        .editReply({ content: o.message, allowedMentions: NO_MENTIONS })
        .catch((err: unknown) => log.error({ err }, 'discord.reply_failed'))
    })
    .catch((err: unknown) => log.error({ err }, 'discord.rerun_failed'))
}

function ephemeral(log: Logger, interaction: RepliableInteraction, content: string): Promise<void> {
  const message = { content, flags: MessageFlags.Ephemeral, allowedMentions: NO_MENTIONS } as const
  const sent =
    interaction.deferred || interaction.replied ? interaction.followUp(message) : interaction.reply(message)
  return sent.then(
    () => undefined,
    (err: unknown) => log.error({ err }, 'discord.reply_failed'),
  )
}

function targetOf(interaction: RepliableInteraction): DiscordTarget {
  return {
    platform: 'discord',
    applicationId: interaction.applicationId,
    interactionId: interaction.id,
    token: interaction.token,
    // The interaction's snowflake carries its creation time; the token lives 15 minutes from it.
    createdAt: interaction.createdTimestamp,
  }
}

function command(bot: Bot, log: Logger, interaction: ChatInputCommandInteraction): void {
  const cmd = bot.command(interaction.commandName)
  if (cmd === undefined) {
    void ephemeral(
      log,
      interaction,
      `Chorus has no /${interaction.commandName} any more; ask an admin to run \`npm run discord:register\`.`,
    )
    return
  }
  if (!bot.accepting) {
    void ephemeral(log, interaction, DRAINING_MESSAGE)
    return
  }
  const values = Object.fromEntries(interaction.options.data.map((o) => [o.name, o.value]))
  const parsed = bot.parseOptions(cmd, values)
  // Discord: the first response must arrive within 3 s. Validation is synchronous, so the answer
  // (an ephemeral usage message, or the deferral) is sent before anything else is awaited.
  if (!parsed.ok) {
    void ephemeral(log, interaction, parsed.message)
    return
  }
  const user = interaction.user.globalName ?? interaction.user.username
  bot
    // The journal write comes first (a few microseconds), then the deferral: a crash in between
    // leaves a journaled run that the next start resumes or closes.
    .accept({
      command: cmd,
      input: parsed.input,
      user,
      target: targetOf(interaction),
      placeholder: interaction.deferReply(),
    })
    .catch(async (err: unknown) => {
      log.error({ err, interaction: interaction.id }, 'discord.command_failed')
      await ephemeral(log, interaction, 'Chorus hit an error; the details are in its log.')
    })
}

function stop(bot: Bot, log: Logger, interaction: ButtonInteraction): void {
  const by = interaction.user.globalName ?? interaction.user.username
  // Acknowledge the click at once; the run's own reply then says it was stopped and by whom.
  interaction
    .deferUpdate()
    .then(() => bot.stop(interaction.customId.slice(STOP_PREFIX.length), by))
    .then(async (outcome) => {
      if (outcome === 'finished') await ephemeral(log, interaction, 'That run has already finished.')
      if (outcome === 'unknown')
        await ephemeral(
          log,
          interaction,
          'Chorus has no record of that run any more, so there is nothing to stop.',
        )
    })
    .catch((err: unknown) => log.error({ err }, 'discord.stop_failed'))
}

function retry(bot: Bot, log: Logger, interaction: ButtonInteraction): void {
  if (!bot.accepting) {
    void ephemeral(log, interaction, DRAINING_MESSAGE)
    return
  }
  const by = interaction.user.globalName ?? interaction.user.username
  // The click's own deferred reply becomes the new run's message, under the one that failed.
  const placeholder = interaction.deferReply()
  explainRefusal(
    log,
    interaction,
    placeholder,
    bot.retry(interaction.customId.slice(RETRY_PREFIX.length), by, targetOf(interaction), { placeholder }),
  )
}
