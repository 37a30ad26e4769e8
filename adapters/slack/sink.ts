import type { WebClient } from '@slack/web-api'
import type { Logger } from 'pino'
import { isTerminal, type ReplySink, type ReplyView } from '../../src/bot/index.ts'
import type { SlackTarget } from '../../src/store/index.ts'
import { renderView } from './render.ts'
import { postToResponseUrl } from './respond.ts'

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
  #target: SlackTarget
  #lastStatus: string | undefined

  constructor(opts: {
    client: WebClient
    target: SlackTarget
    log: Logger
    save: (target: SlackTarget) => void
  }) {
    this.#client = opts.client
    this.#target = opts.target
    this.#log = opts.log
    this.#save = opts.save
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
    if (target.viaResponseUrl === true) return this.#showViaResponseUrl(view, main)
    if (target.ts === undefined) {
      try {
        const posted = await this.#client.chat.postMessage({
          channel: target.channel,
          ...(target.threadTs === undefined ? {} : { thread_ts: target.threadTs }),
          ...main,
          unfurl_links: false,
          unfurl_media: false,
        })
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
      await this.#client.chat.update({ channel: target.channel, ts: target.ts, ...main })
    }
    if (isTerminal(view.status)) {
      for (const message of more) {
        await this.#client.chat.postMessage({
          channel: target.channel,
          thread_ts: target.threadTs ?? (this.#target.ts as string),
          ...message,
          unfurl_links: false,
          unfurl_media: false,
        })
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
