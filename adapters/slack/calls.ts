/**
 * A reply's calls to Slack within the platform budget: one route per workspace and method (Tier 3),
 * one per channel for new messages (about one a second, however posted). A 429 pauses the route for
 * Retry-After and the call waits for a new turn.
 */
import type { Logger } from 'pino'
import {
  type EditBudget,
  type EditPriority,
  PlatformRateLimited,
  type Route,
  spend,
} from '../../src/bot/index.ts'
import { rateLimited } from './retry-after.ts'

/** Calls one workspace may make of a method back to back, within its per-minute pace. */
const SLACK_BURST = 3
/** Slack: about one message a second per channel, however it is posted. */
const POST_INTERVAL_MS = 1_000

/** `chat.postMessage` stands for every new message in the channel (a response_url's too). */
export type Method = 'chat.postMessage' | 'chat.update' | 'conversations.history'

export class SlackCalls {
  readonly #budget: EditBudget
  readonly #intervalMs: number
  readonly #team: string
  readonly #channel: string
  readonly #log: Logger
  readonly #onLimited: (method: string, ms: number) => void

  constructor(opts: {
    budget: EditBudget
    /** Least time between two calls of one method in one workspace. */
    intervalMs: number
    team: string
    channel: string
    log: Logger
    onLimited: (method: string, ms: number) => void
  }) {
    this.#budget = opts.budget
    this.#intervalMs = opts.intervalMs
    this.#team = opts.team
    this.#channel = opts.channel
    this.#log = opts.log
    this.#onLimited = opts.onLimited
  }

  route(method: Method): Route {
    // The pace, with room for a short burst (Slack tolerates short bursts): a lone run's first
    // result and final, ready a moment apart, both go out at once.
    if (method === 'chat.postMessage') {
      const ms = Math.min(POST_INTERVAL_MS, this.#intervalMs)
      return {
        key: `slack:${this.#team}:${this.#channel}:${method}`,
        limit: SLACK_BURST,
        windowMs: SLACK_BURST * ms,
      }
    }
    return {
      key: `slack:${this.#team}:${method}`,
      limit: SLACK_BURST,
      windowMs: SLACK_BURST * this.#intervalMs,
    }
  }

  /**
   * Calls `fn`, whose turn the pump already took; on a 429 the route pauses for Retry-After and the
   * call waits for a new turn. `turn: false` takes its own turn first.
   */
  async call<T>(method: Method, priority: EditPriority, fn: () => Promise<T>, turn = true): Promise<T> {
    const route = this.route(method)
    const once = async () => {
      try {
        return await fn()
      } catch (error) {
        if (!rateLimited(error)) throw error
        throw new PlatformRateLimited(route.key, (error.retryAfter ?? 1) * 1000, { cause: error })
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
}
