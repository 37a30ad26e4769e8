import type { App, SocketModeReceiver } from '@slack/bolt'
import type { Check } from '../../src/bot/index.ts'

const checks = new WeakMap<App, () => Check>()

/** Whether the app's Socket Mode link is up (undefined in HTTP mode, where bolt only listens). */
export function connectionCheck(app: App): (() => Check) | undefined {
  return checks.get(app)
}

/** Follows the Socket Mode client's connection state for `connectionCheck(app)`. */
export function watchConnection(app: App, client: SocketModeReceiver['client']): void {
  checks.set(app, socketCheck(client))
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
