import type { WebClient } from '@slack/web-api'
import type { Logger } from 'pino'
import {
  type EditBudget,
  type EditPriority,
  isTerminal,
  PlatformRateLimited,
  type ReplySink,
  type ReplyView,
  type Route,
  spend,
} from '../../src/bot/index.ts'
import type { SlackTarget } from '../../src/store/index.ts'
import { renderView } from './render.ts'
import { postToResponseUrl } from './respond.ts'

/** Calls one workspace may make of a method back to back, within its per-minute pace. */
const SLACK_BURST = 3
/** Slack: chat.postMessage, about one message a second per channel. */
const POST_INTERVAL_MS = 1_000

/**
 * One Slack message per run, rebuilt from plain data (channel, message ts, thread ts, response_url):
 * posted as the placeholder, updated with progress and the first result, then with the combined
 * result; overflow past 50 blocks continues in its thread. When the bot may not post in the channel
 * (a private channel or DM it was not invited to), the reply goes through the command's response_url
 * instead, which Slack allows 5 times in 30 minutes, so progress updates are skipped there and only
 * the placeholder, the first result and the end are sent.
 */
export class SlackSink implements ReplySink {
  readonly #client: WebClient
  readonly #log: Logger
  readonly #save: (target: SlackTarget) => void
  readonly #budget: EditBudget
  readonly #intervalMs: number
  readonly #onLimited: (method: string, ms: number) => void
  #target: SlackTarget
  #lastStatus: string | undefined

  constructor(opts: {
    client: WebClient
    target: SlackTarget
    log: Logger
    save: (target: SlackTarget) => void
    /** The workspace's write budget, shared by every run. */
    budget: EditBudget
    /** Least time between two calls of one method in one workspace. */
    intervalMs: number
    onLimited?: (method: string, ms: number) => void
  }) {
    this.#client = opts.client
    this.#target = opts.target
    this.#log = opts.log
    this.#save = opts.save
    this.#budget = opts.budget
    this.#intervalMs = opts.intervalMs
    this.#onLimited = opts.onLimited ?? (() => {})
  }

  /**
   * Slack's limits: chat.update is Tier 3, per workspace; chat.postMessage allows about one message
   * a second per channel. The placeholder posts, later views update.
   */
  route(view: ReplyView): Route | undefined {
    void view
    if (this.#target.viaResponseUrl === true) return undefined
    return this.#route(this.#target.ts === undefined ? 'chat.postMessage' : 'chat.update')
  }

  #route(method: string): Route {
    const team = this.#target.teamId ?? '-'
    // The pace, with room for a short burst (Slack tolerates short bursts): a lone run's first
    // result and final, ready a moment apart, both go out at once.
    if (method === 'chat.postMessage') {
      const ms = Math.min(POST_INTERVAL_MS, this.#intervalMs)
      return {
        key: `slack:${team}:${this.#target.channel}:${method}`,
        limit: SLACK_BURST,
        windowMs: SLACK_BURST * ms,
      }
    }
    return { key: `slack:${team}:${method}`, limit: SLACK_BURST, windowMs: SLACK_BURST * this.#intervalMs }
  }

  /**
   * Calls `fn`, whose turn the pump already took; on a 429 the method's budget pauses for Retry-After
   * and the call waits for a new turn. `turn: false` takes its own turn first (overflow posts).
   */
  async #call<T>(method: string, priority: EditPriority, fn: () => Promise<T>, turn = true): Promise<T> {
    const route = this.#route(method)
    const once = async () => {
      try {
        return await fn()
      } catch (error) {
        const e = error as { code?: string; retryAfter?: number }
        if (e.code !== 'slack_webapi_rate_limited_error') throw error
        const ms = (e.retryAfter ?? 1) * 1000
        throw new PlatformRateLimited(route.key, ms, { cause: error })
      }
    }
    const onLimited = (ms: number) => {
      this.#log.warn({ method, retryAfterMs: ms }, 'slack.rate_limited')
      this.#onLimited(method, ms)
    }
    if (turn) {
      try {
        return await once()
      } catch (error) {
        if (!(error instanceof PlatformRateLimited)) throw error
        onLimited(error.retryAfterMs)
        this.#budget.pause(route, error.retryAfterMs)
      }
    }
    return spend(this.#budget, route, priority, once, onLimited)
  }

  async show(view: ReplyView): Promise<void> {
    try {
      await this.#show(view)
    } catch (error) {
      // The log gets the details (the pump logs the rethrown error); the user gets a short word.
      const { responseUrl, ts } = this.#target
      if (responseUrl !== undefined && (ts === undefined || isTerminal(view.status))) {
        const code = (error as { data?: { error?: string } }).data?.error ?? 'an error'
        await postToResponseUrl(responseUrl, {
          response_type: 'ephemeral',
          replace_original: false,
          text: `Chorus could not post its reply here (${code}); the details are in its log.`,
        }).catch((e: unknown) => this.#log.error({ err: e }, 'slack.explain_failed'))
      }
      throw error
    }
  }

  #update(patch: Partial<SlackTarget>): void {
    this.#target = { ...this.#target, ...patch }
    this.#save(this.#target)
  }

  async #show(view: ReplyView): Promise<void> {
    const { main, more } = renderView(view)
    const target = this.#target
    const priority: EditPriority = isTerminal(view.status)
      ? 'final'
      : view.status === 'first'
        ? 'first'
        : 'progress'
    if (target.viaResponseUrl === true) return this.#showViaResponseUrl(view, main)
    if (target.ts === undefined) {
      try {
        const posted = await this.#call('chat.postMessage', priority, () =>
          this.#client.chat.postMessage({
            channel: target.channel,
            ...(target.threadTs === undefined ? {} : { thread_ts: target.threadTs }),
            ...main,
            unfurl_links: false,
            unfurl_media: false,
          }),
        )
        if (posted.ts !== undefined) this.#update({ ts: posted.ts })
      } catch (error) {
        const code = (error as { data?: { error?: string } }).data?.error
        if (target.responseUrl !== undefined && (code === 'not_in_channel' || code === 'channel_not_found')) {
          this.#log.info({ code }, 'slack.fallback_response_url')
          this.#update({ viaResponseUrl: true })
          return this.#showViaResponseUrl(view, main)
        }
        throw error
      }
    } else {
      const ts = target.ts
      await this.#call('chat.update', priority, () =>
        this.#client.chat.update({ channel: target.channel, ts, ...main }),
      )
    }
    if (isTerminal(view.status)) {
      for (const message of more) {
        await this.#call(
          'chat.postMessage',
          'final',
          () =>
            this.#client.chat.postMessage({
              channel: target.channel,
              thread_ts: target.threadTs ?? (this.#target.ts as string),
              ...message,
              unfurl_links: false,
              unfurl_media: false,
            }),
          false,
        )
      }
    }
  }

  async #showViaResponseUrl(view: ReplyView, main: { text: string; blocks: unknown[] }): Promise<void> {
    const first = this.#lastStatus === undefined && this.#target.responseShown !== true
    if (!first && view.status === this.#lastStatus && view.notice === undefined) return
    this.#lastStatus = view.status
    await postToResponseUrl(this.#target.responseUrl as string, {
      response_type: 'in_channel',
      replace_original: !first,
      text: main.text,
      blocks: main.blocks,
    })
    // Remembered, so a resumed run replaces this reply instead of posting another.
    if (first) this.#update({ responseShown: true })
  }
}
