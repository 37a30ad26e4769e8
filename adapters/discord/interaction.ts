/**
 * One interaction as every listener sees it, however it arrived: from the gateway (a discord.js
 * object, `fromGateway`) or as an HTTP POST to the Interactions Endpoint URL (the raw payload,
 * `fromPayload`). Both answer the same way: the first response through
 * `POST /interactions/{id}/{token}/callback`, the rest through the interaction's webhook, all on one
 * REST client without the bot's global limit and without the bot's token (Discord needs neither).
 */
import { type REST, Routes } from 'discord.js'

export type InteractionKind = 'command' | 'autocomplete' | 'button' | 'select' | 'component' | 'modal'

/** A message or modal as Discord's API takes it (snake_case, `allowed_mentions`). */
export type Body = object

/** What the listeners read of an interaction: plain data, the same from the gateway and from HTTP. */
export interface InteractionData {
  kind: InteractionKind
  id: string
  applicationId: string
  token: string
  /** When Discord created it (from its snowflake): the token lives 15 minutes from then. */
  createdAt: number
  /** Who sent it; `name` is the name Chorus shows (global name, else user name), never a mention. */
  user: { id: string; name: string }
  guildId: string | undefined
  channelId: string | undefined
  /** A command or autocomplete: the command's name and its top-level options (the focused one marked). */
  commandName: string
  options: Array<{ name: string; value: unknown; focused?: boolean }>
  /** A component or modal submit: its custom id; a select's picked values; a modal's text inputs. */
  customId: string
  values: string[]
  fields: Record<string, string>
  /** A modal submitted from a message's component (the message can be updated in place). */
  fromMessage: boolean
}

/** The responses Discord takes, in discord.js' words, with its rules: one first response, then edits and follow-ups. */
export interface Responder {
  /** Whether the first response was a deferral, or a reply (or an edit since). */
  readonly state: { deferred: boolean; replied: boolean }
  /** Settles once the first response was sent (or failed): the HTTP endpoint answers Discord then. */
  readonly acknowledged: Promise<void>
  reply(message: Body): Promise<void>
  deferReply(): Promise<void>
  deferUpdate(): Promise<void>
  update(message: Body): Promise<void>
  showModal(modal: Body): Promise<void>
  respond(choices: Array<{ name: string; value: string }>): Promise<void>
  followUp(message: Body): Promise<void>
  editReply(message: Body): Promise<void>
  deleteReply(): Promise<void>
}

export type Interaction = InteractionData & Responder

/** Discord's callback types (InteractionResponseType). */
const CALLBACK = { reply: 4, deferReply: 5, deferUpdate: 6, update: 7, choices: 8, modal: 9 } as const

/** Answers `data` through `rest` (a client made by `webhookRest`: unauthenticated calls, no global limit). */
export function interaction(data: InteractionData, rest: REST): Interaction {
  const state = { deferred: false, replied: false }
  let settle = () => {}
  const acknowledged = new Promise<void>((resolve) => {
    settle = resolve
  })
  const { id, token, applicationId } = data
  /** The first response; like discord.js, a second one is refused here rather than by Discord. */
  const callback = async (type: number, body: Body | undefined, then: keyof typeof state) => {
    if (state.deferred || state.replied) throw new Error('the interaction was already acknowledged')
    try {
      await rest.post(Routes.interactionCallback(id, token), {
        body: body === undefined ? { type } : { type, data: body },
        query: new URLSearchParams({ with_response: 'false' }),
        auth: false,
      })
      state[then] = true
    } finally {
      settle()
    }
  }
  const answered = () => {
    if (!state.deferred && !state.replied) throw new Error('the interaction has not been acknowledged yet')
  }
  const original = Routes.webhookMessage(applicationId, token, '@original')
  return {
    ...data,
    state,
    acknowledged,
    reply: (message) => callback(CALLBACK.reply, message, 'replied'),
    deferReply: () => callback(CALLBACK.deferReply, { flags: 0 }, 'deferred'),
    deferUpdate: () => callback(CALLBACK.deferUpdate, undefined, 'deferred'),
    update: (message) => callback(CALLBACK.update, message, 'replied'),
    showModal: (modal) => callback(CALLBACK.modal, modal, 'replied'),
    respond: (choices) => callback(CALLBACK.choices, { choices }, 'replied'),
    async followUp(message) {
      answered()
      await rest.post(Routes.webhook(applicationId, token), {
        body: message,
        query: new URLSearchParams({ wait: 'true' }),
        auth: false,
      })
      state.replied = true
    },
    async editReply(message) {
      answered()
      await rest.patch(original, { body: message, auth: false })
      state.replied = true
    },
    async deleteReply() {
      answered()
      await rest.delete(original, { auth: false })
    },
  }
}

/** Discord's epoch: a snowflake's top bits are milliseconds since 2015-01-01. */
const DISCORD_EPOCH = 1_420_070_400_000n

/** When the interaction whose id is `snowflake` was created. */
export function snowflakeTime(snowflake: string): number {
  return Number((BigInt(snowflake) >> 22n) + DISCORD_EPOCH)
}
