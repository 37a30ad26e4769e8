import {
  App,
  type BlockButtonAction,
  type Logger as BoltLogger,
  HTTPReceiver,
  LogLevel,
  type Receiver,
  SocketModeReceiver,
} from '@slack/bolt'
import type { WebClientOptions } from '@slack/web-api'
import type { Logger } from 'pino'
import { z } from 'zod'
import {
  type AcceptRequest,
  type Bot,
  type Check,
  type Config,
  DRAINING_MESSAGE,
  type Requester,
  type StopOutcome,
} from '../../src/bot/index.ts'
import { slackMode } from './config.ts'
import { fromSlackText } from './mrkdwn.ts'
import { slackPlatform, slackWebClient } from './platform.ts'
import {
  FEEDBACK_ACTION,
  REFINE_ACTION,
  REFINE_FIELD,
  REFINE_VIEW,
  RETRY_ACTION,
  refineModal,
  STOP_ACTION,
} from './render.ts'
import { guardSocketMode } from './socket.ts'
import { refuseFutureTimestamps } from './timestamps.ts'

export interface SlackOptions {
  /** A ready receiver (tests shorten Socket Mode timeouts with their own). */
  receiver?: Receiver
  /** Merged into the WebClient options (tests set retry policies). */
  clientOptions?: WebClientOptions
}

/** Slack retries an event for about an hour; slash commands are not redelivered later than that either. */
const REDELIVERY_TTL_MS = 2 * 60 * 60_000

/** Builds the bolt App with Chorus' listeners; `app.start()` is the caller's. */
export function createSlackApp(bot: Bot, config: Config, options: SlackOptions = {}): App {
  const mode = slackMode(config)
  const log = bot.logger.child({ platform: 'slack' })
  const clientOptions: WebClientOptions = {
    ...(config.SLACK_API_URL === undefined ? {} : { slackApiUrl: config.SLACK_API_URL }),
    ...options.clientOptions,
  }
  const base = { token: mode.botToken, clientOptions, logger: boltLogger(log) }
  // Built here rather than by bolt (which keeps its own private), so its socket can be guarded.
  const receiver =
    options.receiver ??
    (mode.kind === 'socket'
      ? new SocketModeReceiver({
          appToken: mode.appToken,
          logger: boltLogger(log),
          installerOptions: { clientOptions },
        })
      : new HTTPReceiver({ signingSecret: mode.signingSecret, logger: boltLogger(log) }))
  if (receiver instanceof HTTPReceiver) refuseFutureTimestamps(receiver, log)
  const app = new App({ ...base, receiver })
  // A malformed envelope or a disconnect must not kill the process or drop a command.
  if (receiver instanceof SocketModeReceiver) {
    guardSocketMode(receiver.client, log)
    checks.set(app, socketCheck(receiver.client))
  }

  bot.attach(slackPlatform(slackWebClient(config, clientOptions), config.CHORUS_SLACK_WRITES_PER_MIN))

  for (const command of bot.commands) {
    app.command(`/${command.name}`, async ({ command: payload, ack: boltAck }) => {
      const t0 = performance.now()
      const ack: typeof boltAck = async (response) => {
        await boltAck(response)
        bot.observer.acked?.('slack', performance.now() - t0)
      }
      // The journal write, admission and queueing must answer inside Slack's 3 s, or say why not.
      const outcome = await bot.intake(async (signal): Promise<string | undefined> => {
        // A redelivered command (same trigger_id) is acknowledged again but runs once, across restarts.
        if (!(await bot.store.claim(`slack:command:${payload.trigger_id}`, REDELIVERY_TTL_MS)))
          return undefined
        // Slack sends `&`, `<` and `>` encoded; the flow and the reply get the text as typed.
        const parsed = bot.parseText(command, fromSlackText(payload.text))
        if (!parsed.ok) return parsed.message
        const admission = await bot.admit(requester(payload.user_id, payload.channel_id, payload.team_id))
        if (!admission.ok) return admission.message
        // Slack: acknowledge within 3 s, before any model work; the journal write comes first
        // (a SQLite write is a few microseconds), so an acknowledged command is never lost.
        const req: AcceptRequest = {
          command,
          input: parsed.input,
          user: payload.user_name || payload.user_id,
          target: {
            platform: 'slack',
            teamId: payload.team_id,
            channel: payload.channel_id,
            responseUrl: payload.response_url,
          },
        }
        return accept(bot, log, req, signal).then(
          () => undefined,
          () => 'Chorus could not start this; the details are in its log.',
        )
      })
      const text = typeof outcome === 'object' ? outcome.refused : outcome
      await ack(text === undefined ? undefined : { response_type: 'ephemeral', text })
    })
  }

  // A slash command configured in Slack with no flow behind it (renamed, removed): say what there is,
  // rather than leave Slack to time out. Bolt runs every matching listener, so known ones are left alone.
  app.command(/.*/, async ({ command: payload, ack }) => {
    const name = payload.command.replace(/^\//, '')
    if (bot.command(name) !== undefined) return
    log.warn({ event: 'slack.unknown_command', command: payload.command }, 'slack.unknown_command')
    await ack({ response_type: 'ephemeral', text: commandList(bot, payload.command) })
  })

  app.event('app_mention', async ({ event, body, client }) => {
    const eventId = (body as { event_id?: string }).event_id ?? event.ts
    if (!(await bot.store.claim(`slack:event:${eventId}`, REDELIVERY_TTL_MS))) return
    const threadTs = event.thread_ts ?? event.ts
    const explain = (message: string) =>
      client.chat.postEphemeral({
        channel: event.channel,
        user: event.user ?? '',
        thread_ts: threadTs,
        text: message,
      })
    if (!bot.accepting) {
      await explain(DRAINING_MESSAGE)
      return
    }
    const text = fromSlackText(event.text.replace(/<@[A-Z0-9]+>/g, '')).trim()
    const [word = '', ...rest] = text.split(/\s+/)
    const command = bot.command(word.replace(/^\//, '').toLowerCase())
    // In a Chorus reply's thread, a mention that names no command refines the newest reply there.
    const continues =
      command === undefined && event.thread_ts !== undefined && text !== ''
        ? await latestRun(client, event.channel, event.thread_ts).catch((err: unknown) => {
            log.warn({ err }, 'slack.thread_lookup_failed')
            return undefined
          })
        : undefined
    if (continues !== undefined) {
      const admission = await bot.admit(requester(event.user ?? '', event.channel, body.team_id))
      if (!admission.ok) {
        await explain(admission.message)
        return
      }
      const outcome = await bot.refine(continues, text, event.user ?? 'someone', {
        platform: 'slack',
        ...(body.team_id === undefined ? {} : { teamId: body.team_id }),
        channel: event.channel,
        threadTs,
      })
      if (!outcome.ok) await explain(outcome.message)
      return
    }
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
    const admission = await bot.admit(requester(event.user ?? '', event.channel, body.team_id))
    if (!admission.ok) {
      await explain(admission.message)
      return
    }
    await accept(bot, log, {
      command,
      input: parsed.input,
      user: event.user ?? 'someone',
      target: {
        platform: 'slack',
        ...(body.team_id === undefined ? {} : { teamId: body.team_id }),
        channel: event.channel,
        threadTs,
      },
    }).catch(() => explain('Chorus could not start this; the details are in its log.'))
  })

  app.action<BlockButtonAction>(STOP_ACTION, async ({ ack, body, action, respond }) => {
    await ack()
    // Named, not mentioned: a mention would ping them.
    const outcome = await bot.stop(action.value ?? '', body.user.name ?? body.user.id)
    const text = STOP_REPLIES[outcome]
    if (text !== undefined) await respond({ response_type: 'ephemeral', replace_original: false, text })
  })

  app.action<BlockButtonAction>(RETRY_ACTION, async ({ ack, body, action, respond }) => {
    await ack()
    if (!bot.accepting) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: DRAINING_MESSAGE })
      return
    }
    const channel = body.channel?.id ?? body.container.channel_id
    const admission = await bot.admit(requester(body.user.id, channel, body.team?.id))
    if (!admission.ok) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: admission.message })
      return
    }
    const threadTs = (body.message as { thread_ts?: string } | undefined)?.thread_ts
    const outcome = await bot.retry(action.value ?? '', body.user.name ?? body.user.id, {
      platform: 'slack',
      ...(body.team?.id === undefined ? {} : { teamId: body.team.id }),
      channel,
      ...(threadTs === undefined ? {} : { threadTs }),
      responseUrl: body.response_url,
    })
    if (!outcome.ok)
      await respond({ response_type: 'ephemeral', replace_original: false, text: outcome.message })
  })

  app.action<BlockButtonAction>(REFINE_ACTION, async ({ ack, body, action, client, respond }) => {
    await ack()
    const message = body.message as { ts?: string; thread_ts?: string } | undefined
    const channel = body.channel?.id ?? body.container.channel_id
    // The answer goes in the reply's thread: the thread it is in, or one it starts.
    const metadata: RefineMetadata = {
      runId: action.value ?? '',
      channel,
      threadTs: message?.thread_ts ?? message?.ts ?? body.container.message_ts,
      ...(body.team?.id === undefined ? {} : { teamId: body.team.id }),
    }
    // Slack: a trigger_id opens a modal within 3 s of the click, once.
    await client.views
      .open({ trigger_id: body.trigger_id, view: refineModal(JSON.stringify(metadata)) })
      .catch(async (err: unknown) => {
        log.error({ err }, 'slack.refine_open_failed')
        await respond({
          response_type: 'ephemeral',
          replace_original: false,
          text: 'Chorus could not open Refine; try again.',
        })
      })
  })

  app.view(REFINE_VIEW, async ({ ack, body, view, client }) => {
    await ack()
    const metadata = refineMetadata.safeParse(safeJson(view.private_metadata))
    const request = view.state.values[REFINE_FIELD]?.[REFINE_FIELD]?.value ?? ''
    if (!metadata.success) {
      log.warn({ event: 'slack.refine_bad_metadata' }, 'slack.refine_bad_metadata')
      return
    }
    const { runId, channel, threadTs, teamId } = metadata.data
    const admission = bot.accepting
      ? await bot.admit(requester(body.user.id, channel, teamId))
      : ({ ok: false, message: DRAINING_MESSAGE } as const)
    const outcome = admission.ok
      ? await bot.refine(runId, request, body.user.name || body.user.id, {
          platform: 'slack',
          ...(teamId === undefined ? {} : { teamId }),
          channel,
          threadTs,
        })
      : admission
    if (!outcome.ok)
      await client.chat
        .postEphemeral({ channel, user: body.user.id, thread_ts: threadTs, text: outcome.message })
        .catch((err: unknown) => log.error({ err }, 'slack.explain_failed'))
  })

  app.action<BlockButtonAction>(FEEDBACK_ACTION, async ({ ack, body, action, respond }) => {
    await ack()
    void bot.feedback(
      action.value ?? '',
      action.action_id.endsWith('_up') ? 'up' : 'down',
      body.user.name ?? body.user.id,
      'slack',
    )
    await respond({ response_type: 'ephemeral', replace_original: false, text: 'Thanks, noted.' })
  })

  app.error(async (error) => {
    log.error({ err: error }, 'slack.error')
  })
  return app
}

/** Who the limits and budgets count on Slack: the user, the channel and the workspace. */
function requester(user: string, channel: string, team: string | undefined): Requester {
  // Ids are unique only within a workspace (Enterprise Grid aside).
  const scope = team === undefined ? '' : `${team}:`
  return {
    platform: 'slack',
    user: `${scope}${user}`,
    place: { kind: 'channel', id: `${scope}${channel}` },
    workspace: team,
  }
}

/** The answer to a slash command Chorus has no flow for. */
export function commandList(bot: Bot, asked: string): string {
  const lines = bot.commands.map((c) => `• \`${c.usage}\`: ${c.description}`)
  return `Chorus has no ${asked} command. It answers:\n${lines.join('\n')}`
}

/**
 * The run of the newest finished Chorus reply in a thread (its Again button carries the run id), or
 * undefined when the thread has none. Slack: conversations.replies needs channels:history / groups:history.
 */
async function latestRun(
  client: App['client'],
  channel: string,
  threadTs: string,
): Promise<string | undefined> {
  const { messages = [] } = await client.conversations.replies({ channel, ts: threadTs, limit: 200 })
  for (const message of [...messages].reverse()) {
    for (const block of (message.blocks ?? []) as Array<{
      elements?: Array<{ action_id?: string; value?: string }>
    }>) {
      const again = block.elements?.find((e) => e.action_id === RETRY_ACTION)
      if (again?.value !== undefined) return again.value
    }
  }
  return undefined
}

/** Where a Refine modal's answer goes, carried through Slack in the modal's private_metadata. */
const refineMetadata = z.object({
  runId: z.string().min(1),
  channel: z.string().min(1),
  threadTs: z.string().min(1),
  teamId: z.string().optional(),
})
type RefineMetadata = z.infer<typeof refineMetadata>

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const STOP_REPLIES: Partial<Record<StopOutcome, string>> = {
  finished: 'That run has already finished.',
  unknown: 'Chorus has no record of that run any more, so there is nothing to stop.',
}

async function accept(bot: Bot, log: Logger, req: AcceptRequest, signal?: AbortSignal): Promise<void> {
  try {
    await bot.accept(req, signal)
  } catch (error) {
    log.error({ err: error }, 'slack.accept_failed')
    throw error
  }
}

const checks = new WeakMap<App, () => Check>()

/** Whether the app's Socket Mode link is up (undefined in HTTP mode, where bolt only listens). */
export function connectionCheck(app: App): (() => Check) | undefined {
  return checks.get(app)
}

/** Follows @slack/socket-mode's connection states: ready between `connected` and a disconnect or reconnect. */
function socketCheck(client: SocketModeReceiver['client']): () => Check {
  let state = 'connecting'
  for (const s of ['connecting', 'connected', 'reconnecting', 'disconnecting', 'disconnected'])
    client.on(s, () => {
      state = s
    })
  // The socket's own close comes before the client's reconnect delay (5 s) and its `reconnecting`.
  client.on('close', () => {
    state = 'disconnected'
  })
  return () => (state === 'connected' ? { ok: true } : { ok: false, reason: `Slack Socket Mode is ${state}` })
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
