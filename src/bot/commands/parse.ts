import type { z } from 'zod'
import type { AnyFlow } from '../../engine/index.ts'
import type { Command, CommandOption, ParseResult } from './types.ts'

/** Longest command text Chorus accepts, whatever the flow allows. */
export const MAX_COMMAND_TEXT = 4_000

/**
 * Parses `/cmd free text --option value` into the flow's input: the free text goes to the primary
 * option, `--name value` (or `--name=value`) to the others. Any problem yields a usage message.
 */
export function parseText(command: Command, flow: AnyFlow, text: string): ParseResult {
  const trimmed = text.trim()
  // `/brainstorm help` says what the command does and takes (Slack's Marketplace review expects it).
  if (/^(help|--help|-h|\?)$/i.test(trimmed)) return { ok: false, message: helpOf(command) }
  if (trimmed.length > MAX_COMMAND_TEXT) {
    return fail(
      command,
      `That is ${trimmed.length} characters; /${command.name} takes at most ${MAX_COMMAND_TEXT}.`,
    )
  }
  const values: Record<string, unknown> = {}
  const free: string[] = []
  // A quoted value is one token: `--choices "Tea | Coffee"` (straight or curly quotes, as Slack sends them).
  const tokens = trimmed.match(/--[a-z][\w-]*=(?:"[^"]*"|“[^”]*”)|"[^"]*"|“[^”]*”|\S+/gi) ?? []
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string
    const m = /^--([a-z][\w-]*)(?:=(.*))?$/i.exec(token)
    if (m === null) {
      free.push(token)
      continue
    }
    const name = m[1] as string
    const option = command.options.find((o) => o.name === name && !o.primary)
    if (option === undefined) {
      const known = command.options.filter((o) => !o.primary).map((o) => `--${o.name}`)
      return fail(
        command,
        `Unknown option --${name}.${known.length > 0 ? ` Options: ${known.join(', ')}.` : ''}`,
      )
    }
    let value = m[2]
    if (value === undefined && option.type === 'boolean') value = 'true'
    if (value === undefined) {
      value = tokens[++i]
      if (value === undefined) return fail(command, `--${name} needs a value.`)
    }
    values[name] = unquote(value)
  }
  const primary = command.options.find((o) => o.primary)
  // Keep the free text as the user wrote it (line breaks included), minus the flags.
  const freeText = free.length === 0 ? '' : stripFlags(trimmed, command)
  if (primary !== undefined && freeText.length > 0) values[primary.name] = freeText
  return parseOptions(command, flow, values)
}

/** Validates typed option values (as Discord sends them) against the flow's schema. */
export function parseOptions(command: Command, flow: AnyFlow, values: Record<string, unknown>): ParseResult {
  const coerced: Record<string, unknown> = {}
  for (const [name, raw] of Object.entries(values)) {
    const option = command.options.find((o) => o.name === name)
    if (option === undefined) return fail(command, `Unknown option ${name}.`)
    coerced[name] = coerce(option, raw)
  }
  const parsed = (flow.input as z.ZodType).safeParse(coerced)
  if (parsed.success) return { ok: true, input: parsed.data as Record<string, unknown> }
  const issue = parsed.error.issues[0]
  const name = String(issue?.path[0] ?? '')
  const option = command.options.find((o) => o.name === name)
  // A flow's own check (`.refine(…, 'a duration like 10m')`) says best what it takes.
  const own =
    issue?.code === 'custom' && option !== undefined ? `--${option.name} takes ${issue.message}.` : undefined
  return fail(
    command,
    own ?? (option === undefined ? (issue?.message ?? 'Invalid input.') : explain(option, coerced[name])),
  )
}

function coerce(option: CommandOption, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw
  if (option.type === 'integer' || option.type === 'number') return raw.trim() === '' ? raw : Number(raw)
  if (option.type === 'boolean') return ['true', 'yes', '1', 'on'].includes(raw.toLowerCase())
  return raw
}

/** A sentence about what the option takes, for the value that was given. */
function explain(option: CommandOption, value: unknown): string {
  const label = option.primary ? `the ${option.name}` : `--${option.name}`
  if (value === undefined || (typeof value === 'string' && value.trim() === '')) {
    return option.primary ? `Please give ${label}.` : `${label} needs a value.`
  }
  if (option.choices !== undefined) return `${label} must be one of ${option.choices.join(', ')}.`
  if (option.type === 'integer' || option.type === 'number') {
    const range =
      option.min !== undefined && option.max !== undefined ? ` from ${option.min} to ${option.max}` : ''
    return `${label} must be ${option.type === 'integer' ? 'a whole number' : 'a number'}${range}.`
  }
  if (option.maxLength !== undefined && typeof value === 'string' && value.length > option.maxLength) {
    return `${cap(label)} is ${value.length} characters; the most is ${option.maxLength}.`
  }
  return `${cap(label)} is not valid.`
}

/** What `/<command> help` answers: the command, its usage and each option with what it takes. */
export function helpOf(command: Command): string {
  const lines = [`*/${command.name}*: ${command.description}`, `Usage: \`${command.usage}\``]
  for (const o of command.options) {
    const takes =
      o.choices?.join(', ') ??
      (o.min !== undefined && o.max !== undefined ? `${o.min} to ${o.max}` : o.primary ? 'text' : o.type)
    const fallback = o.default === undefined ? '' : `, default ${String(o.default)}`
    const name = o.primary ? `<${o.name}>` : `--${o.name}`
    lines.push(`• \`${name}\`: ${o.description || o.name} (${takes}${fallback})`)
  }
  return lines.join('\n')
}

function fail(command: Command, problem: string): ParseResult {
  return { ok: false, message: `${problem}\nUsage: \`${command.usage}\`` }
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

function stripFlags(text: string, command: Command): string {
  let out = text
  for (const o of command.options) {
    if (o.primary) continue
    const quoted = `"[^"]*"|“[^”]*”`
    const valued = o.type === 'boolean' ? `(?:=\\S*)?` : `(?:=(?:${quoted}|\\S*)|\\s+(?:${quoted}|\\S+))`
    out = out.replace(new RegExp(`(^|\\s)--${o.name}${valued}(?=\\s|$)`, 'gi'), ' ')
  }
  return out
    .replace(/[ \t]+\n/g, '\n')
    .replace(/[ \t]{2,}/g, ' ')
    .trim()
}

/** A quoted value without its quotes. */
function unquote(value: string): string {
  const m = /^(?:"([^"]*)"|“([^”]*)”)$/.exec(value)
  return m === null ? value : (m[1] ?? m[2] ?? '')
}
