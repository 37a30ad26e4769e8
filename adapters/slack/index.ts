import type { Server } from 'node:http'
import type { Bot, Check, Config } from '../../src/bot/index.ts'
import { createSlackApp, type SlackOptions } from './app.ts'
import { slackMode } from './config.ts'
import { connectionCheck } from './connection.ts'

export { createSlackApp, type SlackOptions } from './app.ts'
export { slackMode } from './config.ts'
export { slackManifest } from './manifest.ts'
export { toMrkdwn } from './mrkdwn.ts'
export { slackPlatform, slackWebClient } from './platform.ts'
export { renderView } from './render.ts'
export { guardSocketMode, SocketModeGuardError } from './socket.ts'

/** Connects Chorus to Slack: Socket Mode with SLACK_APP_TOKEN, else HTTP mode on PORT. */
export async function startSlack(
  bot: Bot,
  config: Config,
  options: SlackOptions & { listen?: { port: number; host?: string } } = {},
): Promise<{
  name: 'slack'
  stop(): Promise<void>
  check(): Check
  server: Server | undefined
}> {
  const mode = slackMode(config)
  const app = createSlackApp(bot, config, options)
  let server: Server | undefined
  if (mode.kind === 'http' && options.receiver === undefined) {
    server = (await app.start(options.listen ?? { port: mode.port })) as Server
    bot.logger.info({ platform: 'slack', port: mode.port }, 'slack.http_listening')
  } else {
    await app.start()
    bot.logger.info({ platform: 'slack' }, 'slack.socket_connected')
  }
  let stopped = false
  const socket = connectionCheck(app)
  return {
    name: 'slack',
    stop: () => {
      stopped = true
      return app.stop().then(() => undefined)
    },
    check: () => {
      if (stopped) return { ok: false, reason: 'Slack connection stopped' }
      if (server !== undefined && !server.listening)
        return { ok: false, reason: 'Slack HTTP receiver is not listening' }
      return socket?.() ?? { ok: true }
    },
    server,
  }
}
