import { DiscordAPIError, Routes } from 'discord.js'
import type { Logger } from 'pino'
import {
  type EditBudget,
  isTerminal,
  type ReplySink,
  type ReplyView,
  type Route,
} from '../../src/bot/index.ts'
import type { DiscordTarget } from '../../src/store/index.ts'
import type { DiscordRest } from './platform.ts'
import { NO_MENTIONS, renderView } from './render.ts'
import { channelRoute, webhookRoute } from './routes.ts'
import { type TokenClock, tokenUsable } from './token.ts'

const EPHEMERAL = 64
/** Discord: a webhook call with a token past its 15 minutes (clocks differ, or Discord ended it early). */
const INVALID_WEBHOOK_TOKEN = 50027

/**
 * One reply per run, rebuilt from plain data (application id and interaction token): the deferred
 * reply is edited with progress, then the first result, then the combined result; only a body too
 * long for one message continues in follow-ups. Edits notify nobody. Interaction webhooks need no
 * bot authorization, so any process with a REST client can finish the run. Once the token is over
 * (a run that waited for people), the bot edits the same message in its channel; the message's id
 * is learnt from the first edit and journaled with the target.
 */
export class DiscordSink implements ReplySink {
  readonly #rest: DiscordRest
  readonly #clock: TokenClock
  readonly #log: Logger
  readonly #budget: EditBudget
  readonly #save: (target: DiscordTarget) => void
  #target: DiscordTarget

  constructor(opts: {
    rest: DiscordRest
    clock: TokenClock
    target: DiscordTarget
    log: Logger
    budget: EditBudget
    save(target: DiscordTarget): void
  }) {
    this.#rest = opts.rest
    this.#clock = opts.clock
    this.#target = opts.target
    this.#log = opts.log
    this.#budget = opts.budget
    this.#save = opts.save
  }

  /** Calls on the interaction's webhook spend from its route; once the token is over, the channel's. */
  route(): Route {
    const late = this.#late()
    return late === undefined
      ? webhookRoute(this.#target.applicationId, this.#target.token)
      : channelRoute(late.channelId)
  }

  async show(view: ReplyView): Promise<void> {
    const { main, more } = renderView(view)
    try {
      await this.#edit({ ...main, allowed_mentions: NO_MENTIONS })
      if (!isTerminal(view.status)) return
      for (const message of more) {
        await this.#budget.acquire(this.route(), 'final').granted
        await this.followUp({ ...message })
      }
    } catch (error) {
      // The log gets the details (the pump logs the rethrown error); the user gets a short word.
      if (isTerminal(view.status) && this.#late() === undefined) {
        await this.followUp({
          content: 'Chorus could not post its full reply; the details are in its log.',
          flags: EPHEMERAL,
        }).catch((e: unknown) => this.#log.error({ err: e }, 'discord.explain_failed'))
      }
      throw error
    }
  }

  /** A follow-up message on the interaction's webhook; once the token is over, a bot message in the channel (ephemeral ones are dropped). */
  async followUp(body: Record<string, unknown>): Promise<void> {
    const { applicationId, token } = this.#target
    const late = this.#late()
    if (late !== undefined) {
      if (body.flags === EPHEMERAL) {
        this.#log.warn({ event: 'discord.ephemeral_dropped' }, 'discord.ephemeral_dropped')
        return
      }
      await this.#bot().post(Routes.channelMessages(late.channelId), {
        body: {
          ...body,
          allowed_mentions: NO_MENTIONS,
          message_reference: { message_id: late.messageId, fail_if_not_exists: false },
        },
      })
      return
    }
    await this.#rest.webhooks.post(Routes.webhook(applicationId, token), {
      body: { ...body, allowed_mentions: NO_MENTIONS },
      auth: false,
    })
  }

  /** Edits the reply: through its webhook while the token lives, through the bot after. */
  async #edit(body: Record<string, unknown>): Promise<void> {
    const late = this.#late()
    if (late !== undefined) {
      await this.#bot().patch(Routes.channelMessage(late.channelId, late.messageId), { body })
      return
    }
    const { applicationId, token } = this.#target
    let message: { id?: string; channel_id?: string }
    try {
      message = (await this.#rest.webhooks.patch(Routes.webhookMessage(applicationId, token, '@original'), {
        body,
        auth: false,
      })) as typeof message
    } catch (error) {
      const { channelId, messageId } = this.#target
      // Discord ended the token before our clock did: the bot can still edit the message.
      if (
        error instanceof DiscordAPIError &&
        error.code === INVALID_WEBHOOK_TOKEN &&
        this.#rest.bot !== undefined &&
        channelId !== undefined &&
        messageId !== undefined
      ) {
        this.#log.info({ event: 'discord.token_ended' }, 'discord.token_ended')
        await this.#rest.bot.patch(Routes.channelMessage(channelId, messageId), { body })
        return
      }
      throw error
    }
    this.#learn(message)
  }

  /** Journals where the reply is (its message id, and its channel for older targets), once. */
  #learn(message: { id?: string; channel_id?: string }): void {
    const { messageId, channelId } = this.#target
    if (typeof message.id !== 'string' || (messageId === message.id && channelId !== undefined)) return
    this.#target = {
      ...this.#target,
      messageId: message.id,
      ...(channelId === undefined && typeof message.channel_id === 'string'
        ? { channelId: message.channel_id }
        : {}),
    }
    this.#save(this.#target)
  }

  /** Where the bot edits the reply, when the token is (nearly) over and the bot can; else undefined. */
  #late(): { channelId: string; messageId: string } | undefined {
    const { channelId, messageId, createdAt } = this.#target
    if (tokenUsable(createdAt, this.#clock) || this.#rest.bot === undefined) return undefined
    if (channelId === undefined || messageId === undefined) return undefined
    return { channelId, messageId }
  }

  #bot() {
    if (this.#rest.bot === undefined) throw new Error('no bot REST client')
    return this.#rest.bot
  }
}
