import {
  App,
  type BlockButtonAction,
  type Logger as BoltLogger,
  LogLevel,
  type Receiver,
  type RespondFn,
} from '@slack/bolt'
import type { WebClient, WebClientOptions } from '@slack/web-api'
import type { Logger } from 'pino'
import type { Bot, Command, Config } from '../../src/bot/index.ts'
import { slackMode } from './config.ts'
import { RecentKeys } from './dedupe.ts'
import { STOP_ACTION } from './render.ts'
import { SlackSink } from './sink.ts'

export interface SlackOptions {
  /** A ready receiver (tests shorten Socket Mode timeouts with their own). */
  receiver?: Receiver
  /** Merged into the WebClient options (tests set retry policies). */
  clientOptions?: WebClientOptions
}

/** chat.update is Tier 3 (~50/min); one progress edit a second per run stays well inside it. */
const MIN_UPDATE_MS = 1_000

/** Builds the bolt App with Chorus' listeners; `app.start()` is the caller's. */
export function createSlackApp(bot: Bot, config: Config, options: SlackOptions = {}): App {
  const mode = slackMode(config)
  const log = bot.logger.child({ platform: 'slack' })
  const clientOptions: WebClientOptions = {
    ...(config.SLACK_API_URL === undefined ? {} : { slackApiUrl: config.SLACK_API_URL }),
    ...options.clientOptions,
  }
  const base = { token: mode.botToken, clientOptions, logger: boltLogger(log) }
  const app =
    options.receiver !== undefined
      ? new App({ ...base, receiver: options.receiver })
      : mode.kind === 'socket'
        ? new App({ ...base, appToken: mode.appToken, socketMode: true })
        : new App({ ...base, signingSecret: mode.signingSecret })

  const seen = new RecentKeys()
  for (const command of bot.commands) {
    app.command(`/${command.name}`, async ({ command: payload, ack, respond, client }) => {
      // A redelivered command (same trigger_id) is acknowledged again but runs once.
      if (!seen.first(`command:${payload.trigger_id}`)) return ack()
      const parsed = bot.parseText(command, payload.text)
      if (!parsed.ok) return ack({ response_type: 'ephemeral', text: parsed.message })
      // Slack: acknowledge within 3 s, before any model work.
      await ack()
      startRun(bot, log, {
        command,
        input: parsed.input,
        user: payload.user_name || payload.user_id,
        client,
        channel: payload.channel_id,
        respond,
      })
    })
  }

  app.event('app_mention', async ({ event, body, client }) => {
    if (!seen.first(`event:${(body as { event_id?: string }).event_id ?? event.ts}`)) return
    const threadTs = event.thread_ts ?? event.ts
    const text = event.text.replace(/<@[A-Z0-9]+>/g, '').trim()
    const [word = '', ...rest] = text.split(/\s+/)
    const command = bot.command(word.replace(/^\//, '').toLowerCase())
    const explain = (message: string) =>
      client.chat.postEphemeral({
        channel: event.channel,
        user: event.user ?? '',
        thread_ts: threadTs,
        text: message,
      })
    if (command === undefined) {
      await explain(
        `Try \`@Chorus ${bot.commands[0]?.name ?? 'brainstorm'} <topic>\`. Commands: ${bot.commands.map((c) => c.name).join(', ')}.`,
      )
      return
    }
    const parsed = bot.parseText(
      command,
      text.slice(text.indexOf(word) + word.length).trim() || rest.join(' '),
    )
    if (!parsed.ok) {
      await explain(parsed.message.replace(`/${command.name}`, `@Chorus ${command.name}`))
      return
    }
    startRun(bot, log, {
      command,
      input: parsed.input,
      user: event.user ?? 'someone',
      client,
      channel: event.channel,
      threadTs,
    })
  })

  app.action<BlockButtonAction>(STOP_ACTION, async ({ ack, body, action, respond }) => {
    await ack()
    const run = bot.get(action.value ?? '')
    if (run === undefined) {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: 'That run has already finished.',
      })
      return
    }
    // Named, not mentioned: a mention would ping them.
    run.cancel(body.user.name ?? body.user.id)
  })

  app.error(async (error) => {
    log.error({ err: error }, 'slack.error')
  })
  return app
}

function startRun(
  bot: Bot,
  log: Logger,
  req: {
    command: Command
    input: Record<string, unknown>
    user: string
    client: WebClient
    channel: string
    threadTs?: string
    respond?: RespondFn
  },
): void {
  const sink = new SlackSink({
    client: req.client,
    channel: req.channel,
    log,
    ...(req.threadTs === undefined ? {} : { threadTs: req.threadTs }),
    ...(req.respond === undefined ? {} : { respond: req.respond }),
  })
  const run = bot.start({
    command: req.command,
    input: req.input,
    user: req.user,
    platform: 'slack',
    sink,
    minIntervalMs: MIN_UPDATE_MS,
  })
  run.done.catch(async (error: unknown) => {
    log.error({ err: error, runId: run.runId }, 'slack.run_failed')
    await req.respond?.({
      response_type: 'ephemeral',
      replace_original: false,
      text: 'Chorus hit an error; the details are in its log.',
    })
  })
}

/** Bolt's logger interface on top of pino; bolt's own chatter is kept at warn and above. */
function boltLogger(log: Logger): BoltLogger {
  const text = (msg: unknown[]) =>
    msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ')
  return {
    debug: (...msg) => log.debug({ source: 'bolt' }, text(msg)),
    info: (...msg) => log.debug({ source: 'bolt' }, text(msg)),
    warn: (...msg) => log.warn({ source: 'bolt' }, text(msg)),
    error: (...msg) => log.error({ source: 'bolt' }, text(msg)),
    setLevel: () => {},
    getLevel: () => LogLevel.WARN,
    setName: () => {},
  }
}
