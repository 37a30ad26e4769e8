/** The shape of a flow file (zod), and its issues said in the file's own words, at their place. */
import { z } from 'zod'
import { didYouMean, type Problem } from './errors.ts'
import type { Path, Source } from './parse.ts'

const text = (max?: number) => (max === undefined ? z.string().min(1) : z.string().min(1).max(max))

const optionSchema = z.strictObject({
  type: z.enum(['string', 'number', 'integer', 'boolean', 'choice']),
  description: text(100),
  min: z.number().optional(),
  max: z.number().optional(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  optional: z.boolean().optional(),
  choices: z.array(text(100)).min(2).max(25).optional(),
})

const askSchema = z.strictObject({
  prompt: text(),
  choices: z.union([z.array(text(100)), z.record(z.string(), text(100))]).optional(),
  who: z.union([z.enum(['requester', 'anyone']), z.array(text(100)).min(1)]).optional(),
  timeout: text(20).optional(),
  collect: z
    .strictObject({ agree: z.int().min(1).optional(), answers: z.int().min(1).optional() })
    .optional(),
  on_timeout: text(100).optional(),
})

const stepSchema = z.strictObject({
  after: z.unknown().optional(),
  prompt: text().optional(),
  system: text().optional(),
  temperature: z.number().min(0).max(2).optional(),
  model: z
    .string()
    .regex(/^[\w.:/@-]{1,100}$/)
    .optional(),
  repeat: z.int().min(2).max(9).optional(),
  join: z.enum(['vote', 'merge']).optional(),
  route: z.array(text(64)).min(2).max(25).optional(),
  text: text().optional(),
  ask: askSchema.optional(),
})

const fileSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
  description: text(100),
  example: z.record(z.string(), z.unknown()).optional(),
  noun: text(30).optional(),
  first_label: text(80).optional(),
  input: z.record(z.string(), optionSchema).refine((o) => Object.keys(o).length > 0),
  steps: z.record(z.string(), stepSchema).refine((o) => Object.keys(o).length > 0),
  first: z.unknown().optional(),
  final: text(),
})

export type FileOption = z.output<typeof optionSchema>
export type FileAsk = z.output<typeof askSchema>
export type FileStep = z.output<typeof stepSchema>
export type FlowFile = z.output<typeof fileSchema>

type Context = 'flow' | 'option' | 'step' | 'ask' | 'collect'

const KEYS: Record<Context, readonly string[]> = {
  flow: Object.keys(fileSchema.shape),
  option: Object.keys(optionSchema.shape),
  step: Object.keys(stepSchema.shape),
  ask: Object.keys(askSchema.shape),
  collect: ['agree', 'answers'],
}

/** What each key takes, and an example: `[rule, example]`. */
const RULES: Record<string, readonly [string, string]> = {
  'flow.': ['a map with name, description, input, steps and final', 'name: standup'],
  'flow.name': ['1-32 lowercase letters, digits or dashes, starting with a letter', 'standup'],
  'flow.description': ['text of 1 to 100 characters', 'Wins, blockers and next steps'],
  'flow.example': ['a map of option values', '{ notes: "Shipped the login page" }'],
  'flow.noun': ['text of 1 to 30 characters', 'notes'],
  'flow.first_label': ['text of 1 to 80 characters', 'First note'],
  'flow.input': ['a map of options, at least one', '{ notes: { type: string, description: Your notes } }'],
  'flow.steps': ['a map of steps, at least one', '{ wins: { prompt: "List the wins: {{notes}}" } }'],
  'flow.final': ['the name of the step whose output is the answer', 'summary'],
  'option.': ['a map of option settings', '{ type: string, description: Your notes }'],
  'option.type': ['one of string, number, integer, boolean, choice', 'string'],
  'option.description': ['text of 1 to 100 characters', 'What happened since yesterday'],
  'option.min': ['a number (a string: its least length; a number: its least value)', '1'],
  'option.max': ['a number (a string: its most length; a number: its most value)', '2000'],
  'option.default': ['a string, a number or true/false', '5'],
  'option.optional': ['true or false', 'true'],
  'option.choices': ['a list of 2 to 25 texts of 1 to 100 characters', '[short, long]'],
  'step.': ['a map of step settings', '{ prompt: "List the wins: {{notes}}" }'],
  'step.prompt': ['a template (text)', '"List the wins in these notes: {{notes}}"'],
  'step.system': ['a template (text)', '"You are a concise team lead."'],
  'step.temperature': ['a number from 0 to 2', '0.7'],
  'step.model': ['a model name', 'gpt-4o-mini'],
  'step.repeat': ['a whole number from 2 to 9', '5'],
  'step.join': ['vote or merge', 'vote'],
  'step.route': ['a list of 2 to 25 labels', '[bug, question]'],
  'step.text': ['a template (text)', '"Wins: {{wins}}"'],
  'step.ask': [
    'a map: prompt, choices, who, timeout, collect, on_timeout',
    '{ prompt: "Ship it?", choices: [yes, no] }',
  ],
  'ask.prompt': ['a template (text)', '"Ship it?"'],
  'ask.choices': ['a list of texts, or a map of value: label', '[yes, no]'],
  'ask.who': ['requester, anyone, or a list of user ids', 'anyone'],
  'ask.timeout': ['a duration like 90s, 10m, 2h or 1d', '10m'],
  'ask.collect': ['a map with agree and/or answers', '{ agree: 3 }'],
  'ask.on_timeout': ['one of the choices', 'no'],
  'collect.agree': ['a whole number, 1 or more', '3'],
  'collect.answers': ['a whole number, 1 or more', '5'],
}

/** The file's value checked against the format: the typed file, or its problems. */
export function checkShape(source: Source): { file: FlowFile | undefined; problems: Problem[] } {
  const parsed = fileSchema.safeParse(source.value)
  if (parsed.success) return { file: parsed.data, problems: [] }
  const problems: Problem[] = []
  for (const issue of parsed.error.issues) problems.push(...problemsOf(source, issue))
  return { file: undefined, problems }
}

function problemsOf(source: Source, issue: z.ZodError['issues'][number]): Problem[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const place = placeOf([...path, k])
      const known = KEYS[place.context]
      return {
        ...source.keyAt([...path, k]),
        message: `${place.owner} has an unknown key '${k}'${didYouMean(k, known)}. Its keys are: ${known.join(', ')}`,
      }
    })
  }
  const { context, key, owner } = placeOf(path)
  const [rule, example] = RULES[`${context}.${key}`] ?? ['something else', '…']
  const value = valueAt(source.value, path)
  const field = key === '' ? owner : `'${key}' of ${owner}`
  if (value === undefined)
    return [{ ...source.keyAt(path), message: `${owner} has no '${key}'. Add ${key}: ${example}` }]
  return [
    {
      ...source.at(path),
      message: `${field} must be ${rule}, not ${shown(value)}. Write for example ${key === '' ? '' : `${key}: `}${example}`,
    },
  ]
}

/** Which map an issue's path is in, the key within it, and that map in words. */
function placeOf(path: Path): { context: Context; key: string; owner: string } {
  const [top, name, third, fourth, fifth] = path.map(String)
  if (top === 'input' && name !== undefined)
    return { context: 'option', key: third ?? '', owner: `option '${name}'` }
  if (top === 'steps' && name !== undefined) {
    if (third === 'ask' && fourth === 'collect' && path.length >= 5)
      return { context: 'collect', key: fifth ?? '', owner: `the ask's collect in step '${name}'` }
    if (third === 'ask' && fourth !== undefined)
      return { context: 'ask', key: fourth, owner: `the ask in step '${name}'` }
    return { context: 'step', key: third ?? '', owner: `step '${name}'` }
  }
  return { context: 'flow', key: top ?? '', owner: top === undefined ? 'the file' : 'the flow' }
}

function valueAt(value: unknown, path: Path): unknown {
  let at = value
  for (const key of path)
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined
  return at
}

function shown(value: unknown): string {
  const text =
    typeof value === 'string'
      ? JSON.stringify(value)
      : Array.isArray(value)
        ? 'a list'
        : typeof value === 'object' && value !== null
          ? 'a map'
          : String(value)
  return text.length > 40 ? `${text.slice(0, 39)}…"` : text
}
