import type { REST } from 'discord.js'
import { z } from 'zod'
import {
  type Interaction,
  type InteractionData,
  type InteractionKind,
  interaction,
  snowflakeTime,
} from './interaction.ts'

const Snowflake = z.string().regex(/^\d{1,20}$/)
const User = z.object({ id: Snowflake, username: z.string(), global_name: z.string().nullish() })
type Option = { name: string; value?: unknown; focused?: boolean | undefined }
const Option = z.object({ name: z.string(), value: z.unknown().optional(), focused: z.boolean().optional() })
/** A modal's text input, in an action row (type 1) or, in newer modals, a label (type 18). */
const TextInput = z.object({ type: z.literal(4), custom_id: z.string(), value: z.string().optional() })
const ModalRow = z.object({
  type: z.number(),
  components: z.array(z.unknown()).optional(),
  component: z.unknown().optional(),
})

/** The fields Chorus reads of an interaction Discord POSTs to the Interactions Endpoint URL. */
const Payload = z
  .object({
    id: Snowflake,
    application_id: Snowflake,
    type: z.number(),
    token: z.string().min(1),
    guild_id: Snowflake.optional(),
    channel_id: Snowflake.optional(),
    channel: z.object({ id: Snowflake }).optional(),
    member: z.object({ user: User }).optional(),
    user: User.optional(),
    message: z.object({ id: Snowflake }).optional(),
    data: z
      .object({
        name: z.string().optional(),
        options: z.array(Option).optional(),
        custom_id: z.string().optional(),
        component_type: z.number().optional(),
        values: z.array(z.string()).optional(),
        components: z.array(ModalRow).optional(),
      })
      .optional(),
  })
  .refine((d) => d.member !== undefined || d.user !== undefined, {
    message: 'neither member nor user',
    path: ['user'],
  })

/** Discord's interaction types: 2 a command, 3 a component, 4 autocomplete, 5 a modal submit. */
function kindOf(type: number, componentType: number | undefined): InteractionKind | undefined {
  if (type === 2) return 'command'
  if (type === 4) return 'autocomplete'
  if (type === 5) return 'modal'
  if (type !== 3) return undefined
  return componentType === 2 ? 'button' : componentType === 3 ? 'select' : 'component'
}

/**
 * An interaction POSTed by Discord as the listeners' plain shape, answered through `rest`; or why it
 * cannot be read (logged, and answered with an explanation when it has an id and a token).
 */
export function fromPayload(body: unknown, rest: REST): Interaction | { problem: string } {
  const parsed = Payload.safeParse(body)
  if (!parsed.success) return { problem: z.prettifyError(parsed.error) }
  const p = parsed.data
  const kind = kindOf(p.type, p.data?.component_type)
  if (kind === undefined) return { problem: `interaction type ${p.type} is not one Chorus answers` }
  const who = p.member?.user ?? p.user
  if (who === undefined) return { problem: 'neither member nor user' }
  const command = kind === 'command' || kind === 'autocomplete'
  if (command && p.data?.name === undefined) return { problem: 'a command without its name' }
  if (!command && p.data?.custom_id === undefined) return { problem: 'a component without its custom_id' }
  const data: InteractionData = {
    kind,
    id: p.id,
    applicationId: p.application_id,
    token: p.token,
    createdAt: snowflakeTime(p.id),
    user: { id: who.id, name: who.global_name ?? who.username },
    guildId: p.guild_id,
    channelId: p.channel_id ?? p.channel?.id,
    commandName: command ? (p.data?.name ?? '') : '',
    options: command ? (p.data?.options ?? []).map(optionOf) : [],
    customId: command ? '' : (p.data?.custom_id ?? ''),
    values: p.data?.values ?? [],
    fields: kind === 'modal' ? textInputs(p.data?.components ?? []) : {},
    fromMessage: p.message !== undefined,
  }
  return interaction(data, rest)
}

function optionOf(o: Option): InteractionData['options'][number] {
  return { name: o.name, value: o.value, ...(o.focused === true ? { focused: true } : {}) }
}

function textInputs(rows: Array<z.infer<typeof ModalRow>>): Record<string, string> {
  const form: Record<string, string> = {}
  for (const row of rows)
    for (const c of [...(row.components ?? []), ...(row.component === undefined ? [] : [row.component])]) {
      const input = TextInput.safeParse(c)
      if (input.success) form[input.data.custom_id] = input.data.value ?? ''
    }
  return form
}
