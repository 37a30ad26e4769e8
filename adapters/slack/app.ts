import { App, HTTPReceiver, type Receiver, SocketModeReceiver } from '@slack/bolt'
import type { WebClientOptions } from '@slack/web-api'
import type { Logger } from 'pino'
import type { Bot, Config } from '../../src/bot/index.ts'
import { type SlackMode, slackMode } from './config.ts'
import { watchConnection } from './connection.ts'
import { registerListeners } from './listeners/index.ts'
import { boltLogger } from './logger.ts'
import { slackPlatform, slackWebClient } from './platform.ts'
import { SlackQuestions } from './questions.ts'
import { guardSocketMode } from './socket.ts'
import { refuseFutureTimestamps } from './timestamps.ts'

export interface SlackOptions {
  /** A ready receiver (tests shorten Socket Mode timeouts with their own). */
  receiver?: Receiver
  /** Merged into the WebClient options (tests set retry policies). */
  clientOptions?: WebClientOptions
}

/** Builds the bolt App with Chorus' listeners; `app.start()` is the caller's. */
export function createSlackApp(bot: Bot, config: Config, options: SlackOptions = {}): App {
  const mode = slackMode(config)
  const log = bot.logger.child({ platform: 'slack' })
  const clientOptions: WebClientOptions = {
    ...(config.SLACK_API_URL === undefined ? {} : { slackApiUrl: config.SLACK_API_URL }),
    ...options.clientOptions,
  }
  const receiver = options.receiver ?? defaultReceiver(mode, clientOptions, log)
  if (receiver instanceof HTTPReceiver) refuseFutureTimestamps(receiver, log)
  const app = new App({ token: mode.botToken, clientOptions, logger: boltLogger(log), receiver })
  // A malformed envelope or a disconnect must not kill the process or drop a command.
  if (receiver instanceof SocketModeReceiver) {
    guardSocketMode(receiver.client, log)
    watchConnection(app, receiver.client)
  }

  const client = slackWebClient(config, clientOptions)
  const questions = new SlackQuestions(client)
  bot.attach(slackPlatform(client, config.CHORUS_SLACK_WRITES_PER_MIN, questions))
  registerListeners(app, bot, log, questions)
  app.error(async (error) => {
    log.error({ err: error }, 'slack.error')
  })
  return app
}

/** Built here rather than by bolt (which keeps its own private), so its socket can be guarded. */
function defaultReceiver(mode: SlackMode, clientOptions: WebClientOptions, log: Logger): Receiver {
  return mode.kind === 'socket'
    ? new SocketModeReceiver({
        appToken: mode.appToken,
        logger: boltLogger(log),
        installerOptions: { clientOptions },
      })
    : new HTTPReceiver({ signingSecret: mode.signingSecret, logger: boltLogger(log) })
}
