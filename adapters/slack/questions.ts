/**
 * A run's question on Slack: posted beside its reply with the bot token, then edited in place with
 * its tally and its outcome. chat.update with the bot token works for as long as the message exists,
 * so a question may stay open past a response_url's 30 minutes.
 */
import { WebClient } from '@slack/web-api'
import type { Logger } from 'pino'
import { CannotAskError, type QuestionView } from '../../src/bot/index.ts'
import type { SlackTarget } from '../../src/store/index.ts'
import { oneClient, type SlackClients } from './clients.ts'
import { questionMessage } from './question-render.ts'
import { withRetryAfter } from './retry-after.ts'

/** Where a question's message is: what the journal keeps, as plain data. */
export interface QuestionMessage {
  channel: string
  ts: string
}

export const NOT_IN_CHANNEL =
  "Chorus can't post a question in this channel: invite it with /invite @Chorus, then run the command again."

/** How long a decided message is remembered, so a slower tally edit cannot bring its buttons back. */
const FINAL_MEMORY_MS = 10 * 60_000

interface Shown {
  chain: Promise<void>
  /** Edits asked for so far; an open view that a newer edit follows is skipped. */
  asked: number
  final: boolean
}

/**
 * The questions of one Slack app, through each workspace's bot-token client. Edits of one message go out one at a
 * time and only the newest open view is sent; once the outcome is shown, a slower tally edit (a
 * vote counted just before the deciding one) is dropped rather than bring the buttons back.
 */
export class SlackQuestions {
  readonly #clients: SlackClients
  readonly #shown = new Map<string, Shown>()

  constructor(clients: WebClient | SlackClients) {
    this.#clients = clients instanceof WebClient ? oneClient(clients) : clients
  }

  /** Posts the question in the reply's channel (its thread, when the reply is in one). */
  async post(target: SlackTarget, view: QuestionView, log: Logger): Promise<QuestionMessage> {
    // The reply goes through response_url: the bot may not post here, and a response_url cannot carry a question.
    if (target.viaResponseUrl === true) throw new CannotAskError(NOT_IN_CHANNEL)
    try {
      const posted = await withRetryAfter(log, 'chat.postMessage', () =>
        this.#clients.for(target).chat.postMessage({
          channel: target.channel,
          ...(target.threadTs === undefined ? {} : { thread_ts: target.threadTs }),
          ...questionMessage(view),
          unfurl_links: false,
          unfurl_media: false,
        }),
      )
      if (posted.ts === undefined) throw new Error('chat.postMessage answered without a ts')
      return { channel: posted.channel ?? target.channel, ts: posted.ts }
    } catch (error) {
      const code = codeOf(error)
      if (code === 'not_in_channel' || code === 'channel_not_found')
        throw new CannotAskError(NOT_IN_CHANNEL, { cause: error })
      throw new CannotAskError(
        `Chorus could not post its question here (${code ?? 'an error'}); the details are in its log.`,
        { cause: error },
      )
    }
  }

  /**
   * Shows `view` on the question's message (see the class comment for the order of edits), with
   * `client`: its workspace's (a listener's own, or the run's); default the one workspace's.
   */
  edit(
    where: QuestionMessage,
    view: QuestionView,
    log: Logger,
    client: WebClient = this.#clients.for({}),
  ): Promise<void> {
    const id = `${where.channel}:${where.ts}`
    const entry = this.#shown.get(id) ?? { chain: Promise.resolve(), asked: 0, final: false }
    this.#shown.set(id, entry)
    const mine = ++entry.asked
    const open = view.state === 'open'
    const job = entry.chain.then(async () => {
      if (open && (entry.final || mine < entry.asked)) return
      await this.#update(where, view, log, client)
      if (!open) entry.final = true
    })
    const forget = (): void => this.#forget(id, entry, mine)
    entry.chain = job.then(forget, forget)
    return job
  }

  /** Drops a message's entry once no edit waits (a decided one after a while). */
  #forget(id: string, entry: Shown, mine: number): void {
    if (mine !== entry.asked) return
    const drop = (): void => {
      if (this.#shown.get(id) === entry && mine === entry.asked) this.#shown.delete(id)
    }
    if (entry.final) setTimeout(drop, FINAL_MEMORY_MS).unref()
    else drop()
  }

  async #update(where: QuestionMessage, view: QuestionView, log: Logger, client: WebClient): Promise<void> {
    try {
      await withRetryAfter(log, 'chat.update', () =>
        client.chat.update({ channel: where.channel, ts: where.ts, ...questionMessage(view) }),
      )
    } catch (error) {
      const code = codeOf(error)
      throw new CannotAskError(
        code === 'message_not_found' || code === 'channel_not_found'
          ? 'The question’s message is gone from Slack, so Chorus cannot show its answers there.'
          : `Chorus could not update its question (${code ?? 'an error'}); the details are in its log.`,
        { cause: error },
      )
    }
  }
}

/** The journal's note of where a question is, checked: it was written by `SlackQuestions.post`. */
export function questionMessageOf(message: unknown): QuestionMessage {
  const m = message as Partial<QuestionMessage> | null | undefined
  if (typeof m?.channel !== 'string' || typeof m.ts !== 'string')
    throw new CannotAskError('Chorus does not know where this question was posted.')
  return { channel: m.channel, ts: m.ts }
}

function codeOf(error: unknown): string | undefined {
  return (error as { data?: { error?: string } }).data?.error
}
