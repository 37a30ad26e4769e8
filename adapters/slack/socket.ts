import type { SocketModeReceiver } from '@slack/bolt'
import type { Logger } from 'pino'
import { ChorusError } from '../../src/bot/index.ts'
import { loggedFrame, readFrame } from './frames.ts'

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

/** Slack: a `link_disabled` socket will not be re-enabled; every other reason asks for a fresh one. */
const FINAL_REASON = 'link_disabled'

/** Clients already guarded: a second call would stack a second handler on each frame. */
const guarded = new WeakSet<object>()

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
  new SocketGuard(internals, log).install()
  guarded.add(client)
}

/** One guarded client: its frame handler, its acks, and the sockets it is replacing. */
class SocketGuard {
  readonly #internals: Internals
  readonly #log: Logger
  readonly #forward: Internals['onWebSocketMessage']
  readonly #sendOnCurrent: Internals['send']
  /** Sockets being replaced: still open, still answering, closed once the replacement is connected. */
  readonly #retiring = new Set<SlackSocket>()
  #replacing = false

  constructor(internals: Internals, log: Logger) {
    this.#internals = internals
    this.#log = log
    this.#forward = internals.onWebSocketMessage.bind(internals)
    this.#sendOnCurrent = internals.send.bind(internals)
  }

  install(): void {
    const internals = this.#internals
    internals.send = (id, body = {}) => this.#send(id, body)
    for (const listener of internals.listeners('ws_message')) internals.removeListener('ws_message', listener)
    internals.on('ws_message', (data: string | ArrayBuffer, isBinary: boolean) =>
      this.#onFrame(data, isBinary, undefined),
    )
    internals.on('disconnecting', () => {
      for (const socket of this.#retiring) socket.disconnect()
    })
  }

  /** Acks for envelopes that arrived on a retiring socket go back on it until the new one is open. */
  #send(id: string, body: Body): Promise<void> {
    const fallback = [...this.#retiring].find((s) => s.isActive())
    if (this.#internals.websocket?.isActive() || fallback === undefined) return this.#sendOnCurrent(id, body)
    const message = JSON.stringify({
      envelope_id: id,
      payload: typeof body === 'string' ? { text: body } : body,
    })
    return new Promise((resolve, reject) =>
      fallback.send(message, (error) => (error ? reject(error) : resolve())),
    )
  }

  #onFrame(data: string | ArrayBuffer, isBinary: boolean, from: SlackSocket | undefined): void {
    if (isBinary) {
      this.#run(data, isBinary)
      return
    }
    const text = typeof data === 'string' ? data : new TextDecoder().decode(data)
    const read = readFrame(text)
    if (!read.ok) this.#malformed(text, read.frame, read.problem)
    else if (read.type === 'disconnect')
      this.#onDisconnect((read.frame as { reason?: string }).reason, from, data, isBinary)
    else this.#run(data, isBinary)
  }

  #run(data: string | ArrayBuffer, isBinary: boolean): void {
    this.#forward(data, isBinary).catch((error: unknown) =>
      this.#log.error({ err: error }, 'slack.frame_failed'),
    )
  }

  #malformed(text: string, frame: unknown, problem: string): void {
    const envelopeId = (frame as { envelope_id?: unknown } | null | undefined)?.envelope_id
    this.#log.warn({ problem, envelopeId, frame: loggedFrame(text, frame) }, 'slack.frame_malformed')
    // Slack redelivers an unacknowledged envelope; an unreadable one would only fail again.
    if (typeof envelopeId === 'string' && envelopeId !== '')
      this.#internals
        .send(envelopeId)
        .catch((error: unknown) => this.#log.warn({ err: error, envelopeId }, 'slack.frame_ack_failed'))
  }

  #onDisconnect(
    reason: string | undefined,
    from: SlackSocket | undefined,
    data: string | ArrayBuffer,
    isBinary: boolean,
  ): void {
    const internals = this.#internals
    // A retiring socket is already being replaced; a stopped client stays stopped.
    if (from !== undefined || internals.shuttingDown) return
    const old = internals.websocket
    if (reason === FINAL_REASON || !internals.autoReconnectEnabled || old === undefined) {
      this.#run(data, isBinary)
      return
    }
    if (this.#replacing) return
    this.#log.info({ reason }, 'slack.socket_replacing')
    this.#retire(old)
    this.#replacing = true
    this.#replace(reason)
  }

  /** Opens the replacement socket, then closes the retiring ones. */
  #replace(reason: string | undefined): void {
    const internals = this.#internals
    internals
      .start()
      .then(() => {
        this.#log.info({ reason }, 'slack.socket_replaced')
        if (internals.shuttingDown) internals.websocket?.disconnect()
        for (const socket of this.#retiring) socket.disconnect()
      })
      .catch((error: unknown) => {
        if (internals.shuttingDown) return
        this.#log.error({ err: error, reason }, 'slack.socket_replace_failed')
        // Hand reconnection back to the client if nothing is left open.
        if (!internals.websocket?.isActive() && ![...this.#retiring].some((s) => s.isActive()))
          internals.emit('close')
      })
      .finally(() => {
        this.#replacing = false
      })
  }

  /** Routes a socket's events through the guard so its close does not start a second reconnect loop. */
  #retire(socket: SlackSocket): void {
    const internals = this.#internals
    this.#retiring.add(socket)
    socket.options.client = {
      emit: (event, ...args) => {
        if (event === 'ws_message') this.#onFrame(args[0] as string | ArrayBuffer, args[1] === true, socket)
        else if (event !== 'close') return internals.emit(event, ...args)
        else {
          this.#retiring.delete(socket)
          // Still current only if its replacement has not been created yet.
          if (internals.websocket === socket && (!this.#replacing || internals.shuttingDown))
            internals.emit('close')
        }
        return true
      },
    }
  }
}
