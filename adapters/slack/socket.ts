import type { SocketModeReceiver } from '@slack/bolt'
import type { Logger } from 'pino'
import { z } from 'zod'
import { ChorusError, truncate } from '../../src/bot/index.ts'

type SocketModeClient = SocketModeReceiver['client']
type Body = Record<string, unknown> | string
type Emit = (event: string, ...args: unknown[]) => boolean

/** The parts of @slack/socket-mode 3.1's SlackWebSocket the guard relies on. */
interface SlackSocket {
  isActive(): boolean
  send(data: string, cb: (error?: Error) => void): void
  disconnect(): void
  options: { client: { emit: Emit } }
}

/** The parts of @slack/socket-mode 3.1's SocketModeClient the guard relies on (some are private). */
interface Internals {
  websocket?: SlackSocket
  shuttingDown: boolean
  autoReconnectEnabled: boolean
  onWebSocketMessage(data: string | ArrayBuffer, isBinary: boolean): Promise<void>
  send(id: string, body?: Body): Promise<void>
  start(): Promise<unknown>
  listeners(event: string): Array<(...args: unknown[]) => void>
  removeListener(event: string, fn: (...args: unknown[]) => void): void
  on(event: string, fn: (...args: never[]) => void): void
  emit: Emit
}

/** The client's internals are not what this guard was written against (an SDK upgrade). */
export class SocketModeGuardError extends ChorusError {}

const Envelope = z.object({ envelope_id: z.string().min(1), payload: z.object({}) })
/** What the client's message handler reads from each frame type without checking. */
const FRAMES: Record<string, z.ZodType> = {
  hello: z.object({}),
  disconnect: z.object({ reason: z.string().optional() }),
  events_api: Envelope.extend({ payload: z.object({ event: z.object({ type: z.string() }) }) }),
}
const Frame = z.object({ type: z.string() })

/** Slack: a `link_disabled` socket will not be re-enabled; every other reason asks for a fresh one. */
const FINAL_REASON = 'link_disabled'
/** How much of a malformed frame the warning carries. */
const FRAME_LOG_CHARS = 1_000
/** Values that must not reach a log: the legacy verification token and the reply capability. */
const SECRET_KEYS = new Set(['token', 'response_url'])

/**
 * Hardens a Socket Mode client: a malformed frame is logged and acknowledged instead of throwing,
 * and a `disconnect` opens the replacement socket at once while the old one keeps serving.
 */
export function guardSocketMode(client: SocketModeClient, log: Logger): void {
  if (guarded.has(client)) return
  const internals = client as unknown as Internals
  for (const name of ['onWebSocketMessage', 'send', 'start'] as const) {
    if (typeof internals[name] !== 'function')
      throw new SocketModeGuardError(
        'slack_socket_internals',
        `@slack/socket-mode has no ${name}(); adapters/slack/socket.ts was written for 3.1, update it for this version`,
      )
  }
  const forward = internals.onWebSocketMessage.bind(internals)
  const sendOnCurrent = internals.send.bind(internals)
  /** Sockets being replaced: still open, still answering, closed once the replacement is connected. */
  const retiring = new Set<SlackSocket>()
  let replacing = false

  // Acks for envelopes that arrived on a retiring socket go back on it until the new one is open.
  internals.send = (id, body = {}) => {
    const fallback = [...retiring].find((s) => s.isActive())
    if (internals.websocket?.isActive() || fallback === undefined) return sendOnCurrent(id, body)
    const message = JSON.stringify({
      envelope_id: id,
      payload: typeof body === 'string' ? { text: body } : body,
    })
    return new Promise((resolve, reject) =>
      fallback.send(message, (error) => (error ? reject(error) : resolve())),
    )
  }

  const onFrame = (data: string | ArrayBuffer, isBinary: boolean, from: SlackSocket | undefined) => {
    if (isBinary) return run(data, isBinary)
    const text = typeof data === 'string' ? data : new TextDecoder().decode(data)
    let frame: unknown
    try {
      frame = JSON.parse(text)
    } catch {
      return malformed(text, undefined, 'not JSON')
    }
    const base = Frame.safeParse(frame)
    const checked = base.success ? (FRAMES[base.data.type] ?? Envelope).safeParse(frame) : base
    if (!checked.success) return malformed(text, frame, z.prettifyError(checked.error))
    const type = (frame as { type: string }).type
    if (type === 'disconnect')
      return onDisconnect((frame as { reason?: string }).reason, from, data, isBinary)
    run(data, isBinary)
  }

  const run = (data: string | ArrayBuffer, isBinary: boolean) => {
    forward(data, isBinary).catch((error: unknown) => log.error({ err: error }, 'slack.frame_failed'))
  }

  const malformed = (text: string, frame: unknown, problem: string) => {
    const envelopeId = (frame as { envelope_id?: unknown } | null | undefined)?.envelope_id
    log.warn(
      { problem, envelopeId, frame: truncate(redacted(text, frame), FRAME_LOG_CHARS) },
      'slack.frame_malformed',
    )
    // Slack redelivers an unacknowledged envelope; an unreadable one would only fail again.
    if (typeof envelopeId === 'string' && envelopeId !== '')
      internals
        .send(envelopeId)
        .catch((error: unknown) => log.warn({ err: error, envelopeId }, 'slack.frame_ack_failed'))
  }

  const onDisconnect = (
    reason: string | undefined,
    from: SlackSocket | undefined,
    data: string | ArrayBuffer,
    isBinary: boolean,
  ) => {
    // A retiring socket is already being replaced; a stopped client stays stopped.
    if (from !== undefined || internals.shuttingDown) return
    const old = internals.websocket
    if (reason === FINAL_REASON || !internals.autoReconnectEnabled || old === undefined)
      return run(data, isBinary)
    if (replacing) return
    log.info({ reason }, 'slack.socket_replacing')
    retire(old)
    replacing = true
    internals
      .start()
      .then(() => {
        log.info({ reason }, 'slack.socket_replaced')
        if (internals.shuttingDown) internals.websocket?.disconnect()
        for (const socket of retiring) socket.disconnect()
      })
      .catch((error: unknown) => {
        if (internals.shuttingDown) return
        log.error({ err: error, reason }, 'slack.socket_replace_failed')
        // Hand reconnection back to the client if nothing is left open.
        if (!internals.websocket?.isActive() && ![...retiring].some((s) => s.isActive()))
          internals.emit('close')
      })
      .finally(() => {
        replacing = false
      })
  }

  /** Routes a socket's events through the guard so its close does not start a second reconnect loop. */
  const retire = (socket: SlackSocket) => {
    retiring.add(socket)
    socket.options.client = {
      emit: (event, ...args) => {
        if (event === 'ws_message') onFrame(args[0] as string | ArrayBuffer, args[1] === true, socket)
        else if (event !== 'close') return internals.emit(event, ...args)
        else {
          retiring.delete(socket)
          // Still current only if its replacement has not been created yet.
          if (internals.websocket === socket && (!replacing || internals.shuttingDown))
            internals.emit('close')
        }
        return true
      },
    }
  }

  for (const listener of internals.listeners('ws_message')) internals.removeListener('ws_message', listener)
  internals.on('ws_message', (data: string | ArrayBuffer, isBinary: boolean) =>
    onFrame(data, isBinary, undefined),
  )
  internals.on('disconnecting', () => {
    for (const socket of retiring) socket.disconnect()
  })
  guarded.add(client)
}

/** Clients already guarded: a second call would stack a second handler on each frame. */
const guarded = new WeakSet<object>()

function redacted(text: string, frame: unknown): string {
  if (typeof frame !== 'object' || frame === null) return text
  return JSON.stringify(frame, (key, value: unknown) => (SECRET_KEYS.has(key) ? '[redacted]' : value))
}
