import type { Server } from 'node:http'
import type { Logger } from 'pino'
import type { Bot, Check, Config, Platform } from '../../src/bot/index.ts'
import type { RunStore } from '../../src/store/index.ts'
import { createSlackApp, type SlackOptions } from './app.ts'
import { InstalledClients, oneClient } from './clients.ts'
import { slackAuth, slackMode } from './config.ts'
import { connectionCheck } from './connection.ts'
import { slackInstallations } from './oauth.ts'
import { slackPlatform, slackWebClient, webClientOptions } from './platform.ts'

export { createSlackApp, type SlackOptions } from './app.ts'
export { InstalledClients, oneClient, type SlackClients } from './clients.ts'
export { slackAuth, slackConfigured, slackMode } from './config.ts'
export { SlackInstallations, WorkspaceRemovedError } from './installations.ts'
export { slackManifest } from './manifest.ts'
export { toMrkdwn } from './mrkdwn.ts'
export { slackInstallations } from './oauth.ts'
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
  if (mode.auth.kind === 'oauth')
    bot.logger.info(
      { platform: 'slack', installPath: `${mode.auth.publicUrl ?? ''}/slack/install` },
      'slack.oauth_ready',
    )
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

/**
 * How a worker (`npm run worker`) answers on Slack: the one bot token, or each workspace's token read
 * from the store (refreshed there under its lock), never from the job.
 */
export function slackWorkerPlatform(config: Config, store: RunStore, log: Logger): Platform {
  const auth = slackAuth(config)
  const clients =
    auth.kind === 'token'
      ? oneClient(slackWebClient(config))
      : new InstalledClients(slackInstallations(auth, store, config, log), webClientOptions(config))
  return slackPlatform(clients, config.CHORUS_SLACK_WRITES_PER_MIN)
}
