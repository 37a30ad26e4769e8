import { WebClient, type WebClientOptions } from '@slack/web-api'
import type { Config, Platform } from '../../src/bot/index.ts'
import type { ReplyTarget, SlackTarget } from '../../src/store/index.ts'
import { BotReplies } from './bot-replies.ts'
import { oneClient, type SlackClients } from './clients.ts'
import { slackBotToken, webApiOptions } from './config.ts'
import { questionMessageOf, SlackQuestions } from './questions.ts'
import { SlackSink } from './sink.ts'

/** chat.update is Tier 3 (~50/min); one progress edit a second per run, within the workspace budget. */
export const MIN_UPDATE_MS = 1_000

/**
 * How runs answer on Slack from plain data: needs only a bot-token Web API client, no socket. Every
 * run's chat.update calls in a workspace share one budget of `writesPerMin`
 * (CHORUS_SLACK_WRITES_PER_MIN), and its posts in a channel one of about one a second; a slash
 * command answers through its own response_url when that budget already serves other live replies.
 * The client must reject rate-limited calls (`slackWebClient` does) so a 429 pauses the budget
 * instead of the client's shared queue. Questions are posted and edited through `questions` (the
 * app's listeners edit them through the same one). `clients` gives each workspace its own token
 * (one WebClient: the one workspace of SLACK_BOT_TOKEN); a run whose workspace removed Chorus ends
 * without posting.
 */
export function slackPlatform(
  client: WebClient | SlackClients,
  writesPerMin: number,
  questions?: SlackQuestions,
): Platform {
  // A client stand-in (benchmarks) is no WebClient instance: tell the two apart by shape.
  const clients =
    typeof (client as Partial<SlackClients>).for === 'function'
      ? (client as SlackClients)
      : oneClient(client as WebClient)
  const asks = questions ?? new SlackQuestions(clients)
  const intervalMs = 60_000 / writesPerMin
  const replies = new BotReplies(writesPerMin)
  return {
    name: 'slack',
    minIntervalMs: MIN_UPDATE_MS,
    // chat.update works on a message for as long as it exists.
    remainingMs: () => undefined,
    sink: (target, ctx) =>
      new SlackSink({
        client: clients.for(target as SlackTarget),
        target: target as SlackTarget,
        log: ctx.log,
        save: ctx.save,
        budget: ctx.budget,
        intervalMs,
        replies,
        onLimited: (method, ms) => ctx.observer.rateLimited?.('slack', method, ms, ctx.runId),
      }),
    postQuestion: (target, view, ctx) => asks.post(target as SlackTarget, view, ctx.log),
    editQuestion: (target, message, view, ctx) =>
      asks.edit(questionMessageOf(message), view, ctx.log, clients.for(target as SlackTarget)),
    // Questions and replies are edited with the bot token, unless the reply only has its response_url.
    lateEdits: (target) => (target as SlackTarget).viaResponseUrl !== true,
    ...(clients.installed === undefined
      ? {}
      : {
          installed: (target: ReplyTarget) =>
            clients.installed?.(target as SlackTarget) ?? Promise.resolve(true),
        }),
  }
}

/**
 * The bot-token Web API client that posts replies. Slack's 429s are rejected at once
 * (`rejectRateLimitedCalls`): the client's own retry would pause its shared queue, so every run's
 * calls would wait, and add backoff on top of Retry-After; Chorus' budget waits out Retry-After
 * for that workspace and method only.
 */
export function slackWebClient(config: Config, options: WebClientOptions = {}): WebClient {
  return new WebClient(slackBotToken(config), webClientOptions(config, options))
}

/** The options of every client that posts replies (see `slackWebClient`), whatever its token. */
export function webClientOptions(config: Config, options: WebClientOptions = {}): WebClientOptions {
  return {
    ...webApiOptions(config),
    ...options,
    rejectRateLimitedCalls: true,
  }
}
