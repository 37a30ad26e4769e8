import { WebClient, type WebClientOptions } from '@slack/web-api'
import type { Config, Platform } from '../../src/bot/index.ts'
import type { SlackTarget } from '../../src/store/index.ts'
import { slackBotToken } from './config.ts'
import { SlackSink } from './sink.ts'

/** chat.update is Tier 3 (~50/min); one progress edit a second per run stays well inside it. */
export const MIN_UPDATE_MS = 1_000

/** How runs answer on Slack from plain data: needs only a bot-token Web API client, no socket. */
export function slackPlatform(client: WebClient): Platform {
  return {
    name: 'slack',
    minIntervalMs: MIN_UPDATE_MS,
    // chat.update works on a message for as long as it exists.
    remainingMs: () => undefined,
    sink: (target, ctx) =>
      new SlackSink({ client, target: target as SlackTarget, log: ctx.log, save: ctx.save }),
  }
}

/** The bot-token Web API client for a process that only works runs (`npm run worker`). */
export function slackWebClient(config: Config, options: WebClientOptions = {}): WebClient {
  return new WebClient(slackBotToken(config), {
    ...(config.SLACK_API_URL === undefined ? {} : { slackApiUrl: config.SLACK_API_URL }),
    ...options,
  })
}
