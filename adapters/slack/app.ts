import { App, type CustomRoute, HTTPReceiver, type Receiver, SocketModeReceiver } from '@slack/bolt'
import type { WebClientOptions } from '@slack/web-api'
import type { Logger } from 'pino'
import type { Bot, Config } from '../../src/bot/index.ts'
import { InstalledClients, oneClient, type SlackClients } from './clients.ts'
import { type SlackMode, slackMode, webApiOptions } from './config.ts'
import { watchConnection } from './connection.ts'
import { registerListeners } from './listeners/index.ts'
import { boltLogger } from './logger.ts'
import { installerOptions, quietRemoved, registerUninstall, slackInstallations } from './oauth.ts'
import { slackPlatform, slackWebClient, webClientOptions } from './platform.ts'
import { SlackQuestions } from './questions.ts'
import { guardSocketMode } from './socket.ts'
import { refuseFutureTimestamps } from './timestamps.ts'

export interface SlackOptions {
  /** A ready receiver (tests shorten Socket Mode timeouts with their own). */
  receiver?: Receiver
  /** Merged into the WebClient options (tests set retry policies). */
  clientOptions?: WebClientOptions
  /** More routes on Slack's server on PORT (Discord's interactions endpoint, when both are served). */
  routes?: CustomRoute[]
}

/** Builds the bolt App with Chorus' listeners; `app.start()` is the caller's. */
export function createSlackApp(bot: Bot, config: Config, options: SlackOptions = {}): App {
  const mode = slackMode(config)
  const log = bot.logger.child({ platform: 'slack' })
  const clientOptions: WebClientOptions = {
    ...webApiOptions(config),
    ...options.clientOptions,
  }
  // Many workspaces: bolt's installer (its authorize reads the store on every event).
  const installations =
    mode.auth.kind === 'oauth' ? slackInstallations(mode.auth, bot.store, config, log) : undefined
  const installer =
    mode.auth.kind === 'oauth' && installations !== undefined
      ? installerOptions(mode.auth, installations, config)
      : undefined
  const receiver =
    options.receiver ??
    defaultReceiver(mode, clientOptions, log, installer, options.routes ?? [], config.PORT)
  if (receiver instanceof HTTPReceiver) refuseFutureTimestamps(receiver, log)
  const app = new App({
    ...(mode.auth.kind === 'token' ? { token: mode.auth.botToken } : {}),
    clientOptions,
    logger: boltLogger(log),
    receiver,
    // No listener reads context.conversation; bolt's default store would look it up for every event.
    convoStore: false,
  })
  // A malformed envelope or a disconnect must not kill the process or drop a command.
  if (receiver instanceof SocketModeReceiver) {
    guardSocketMode(receiver.client, log)
    watchConnection(app, receiver.client)
  }

  const clients: SlackClients =
    installations === undefined
      ? oneClient(slackWebClient(config, clientOptions))
      : new InstalledClients(installations, webClientOptions(config, clientOptions))
  const questions = new SlackQuestions(clients)
  bot.attach(slackPlatform(clients, config.CHORUS_SLACK_WRITES_PER_MIN, questions))
  registerListeners(app, bot, log, questions)
  if (installations !== undefined) registerUninstall(app, installations, log)
  const logError = (error: Error): void => log.error({ err: error }, 'slack.error')
  const onError = installations === undefined ? logError : quietRemoved(log, logError)
  app.error(async (error) => onError(error))
  return app
}

/** Built here rather than by bolt (which keeps its own private), so its socket can be guarded. */
function defaultReceiver(
  mode: SlackMode,
  clientOptions: WebClientOptions,
  log: Logger,
  installer: ReturnType<typeof installerOptions> | undefined,
  customRoutes: CustomRoute[],
  port: number,
): Receiver {
  if (mode.kind === 'socket') {
    // Install pages or more routes: bolt serves them on an HTTP server of its own, on PORT.
    const { installerOptions: extra, ...oauth } = installer ?? { installerOptions: { port } }
    return new SocketModeReceiver({
      appToken: mode.appToken,
      logger: boltLogger(log),
      ...oauth,
      customRoutes,
      installerOptions: { ...extra, clientOptions: { ...clientOptions, ...extra.clientOptions } },
    })
  }
  const { port: _, ...extra } = installer?.installerOptions ?? {}
  return new HTTPReceiver({
    signingSecret: mode.signingSecret,
    logger: boltLogger(log),
    customRoutes,
    ...(installer === undefined ? {} : { ...installer, installerOptions: extra }),
  })
}
