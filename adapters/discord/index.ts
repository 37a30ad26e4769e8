import {
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  Client,
  Events,
  GatewayIntentBits,
  type Interaction,
  type MessageComponentInteraction,
  MessageFlags,
  type ModalSubmitInteraction,
  type RESTOptions,
  type RepliableInteraction,
} from 'discord.js'
import type { Logger } from 'pino'
import {
  type Bot,
  type Check,
  type Config,
  DRAINING_MESSAGE,
  type Requester,
  type RetryOutcome,
  type StopOutcome,
} from '../../src/bot/index.ts'
import type { DiscordTarget } from '../../src/store/index.ts'
import { discordSettings } from './config.ts'
import { guardInteractions } from './guard.ts'
import { discordPlatform, RUN_BUDGET_MS, tokenLeftMs, webhookRest } from './platform.ts'
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
export { discordPlatform, discordRest, TOKEN_LIFETIME_MS, webhookRest } from './platform.ts'
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
): Promise<{ name: 'discord'; client: Client; stop(): Promise<void>; check(): Check }> {
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
  // Replies go through interaction webhooks on a REST client of their own, without the global limit.
  const webhooks = webhookRest(settings.api, options.rest)
  bot.attach(discordPlatform(webhooks, budgetMs))
  client.on(Events.InteractionCreate, (interaction) => handle(bot, log, interaction))
  client.on(Events.Error, (error) => log.error({ err: error }, 'discord.client_error'))
  for (const rest of [client.rest, webhooks]) {
    rest.on('rateLimited', (info) => {
      log.warn(
        { route: info.route, retryAfter: info.retryAfter, global: info.global },
        'discord.rate_limited',
      )
      bot.observer.rateLimited?.('discord', info.global ? 'global' : info.route, info.retryAfter)
    })
  }
  let gateway = 'connecting'
  client.on(Events.ShardReady, () => {
    gateway = 'ready'
  })
  client.on(Events.ShardResume, () => {
    gateway = 'ready'
  })
  client.on(Events.ShardDisconnect, () => {
    gateway = 'disconnected'
  })
  client.on(Events.ShardReconnecting, () => {
    gateway = 'reconnecting'
  })
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
      !stopped && gateway === 'ready' && client.isReady()
        ? { ok: true }
        : { ok: false, reason: `Discord gateway is ${stopped ? 'stopped' : gateway}` },
  }
}

/** Said when handling an interaction failed; the log has the details. */
const FAILED_TEXT = 'Chorus hit an error; the details are in its log.'

/** Said to a command whose interaction token had expired when it reached Chorus. */
export const TOKEN_EXPIRED_TEXT =
  "This command reached Chorus after Discord's 15 minutes for answering it were over; please run it again."

/** Said to a click on a component Chorus no longer knows (an old message, a removed feature). */
export const INACTIVE_COMPONENT = 'This button is no longer active.'

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
    void bot.feedback(
      runId,
      rating === 'up' ? 'up' : 'down',
      interaction.user.globalName ?? interaction.user.username,
      'discord',
    )
    void ephemeral(log, interaction, 'Thanks, noted.')
  } else if (interaction.isAutocomplete()) autocomplete(bot, log, interaction)
  // Discord: every interaction needs an answer, or the user sees "This interaction failed".
  else if (interaction.isMessageComponent()) inactive(log, interaction)
}

/** Choices of the focused option that contain what was typed (Discord allows at most 25); else none. */
function autocomplete(bot: Bot, log: Logger, interaction: AutocompleteInteraction): void {
  const focused = interaction.options.getFocused(true)
  const option = bot.command(interaction.commandName)?.options.find((o) => o.name === focused.name)
  const typed = String(focused.value).toLowerCase()
  const choices = (option?.choices ?? [])
    .filter((c) => c.toLowerCase().includes(typed))
    .slice(0, 25)
    .map((c) => ({ name: c, value: c }))
  interaction.respond(choices).catch((err: unknown) => log.error({ err }, 'discord.autocomplete_failed'))
}

function inactive(log: Logger, interaction: RepliableInteraction & MessageComponentInteraction): void {
  log.info(
    { event: 'discord.unknown_component', customId: interaction.customId },
    'discord.unknown_component',
  )
  void ephemeral(log, interaction, INACTIVE_COMPONENT)
}

/** Who the limits and budgets count: the user, the guild (the channel in a DM). */
function requesterOf(interaction: RepliableInteraction): Requester {
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

function refine(bot: Bot, log: Logger, interaction: ModalSubmitInteraction): void {
  if (!bot.accepting) {
    void ephemeral(log, interaction, DRAINING_MESSAGE)
    return
  }
  const by = interaction.user.globalName ?? interaction.user.username
  const request = interaction.fields.getTextInputValue(REFINE_FIELD)
  const runId = interaction.customId.slice(REFINE_PREFIX.length)
  bot
    .admit(requesterOf(interaction))
    .then((admission) => {
      if (!admission.ok) return ephemeral(log, interaction, admission.message)
      // The submit's deferred reply becomes the refined run's message, shown under the message refined.
      const placeholder = interaction.deferReply()
      explainRefusal(
        log,
        interaction,
        placeholder,
        bot.refine(runId, request, by, targetOf(interaction), { placeholder }),
      )
    })
    .catch((err: unknown) => log.error({ err }, 'discord.refine_failed'))
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
    ...(interaction.guildId === null ? {} : { guildId: interaction.guildId }),
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
  const target = targetOf(interaction)
  // Discord's webhook refuses a token past its 15 minutes: a command that arrives with none left
  // (a clock far off Discord's) gets its answer now instead of a reply that could never change.
  const left = tokenLeftMs(target, Date.now())
  if (left <= 0) {
    log.warn(
      { event: 'discord.token_expired', interaction: interaction.id, leftMs: left },
      'discord.token_expired',
    )
    void ephemeral(log, interaction, TOKEN_EXPIRED_TEXT)
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
    .admit(requesterOf(interaction))
    .then(async (admission) => {
      if (!admission.ok) return ephemeral(log, interaction, admission.message)
      // The journal write comes first (a few microseconds), then the deferral: a crash in between
      // leaves a journaled run that the next start resumes or closes.
      const t0 = performance.now()
      const placeholder = interaction.deferReply()
      placeholder.then(
        () => bot.observer.acked?.('discord', performance.now() - t0),
        () => {},
      )
      await bot.accept({
        command: cmd,
        input: parsed.input,
        user,
        target,
        placeholder,
      })
    })
    .catch(async (err: unknown) => {
      log.error({ err, interaction: interaction.id }, 'discord.command_failed')
      await ephemeral(log, interaction, FAILED_TEXT)
    })
}

/** Discord: a click is answered within 3 s; Stop waits this long for its outcome before it defers. */
const STOP_DECIDE_MS = 1_500

/** What Stop says to the clicker when there is nothing to stop; a stopped run's own reply says the rest. */
const STOP_WORDS: Partial<Record<StopOutcome, string>> = {
  finished: 'That run has already finished.',
  unknown: 'Chorus has no record of that run any more, so there is nothing to stop.',
}

function stop(bot: Bot, log: Logger, interaction: ButtonInteraction): void {
  const by = interaction.user.globalName ?? interaction.user.username
  // Discord answers a click once. A run being stopped gets a deferred update (its reply will say
  // who stopped it); nothing to stop gets the ephemeral word as the answer itself. An outcome
  // slower than STOP_DECIDE_MS is deferred first and followed up, inside the 3 s.
  let deferral: Promise<unknown> | undefined
  const timer = setTimeout(() => {
    deferral = interaction.deferUpdate()
  }, STOP_DECIDE_MS)
  bot
    .stop(interaction.customId.slice(STOP_PREFIX.length), by)
    .then(
      (outcome) => STOP_WORDS[outcome],
      (err: unknown) => {
        log.error({ err }, 'discord.stop_failed')
        return FAILED_TEXT
      },
    )
    .then(async (word) => {
      clearTimeout(timer)
      if (deferral !== undefined) await deferral
      if (word !== undefined) await ephemeral(log, interaction, word)
      else if (deferral === undefined) await interaction.deferUpdate()
    })
    .catch((err: unknown) => log.error({ err }, 'discord.stop_failed'))
}

function retry(bot: Bot, log: Logger, interaction: ButtonInteraction): void {
  if (!bot.accepting) {
    void ephemeral(log, interaction, DRAINING_MESSAGE)
    return
  }
  const by = interaction.user.globalName ?? interaction.user.username
  bot
    .admit(requesterOf(interaction))
    .then((admission) => {
      if (!admission.ok) return ephemeral(log, interaction, admission.message)
      // The click's own deferred reply becomes the new run's message, under the one that failed.
      const placeholder = interaction.deferReply()
      const runId = interaction.customId.slice(RETRY_PREFIX.length)
      explainRefusal(
        log,
        interaction,
        placeholder,
        bot.retry(runId, by, targetOf(interaction), { placeholder }),
      )
    })
    .catch((err: unknown) => log.error({ err }, 'discord.retry_failed'))
}
