/** A file's options as the zod object a TypeScript flow would write, so commands come out the same. */
import { z } from 'zod'
import type { Problem } from './errors.ts'
import type { Source } from './parse.ts'
import type { FileOption, FlowFile } from './shape.ts'

/** The longest text option when a file sets no `max` (as a slash command's text allows). */
export const TEXT_MAX = 2_000

type Options = FlowFile['input']

/** The flow's input schema: `z.object` of the options, in the file's order. */
export function inputSchema(options: Options): z.ZodObject {
  const shape: Record<string, z.ZodType> = {}
  for (const [name, option] of Object.entries(options)) shape[name] = optionSchema(option)
  return z.object(shape)
}

function optionSchema(option: FileOption): z.ZodType {
  let schema: z.ZodType = baseSchema(option)
  if (option.default !== undefined) schema = (schema as z.ZodString).default(option.default as never)
  else if (option.optional === true) schema = schema.optional()
  return schema.describe(option.description)
}

function baseSchema(option: FileOption): z.ZodType {
  const { min, max } = option
  switch (option.type) {
    case 'string':
      return z
        .string()
        .trim()
        .min(min ?? 1)
        .max(max ?? TEXT_MAX)
    case 'boolean':
      return z.boolean()
    case 'choice':
      return z.enum((option.choices ?? []) as [string, ...string[]])
    default: {
      let n = option.type === 'integer' ? z.number().int() : z.number()
      if (min !== undefined) n = n.min(min)
      if (max !== undefined) n = n.max(max)
      return n
    }
  }
}

/** What is wrong with the options: settings that do not apply to a type, bounds, defaults. */
export function checkOptions(source: Source, options: Options): Problem[] {
  const problems: Problem[] = []
  for (const [name, option] of Object.entries(options)) {
    const at = (key: string) => source.keyAt(['input', name, key])
    const say = (key: string, message: string) =>
      problems.push({ ...at(key), message: `option '${name}': ${message}` })
    const { type, min, max } = option
    if ((type === 'boolean' || type === 'choice') && (min !== undefined || max !== undefined))
      say(min !== undefined ? 'min' : 'max', `min and max do not apply to a ${type} option. Remove them`)
    if (type === 'string') {
      for (const [key, v] of [
        ['min', min],
        ['max', max],
      ] as const)
        if (v !== undefined && (!Number.isInteger(v) || v < 0))
          say(key, `${key} is a length here: a whole number, 0 or more. Write for example ${key}: 200`)
    }
    if (min !== undefined && max !== undefined && min > max)
      say('min', `min ${min} is above max ${max}. Swap them`)
    if (type === 'choice' && option.choices === undefined)
      say('type', 'a choice option needs its choices. Add choices: [short, long]')
    if (type !== 'choice' && option.choices !== undefined)
      say('choices', `choices apply to a choice option. Write type: choice, or remove the choices`)
    if (option.default !== undefined && option.optional !== undefined)
      say('optional', 'an option with a default is already optional. Remove optional')
    if (option.default !== undefined && problems.length === 0) {
      const fits = baseSchema(option).safeParse(option.default)
      if (!fits.success)
        problems.push({
          ...source.at(['input', name, 'default']),
          message: `option '${name}': default ${JSON.stringify(option.default)} is not a valid value: ${fits.error.issues[0]?.message}. Change it`,
        })
    }
  }
  return problems
}

/** The file's example checked against its options. */
export function checkExample(source: Source, file: FlowFile, schema: z.ZodObject): Problem[] {
  if (file.example === undefined) return []
  const parsed = schema.safeParse(file.example)
  if (parsed.success) return []
  return parsed.error.issues.map((issue) => ({
    ...source.at(['example', ...issue.path.map(String)]),
    message: `the example does not fit the options (${issue.path.join('.') || 'example'}: ${issue.message}). Change the example`,
  }))
}

/** An input that fits the options, to build the graph with when the file gives no example. */
export function exampleOf(options: Options): Record<string, unknown> {
  const example: Record<string, unknown> = {}
  for (const [name, option] of Object.entries(options)) {
    if (option.default !== undefined || option.optional === true) continue
    const { min, max } = option
    if (option.type === 'string') example[name] = 'x'.repeat(Math.max(1, min ?? 1))
    else if (option.type === 'boolean') example[name] = false
    else if (option.type === 'choice') example[name] = option.choices?.[0]
    else
      example[name] = Math.min(Math.max(0, Math.ceil(min ?? 0)), Math.floor(max ?? Number.MAX_SAFE_INTEGER))
  }
  return example
}
