import { type REST, Routes } from 'discord.js'
import type { Logger } from 'pino'
import {
  type EditBudget,
  isTerminal,
  type ReplySink,
  type ReplyView,
  type Route,
} from '../../src/bot/index.ts'
import type { DiscordTarget } from '../../src/store/index.ts'
import { NO_MENTIONS, renderView } from './render.ts'

const EPHEMERAL = 64

/**
 * One reply per run, rebuilt from plain data (application id and interaction token): the deferred
 * reply is edited with progress, then the first result, then the combined result; only a body too
 * long for one message continues in follow-ups. Edits notify nobody. Interaction webhooks need no
 * bot authorization, so any process with a REST client can finish the run.
 */
export class DiscordSink implements ReplySink {
  readonly #rest: REST
  readonly #target: DiscordTarget
  readonly #log: Logger
  readonly #route: Route
  readonly #budget: EditBudget

  constructor(opts: { rest: REST; target: DiscordTarget; log: Logger; route: Route; budget: EditBudget }) {
    this.#rest = opts.rest
    this.#target = opts.target
    this.#log = opts.log
    this.#route = opts.route
    this.#budget = opts.budget
  }

  /** Every call on the interaction's webhook spends from its route. */
  route(): Route {
    return this.#route
  }

  async show(view: ReplyView): Promise<void> {
    const { applicationId, token } = this.#target
    const { main, more } = renderView(view)
    try {
      await this.#rest.patch(Routes.webhookMessage(applicationId, token, '@original'), {
        body: { ...main, allowed_mentions: NO_MENTIONS },
        auth: false,
      })
      if (!isTerminal(view.status)) return
      for (const message of more) {
        await this.#budget.acquire(this.#route, 'final').granted
        await this.followUp({ ...message })
      }
    } catch (error) {
      // The log gets the details (the pump logs the rethrown error); the user gets a short word.
      if (isTerminal(view.status)) {
        await this.followUp({
          content: 'Chorus could not post its full reply; the details are in its log.',
          flags: EPHEMERAL,
        }).catch((e: unknown) => this.#log.error({ err: e }, 'discord.explain_failed'))
      }
      throw error
    }
  }

  /** A follow-up message on the interaction's webhook. */
  async followUp(body: Record<string, unknown>): Promise<void> {
    const { applicationId, token } = this.#target
    await this.#rest.post(Routes.webhook(applicationId, token), {
      body: { ...body, allowed_mentions: NO_MENTIONS },
      auth: false,
    })
  }
}
