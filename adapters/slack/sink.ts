import type { RespondFn } from '@slack/bolt'
import type { WebClient } from '@slack/web-api'
import type { Logger } from 'pino'
import type { ReplySink, ReplyView } from '../../src/bot/index.ts'
import { renderView } from './render.ts'

const TERMINAL = new Set(['final', 'failed', 'stopped'])

/**
 * One Slack message per run: posted as the placeholder, updated with progress and the first result,
 * then with the combined result; overflow past 50 blocks continues in its thread. When the bot may
 * not post in the channel (a private channel or DM it was not invited to), the reply goes through
 * the command's response_url instead, which Slack allows 5 times in 30 minutes, so progress updates
 * are skipped there and only the placeholder, the first result and the end are sent.
 */
export class SlackSink implements ReplySink {
  readonly #client: WebClient
  readonly #channel: string
  readonly #threadTs: string | undefined
  readonly #respond: RespondFn | undefined
  readonly #log: Logger
  #ts: string | undefined
  #viaResponseUrl = false
  #lastStatus: string | undefined

  constructor(opts: {
    client: WebClient
    channel: string
    threadTs?: string
    respond?: RespondFn
    log: Logger
  }) {
    this.#client = opts.client
    this.#channel = opts.channel
    this.#threadTs = opts.threadTs
    this.#respond = opts.respond
    this.#log = opts.log
  }

  async show(view: ReplyView): Promise<void> {
    try {
      await this.#show(view)
    } catch (error) {
      // The log gets the details (the pump logs the rethrown error); the user gets a short word.
      if (this.#respond !== undefined && (this.#ts === undefined || TERMINAL.has(view.status))) {
        const code = (error as { data?: { error?: string } }).data?.error ?? 'an error'
        await this.#respond({
          response_type: 'ephemeral',
          replace_original: false,
          text: `Chorus could not post its reply here (${code}); the details are in its log.`,
        }).catch((e: unknown) => this.#log.error({ err: e }, 'slack.explain_failed'))
      }
      throw error
    }
  }

  async #show(view: ReplyView): Promise<void> {
    const { main, more } = renderView(view)
    if (this.#viaResponseUrl) return this.#showViaResponseUrl(view, main)
    if (this.#ts === undefined) {
      try {
        const posted = await this.#client.chat.postMessage({
          channel: this.#channel,
          ...(this.#threadTs === undefined ? {} : { thread_ts: this.#threadTs }),
          ...main,
          unfurl_links: false,
          unfurl_media: false,
        })
        this.#ts = posted.ts
      } catch (error) {
        const code = (error as { data?: { error?: string } }).data?.error
        if (this.#respond !== undefined && (code === 'not_in_channel' || code === 'channel_not_found')) {
          this.#log.info({ code }, 'slack.fallback_response_url')
          this.#viaResponseUrl = true
          return this.#showViaResponseUrl(view, main)
        }
        throw error
      }
    } else {
      await this.#client.chat.update({ channel: this.#channel, ts: this.#ts, ...main })
    }
    if (TERMINAL.has(view.status)) {
      for (const message of more) {
        await this.#client.chat.postMessage({
          channel: this.#channel,
          thread_ts: this.#threadTs ?? (this.#ts as string),
          ...message,
          unfurl_links: false,
          unfurl_media: false,
        })
      }
    }
  }

  async #showViaResponseUrl(view: ReplyView, main: { text: string; blocks: unknown[] }): Promise<void> {
    const first = this.#lastStatus === undefined
    if (!first && view.status === this.#lastStatus) return
    this.#lastStatus = view.status
    const respond = this.#respond as RespondFn
    await respond({
      response_type: 'in_channel',
      replace_original: !first,
      text: main.text,
      blocks: main.blocks as never,
    })
  }
}
