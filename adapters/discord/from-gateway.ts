import { ComponentType, type Interaction as GatewayInteraction, type REST } from 'discord.js'
import { type Interaction, type InteractionData, type InteractionKind, interaction } from './interaction.ts'

/**
 * A discord.js interaction (from the gateway) as the listeners' plain shape, answered through `rest`;
 * undefined for kinds Chorus has no listener for (context-menu commands).
 */
export function fromGateway(i: GatewayInteraction, rest: REST): Interaction | undefined {
  const kind = kindOf(i)
  if (kind === undefined) return undefined
  const data: InteractionData = {
    kind,
    id: i.id,
    applicationId: i.applicationId,
    token: i.token,
    createdAt: i.createdTimestamp,
    user: { id: i.user.id, name: i.user.globalName ?? i.user.username },
    guildId: i.guildId ?? undefined,
    channelId: i.channelId ?? undefined,
    commandName: i.isChatInputCommand() || i.isAutocomplete() ? i.commandName : '',
    options:
      i.isChatInputCommand() || i.isAutocomplete()
        ? i.options.data.map((o) => ({
            name: o.name,
            value: o.value,
            ...(o.focused ? { focused: true } : {}),
          }))
        : [],
    customId: i.isMessageComponent() || i.isModalSubmit() ? i.customId : '',
    values: i.isStringSelectMenu() ? [...i.values] : [],
    fields: i.isModalSubmit() ? textInputs(i.fields.fields.values()) : {},
    fromMessage: i.isModalSubmit() && i.isFromMessage(),
  }
  return interaction(data, rest)
}

function kindOf(i: GatewayInteraction): InteractionKind | undefined {
  if (i.isChatInputCommand()) return 'command'
  if (i.isAutocomplete()) return 'autocomplete'
  if (i.isModalSubmit()) return 'modal'
  if (i.isButton()) return 'button'
  if (i.isStringSelectMenu()) return 'select'
  if (i.isMessageComponent()) return 'component'
  return undefined
}

function textInputs(
  fields: Iterable<{ type: ComponentType; customId: string; value?: unknown }>,
): Record<string, string> {
  const form: Record<string, string> = {}
  for (const field of fields)
    if (field.type === ComponentType.TextInput) form[field.customId] = String(field.value ?? '')
  return form
}
