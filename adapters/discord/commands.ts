import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js'
import { type Command, type CommandOption, truncate } from '../../src/bot/index.ts'

const OPTION_TYPE = { string: 3, integer: 4, boolean: 5, number: 10 } as const

/** Slash command JSON for Discord: one per flow, typed options, required ones first (Discord rejects otherwise). */
export function commandJson(commands: Command[]): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  return commands.map((c) => ({
    type: 1,
    name: c.name,
    description: truncate(c.description, 100),
    options: [...c.options].sort((a, b) => Number(b.required) - Number(a.required)).map(optionJson),
  }))
}

function optionJson(
  o: CommandOption,
): NonNullable<RESTPostAPIChatInputApplicationCommandsJSONBody['options']>[number] {
  const base = { name: o.name, description: truncate(o.description, 100), required: o.required }
  switch (o.type) {
    case 'string':
      return {
        ...base,
        type: OPTION_TYPE.string,
        ...(o.maxLength === undefined ? {} : { max_length: Math.min(o.maxLength, 6_000) }),
        ...(o.choices === undefined
          ? {}
          : { choices: o.choices.slice(0, 25).map((v) => ({ name: v, value: v })) }),
      }
    case 'integer':
      return { ...base, type: OPTION_TYPE.integer, ...range(o) }
    case 'number':
      return { ...base, type: OPTION_TYPE.number, ...range(o) }
    case 'boolean':
      return { ...base, type: OPTION_TYPE.boolean }
  }
}

function range(o: CommandOption): { min_value?: number; max_value?: number } {
  return {
    ...(o.min === undefined ? {} : { min_value: o.min }),
    ...(o.max === undefined ? {} : { max_value: o.max }),
  }
}

/**
 * Discord permission bits the bot asks for: View Channel (1 << 10) and Send Messages (1 << 11).
 * Replies go through interaction webhooks, which need none; a question that stays open past the
 * interaction's 15 minutes, and the reply after it, are posted and edited by the bot in the channel.
 */
const PERMISSIONS = (1n << 10n) | (1n << 11n)

/** The invite link: the bot, its slash commands, and the channel permissions for questions that outlive an interaction. */
export function inviteUrl(appId: string): string {
  return `https://discord.com/oauth2/authorize?client_id=${appId}&scope=bot%20applications.commands&permissions=${PERMISSIONS}`
}
