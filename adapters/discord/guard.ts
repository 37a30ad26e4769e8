import {
  type Client,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  type REST,
  Routes,
} from 'discord.js'
import type { Logger } from 'pino'
import { z } from 'zod'
import { ChorusError } from '../../src/bot/index.ts'
import { NO_MENTIONS } from './render.ts'

/** discord.js 14.28's InteractionCreate action (`client.actions` is private). */
interface Action {
  handle(data: unknown): unknown
}

/** The client's internals are not what this guard was written against (an SDK upgrade). */
export class InteractionGuardError extends ChorusError {}

export const INCOMPLETE_TEXT =
  'Discord sent this command incomplete, so Chorus could not read it. Please try it again.'

const Snowflake = z.string().min(1)
type Option = { name: string; type: number; options?: Option[] | undefined }
const Option: z.ZodType<Option> = z.lazy(() =>
  z.object({ name: z.string(), type: z.number(), options: z.array(Option).optional() }),
)
const User = z.object({ id: Snowflake })
/** What discord.js builds each interaction type from without checking. */
const DATA: Partial<Record<number, z.ZodType>> = {
  [InteractionType.ApplicationCommand]: z.object({
    type: z.number(),
    name: z.string(),
    options: z.array(Option).optional(),
  }),
  [InteractionType.ApplicationCommandAutocomplete]: z.object({
    type: z.number(),
    name: z.string(),
    options: z.array(Option).optional(),
  }),
  [InteractionType.MessageComponent]: z.object({ custom_id: z.string(), component_type: z.number() }),
  [InteractionType.ModalSubmit]: z.object({ custom_id: z.string() }),
}
const RawInteraction = z
  .object({
    id: Snowflake,
    token: z.string().min(1),
    type: z.number(),
    data: z.unknown(),
    channel: z.object({ id: Snowflake }).optional(),
    user: User.optional(),
    member: z.object({ user: User }).optional(),
    message: z.object({ id: Snowflake }).optional(),
    entitlements: z.array(z.unknown()),
    authorizing_integration_owners: z.record(z.string(), z.unknown()),
  })
  .refine((d) => d.user !== undefined || d.member !== undefined, {
    message: 'neither user nor member',
    path: ['user'],
  })
  .refine((d) => d.type !== InteractionType.MessageComponent || d.message !== undefined, {
    message: 'a component interaction without its message',
    path: ['message'],
  })
  .superRefine((d, ctx) => {
    const schema = DATA[d.type]
    const checked = schema?.safeParse(d.data)
    for (const issue of checked?.success === false ? checked.error.issues : [])
      ctx.addIssue({ code: 'custom', message: issue.message, path: ['data', ...issue.path] })
  })

/**
 * Makes a malformed INTERACTION_CREATE harmless: it is logged (id and type, never the token) and
 * answered with an ephemeral explanation instead of throwing inside discord.js' gateway handler.
 */
export function guardInteractions(client: Client, log: Logger, rest: REST = client.rest): void {
  if (guarded.has(client)) return
  const action = (client as unknown as { actions?: { InteractionCreate?: Action } }).actions
    ?.InteractionCreate
  if (typeof action?.handle !== 'function')
    throw new InteractionGuardError(
      'discord_interaction_internals',
      'discord.js has no actions.InteractionCreate.handle(); adapters/discord/guard.ts was written for 14.28, update it for this version',
    )
  const handle = action.handle.bind(action)
  action.handle = (data: unknown) => {
    const frame = (typeof data === 'object' && data !== null ? data : {}) as { id?: unknown; type?: unknown }
    const fields = { id: frame.id, type: frame.type }
    const checked = RawInteraction.safeParse(data)
    if (!checked.success) {
      log.warn({ ...fields, problem: z.prettifyError(checked.error) }, 'discord.interaction_malformed')
      explain(rest, log, data)
      return
    }
    try {
      return handle(data)
    } catch (error) {
      log.error({ ...fields, err: error }, 'discord.interaction_failed')
    }
  }
  guarded.add(client)
}

/** Clients already guarded: a second call would validate and explain each frame twice. */
const guarded = new WeakSet<Client>()

function explain(rest: REST, log: Logger, data: unknown): void {
  const { id, token } = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>
  if (typeof id !== 'string' || typeof token !== 'string' || id === '' || token === '') return
  rest
    .post(Routes.interactionCallback(id, token), {
      auth: false,
      body: {
        type: InteractionResponseType.ChannelMessageWithSource,
        data: { content: INCOMPLETE_TEXT, flags: MessageFlags.Ephemeral, allowed_mentions: NO_MENTIONS },
      },
    })
    .catch((error: unknown) => {
      // The error's URL carries the interaction token: log its code only.
      const { code, status } = (error ?? {}) as { code?: unknown; status?: unknown }
      log.warn({ id, code, status }, 'discord.interaction_explain_failed')
    })
}
