import type { WebClient } from '@slack/web-api'
import type { Logger } from 'pino'
import {
  type EditBudget,
  type EditPriority,
  isTerminal,
  type Phase,
  phaseOf,
  type ReplySink,
  type ReplyView,
  type Route,
} from '../../src/bot/index.ts'
import type { SlackTarget } from '../../src/store/index.ts'
import type { BotReplies } from './bot-replies.ts'
import { SlackCalls } from './calls.ts'
import { findReply } from './find-reply.ts'
import { WorkspaceRemovedError } from './installations.ts'
import { renderView, type SlackMessage } from './render.ts'
import { postToResponseUrl, ResponseUrlClosed } from './respond.ts'
import { RESPONSE_URL_USES, responseUrlFor, type SlackReply } from './response-url.ts'
import { rateLimited, withRetryAfter } from './retry-after.ts'

/**
 * One Slack message per run, rebuilt from plain data (channel, message ts, thread ts, response_url).
 * Two roads reach it. On the bot token, the placeholder is posted and then updated (progress, the
 * streamed text, the first result, the end) with chat.update, from the workspace's shared Tier 3.
 * Through a slash command's own response_url, which Slack gives each command apart from that tier,
 * the placeholder is posted in the channel and replaced by the news (the first streamed words, the
 * first result) and the end, 5 posts at most with the last kept for the end; a command takes that
 * road when the workspace's chat.update budget already serves other live replies (`BotReplies`), or
 * when the bot may not post in the channel. Once the response_url is spent or expiring, the bot
 * token takes over: the message is found in the channel's history and updated, or a new one posted.
 * Overflow past 50 blocks continues in the message's thread.
 */
export class SlackSink implements ReplySink {
  readonly #client: WebClient
  readonly #log: Logger
  readonly #save: (target: SlackTarget) => void
  readonly #calls: SlackCalls
  readonly #replies: BotReplies
  #target: SlackReply
  /** What the response_url last showed (this process). */
  #lastPhase: Phase | undefined
  /** The road of the first post, once decided. */
  #road: 'bot' | 'url' | undefined
  /** Ends this reply's count among the workspace's live bot-token replies. */
  #release: (() => void) | undefined
  /** Set once a call found the workspace's install gone. */
  #removed = false

  constructor(opts: {
    client: WebClient
    target: SlackTarget
    log: Logger
    save: (target: SlackTarget) => void
    /** The workspace's write budget, shared by every run. */
    budget: EditBudget
    /** Least time between two calls of one method in one workspace. */
    intervalMs: number
    /** The live bot-token replies of each workspace in this process. */
    replies: BotReplies
    onLimited?: (method: string, ms: number) => void
  }) {
    this.#client = opts.client
    this.#target = opts.target
    this.#log = opts.log
    this.#save = opts.save
    this.#replies = opts.replies
    this.#calls = new SlackCalls({
      budget: opts.budget,
      intervalMs: opts.intervalMs,
      team: opts.target.teamId ?? '-',
      channel: opts.target.channel,
      log: opts.log,
      onLimited: opts.onLimited ?? (() => {}),
    })
  }

  /**
   * The budget the next `show` of `view` spends from: chat.update's per workspace (Tier 3) for an
   * edit with the bot token; the channel's posts (about one a second) for a new message, however it
   * is posted; none for what the command's response_url carries.
   */
  route(view: ReplyView): Route | undefined {
    const target = this.#target
    if (target.ts !== undefined) return this.#calls.route('chat.update')
    if (target.viaResponseUrl === true) return undefined
    if (target.responseShown === true) {
      const can = responseUrlFor(target, view, this.#lastPhase, Date.now())
      return can === 'closed' ? this.#calls.route('chat.update') : undefined
    }
    this.#decide(view)
    return this.#calls.route('chat.postMessage')
  }

  async show(view: ReplyView): Promise<void> {
    try {
      await this.#show(view)
    } catch (error) {
      // The workspace removed Chorus while the run went on: nothing can reach it; said once, not per view.
      if (error instanceof WorkspaceRemovedError) {
        if (!this.#removed) this.#log.warn({ event: 'reply.workspace_removed' }, 'reply.workspace_removed')
        this.#removed = true
        return
      }
      await this.#explain(view, error)
      throw error
    } finally {
      if (isTerminal(view.status)) this.#done()
    }
  }

  async #show(view: ReplyView): Promise<void> {
    const { main, more } = renderView(view)
    const priority = priorityOf(view)
    const target = this.#target
    if (target.ts !== undefined) await this.#edit(target.ts, main, priority)
    else if (target.viaResponseUrl === true || target.responseShown === true)
      await this.#viaUrl(view, main, priority)
    else if (this.#decide(view) === 'url') await this.#postViaUrl(view, main, priority)
    else await this.#post(view, main, priority)
    if (isTerminal(view.status) && more.length > 0) await this.#more(view, more)
  }

  /**
   * The road of the reply's first post: the command's response_url while the workspace's
   * chat.update budget is taken by other live replies, else the bot token (counted as live).
   */
  #decide(view: ReplyView): 'bot' | 'url' {
    if (this.#road !== undefined) return this.#road
    const team = this.#target.teamId ?? '-'
    const url = responseUrlFor(this.#target, view, undefined, Date.now()) === 'post'
    this.#road = url && this.#replies.busy(team) ? 'url' : 'bot'
    if (this.#road === 'bot') this.#release = this.#replies.begin(team)
    return this.#road
  }

  #done(): void {
    this.#release?.()
    this.#release = undefined
  }

  /** The placeholder with the bot token; where the bot may not post, the command's response_url. */
  async #post(view: ReplyView, main: SlackMessage, priority: EditPriority): Promise<void> {
    const target = this.#target
    try {
      await this.#postNew(main, priority, true)
    } catch (error) {
      const code = (error as { data?: { error?: string } }).data?.error
      if (target.responseUrl !== undefined && (code === 'not_in_channel' || code === 'channel_not_found')) {
        this.#log.info({ code }, 'slack.fallback_response_url')
        this.#update({ viaResponseUrl: true })
        this.#done()
        return this.#viaUrl(view, main, priority)
      }
      throw error
    }
  }

  /** A view on a reply that lives on a response_url: through it while it can carry the view, else the bot token. */
  async #viaUrl(view: ReplyView, main: SlackMessage, priority: EditPriority): Promise<void> {
    const target = this.#target
    // A click's response_url (Again where the bot may not post) would replace the message clicked:
    // only the end goes there, as a message of its own.
    if (target.responseUrlAt === undefined) {
      if (!isTerminal(view.status) || target.responseUrl === undefined) return
      return postToResponseUrl(target.responseUrl, {
        response_type: 'in_channel',
        replace_original: false,
        ...main,
      })
    }
    const can = responseUrlFor(target, view, this.#lastPhase, Date.now())
    if (can === 'skip') return
    if (can === 'post') {
      try {
        return await this.#postViaUrl(view, main, priority)
      } catch (error) {
        if (!(error instanceof ResponseUrlClosed)) throw error
        this.#update({ responseUses: RESPONSE_URL_USES })
      }
    }
    if (target.viaResponseUrl === true)
      throw new Error(
        'The response_url is spent or expired and the bot may not post here; the reply stays as it was',
      )
    return this.#late(view, main, priority)
  }

  /**
   * Posts `view` through the command's response_url: the first time as a message in the channel (a
   * channel post like any other), then replacing it. Each post is one of the URL's 5.
   */
  async #postViaUrl(view: ReplyView, main: SlackMessage, priority: EditPriority): Promise<void> {
    const target = this.#target
    const first = target.responseShown !== true
    const send = () =>
      postToResponseUrl(target.responseUrl as string, {
        response_type: 'in_channel',
        replace_original: !first,
        ...main,
      })
    try {
      // A replacement spends nothing shared; a 429 on it (none expected) is waited out once.
      if (first) await this.#calls.call('chat.postMessage', priority, send)
      else await withRetryAfter(this.#log, 'response_url', send)
    } catch (error) {
      // Slack may have counted a post that failed; a 429 or a closed URL took none.
      if (!(rateLimited(error) || error instanceof ResponseUrlClosed)) this.#spent()
      throw error
    }
    this.#lastPhase = phaseOf(view)
    // Remembered, so a resumed run replaces this message and never spends past 5.
    this.#update({ responseShown: true })
    this.#spent()
  }

  #spent(): void {
    this.#update({ responseUses: (this.#target.responseUses ?? 0) + 1 })
  }

  /**
   * The bot token takes over a reply the response_url can no longer reach: the message is found in
   * the channel and updated, or, when it cannot be found, the reply continues in a new message.
   */
  async #late(view: ReplyView, main: SlackMessage, priority: EditPriority): Promise<void> {
    const ts = await this.#replyTs(view, priority)
    if (ts !== undefined) return this.#edit(ts, main, priority)
    this.#log.warn({ event: 'slack.reply_not_found' }, 'slack.reply_not_found')
    await this.#postNew(main, priority, false)
  }

  /** A new message with the bot token, in the reply's channel (its thread, when the reply is in one). */
  async #postNew(main: SlackMessage, priority: EditPriority, turn: boolean): Promise<void> {
    const target = this.#target
    const post = () =>
      this.#client.chat.postMessage({
        channel: target.channel,
        ...(target.threadTs === undefined ? {} : { thread_ts: target.threadTs }),
        ...main,
        unfurl_links: false,
        unfurl_media: false,
      })
    const posted = await this.#calls.call('chat.postMessage', priority, post, turn)
    if (posted.ts !== undefined) this.#update({ ts: posted.ts })
  }

  /** The reply message's ts: known, or read from the channel's history (once; then remembered). */
  async #replyTs(view: ReplyView, priority: EditPriority): Promise<string | undefined> {
    const target = this.#target
    if (target.ts !== undefined) return target.ts
    if (target.responseShown !== true || target.viaResponseUrl === true) return undefined
    const where = { channel: target.channel, runId: view.runId, since: target.responseUrlAt ?? 0 }
    const ts = await this.#calls
      .call('conversations.history', priority, () => findReply(this.#client, where), false)
      .catch((err: unknown) => {
        this.#log.warn({ err }, 'slack.reply_lookup_failed')
        return undefined
      })
    if (ts !== undefined) this.#update({ ts })
    return ts
  }

  async #edit(ts: string, main: SlackMessage, priority: EditPriority): Promise<void> {
    const channel = this.#target.channel
    await this.#calls.call('chat.update', priority, () => this.#client.chat.update({ channel, ts, ...main }))
  }

  /** Continuation messages in the reply's thread (a result over 50 blocks). */
  async #more(view: ReplyView, more: SlackMessage[]): Promise<void> {
    const target = this.#target
    const parent = target.threadTs ?? (await this.#replyTs(view, 'final'))
    if (parent === undefined) {
      this.#log.warn({ event: 'slack.overflow_dropped', messages: more.length }, 'slack.overflow_dropped')
      return
    }
    for (const message of more) {
      const post = () =>
        this.#client.chat.postMessage({
          channel: target.channel,
          thread_ts: parent,
          ...message,
          unfurl_links: false,
          unfurl_media: false,
        })
      await this.#calls.call('chat.postMessage', 'final', post, false)
    }
  }

  /** The log gets the details (the pump logs the rethrown error); the user gets a short word. */
  async #explain(view: ReplyView, error: unknown): Promise<void> {
    const { responseUrl, ts, responseShown, responseUses = 0 } = this.#target
    const nothingShown = ts === undefined && responseShown !== true
    if (responseUrl === undefined || responseUses >= RESPONSE_URL_USES) return
    if (!nothingShown && !isTerminal(view.status)) return
    const code = (error as { data?: { error?: string } }).data?.error ?? 'an error'
    await postToResponseUrl(responseUrl, {
      response_type: 'ephemeral',
      replace_original: false,
      text: `Chorus could not post its reply here (${code}); the details are in its log.`,
    })
      .then(() => this.#spent())
      .catch((e: unknown) => this.#log.error({ err: e }, 'slack.explain_failed'))
  }

  #update(patch: Partial<SlackReply>): void {
    this.#target = { ...this.#target, ...patch }
    this.#save(this.#target)
  }
}

function priorityOf(view: ReplyView): EditPriority {
  if (isTerminal(view.status)) return 'final'
  return view.status === 'first' ? 'first' : 'progress'
}
