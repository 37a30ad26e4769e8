import { readdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { z } from 'zod'
import type { AnyFlow } from '../../engine/index.ts'
import { ChorusError } from '../../errors.ts'
import { FLOW_FILE, loadFlowFile } from '../../flowfile/index.ts'
import type { Command, CommandOption } from './types.ts'

/** The default folder of flows: one command per file. */
export const FLOWS_DIR = fileURLToPath(new URL('../../../flows/', import.meta.url))

export interface Registered {
  command: Command
  flow: AnyFlow
}

/**
 * Loads every flow in the folder, sorted by file name: each `*.ts` file default-exports a flow, each
 * `*.yaml`, `*.yml` or `*.json` file declares one (src/flowfile); each becomes a command. A file that
 * does not load, or a name two files take, stops here with the file (and line) to fix.
 */
export async function loadFlows(dir: string = FLOWS_DIR): Promise<Registered[]> {
  const report = await checkFlows(dir)
  if (report.errors.length > 0) throw report.errors[0]
  return report.registered
}

/** What `checkFlows` found: the flows that load, every file's error, and the flow files' warnings. */
export interface FlowsReport {
  registered: Registered[]
  errors: unknown[]
  warnings: string[]
}

/** Loads every flow in the folder as `loadFlows` does, but goes on past a bad file (`npm run flows:check`). */
export async function checkFlows(dir: string = FLOWS_DIR): Promise<FlowsReport> {
  const folder = basename(dir)
  const files = (await readdir(dir))
    .filter((f) => (f.endsWith('.ts') && !f.endsWith('.d.ts')) || FLOW_FILE.test(f))
    .sort()
  const report: FlowsReport = { registered: [], errors: [], warnings: [] }
  const taken = new Map<string, { label: string; at: string | undefined }>()
  for (const file of files) {
    const label = `${folder}/${file}`
    try {
      const { flow, at, warnings } = FLOW_FILE.test(file)
        ? await fromFile(dir, file, label)
        : await fromModule(dir, file, label)
      report.warnings.push(...warnings)
      const other = taken.get(flow.name)
      if (other !== undefined) {
        // Said at the flow file's `name:` when one of the two is a file.
        const [where, also] =
          at === undefined && other.at !== undefined ? [other.at, label] : [at ?? label, other.label]
        throw new ChorusError(
          'flow_duplicate',
          `${where}: the flow name '${flow.name}' is also the name of ${also}. Give one of the two flows another name`,
        )
      }
      taken.set(flow.name, { label, at })
      report.registered.push({ flow, command: commandOf(flow) })
    } catch (error) {
      report.errors.push(error)
    }
  }
  return report
}

interface Loaded {
  flow: AnyFlow
  /** `file:line:col` of a flow file's name. */
  at: string | undefined
  warnings: string[]
}

async function fromFile(dir: string, file: string, label: string): Promise<Loaded> {
  const { flow, nameAt, warnings } = await loadFlowFile(join(dir, file), label)
  return {
    flow,
    at: `${label}:${nameAt.line}:${nameAt.col}`,
    warnings: warnings.map((w) => `${label}:${w.line}:${w.col}: ${w.message}`),
  }
}

async function fromModule(dir: string, file: string, label: string): Promise<Loaded> {
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default?: AnyFlow }
  const flow = mod.default
  if (flow === undefined || typeof flow.build !== 'function') {
    throw new ChorusError('flow_invalid', `${label} must default-export a flow made with defineFlow()`)
  }
  return { flow, at: undefined, warnings: [] }
}

/** Derives a command (name, options, usage) from a flow and its zod input schema. */
export function commandOf(flow: AnyFlow): Command {
  const shape = (flow.input as unknown as { shape?: Record<string, z.ZodType> }).shape
  if (shape === undefined)
    throw new ChorusError('flow_invalid', `flow '${flow.name}': its input must be a z.object`)
  const primaryName = (flow.meta?.primary as string | undefined) ?? Object.keys(shape)[0]
  const options = Object.entries(shape).map(([name, schema]) => optionOf(name, schema, name === primaryName))
  const usage = [
    `/${flow.name}`,
    ...options.map((o) => {
      if (o.primary) return o.required ? `<${o.name}>` : `[${o.name}]`
      // A text option shows its default as the example of what it takes (`--for 10m`).
      const example = o.type === 'string' ? (o.default === undefined ? 'text' : String(o.default)) : o.type
      const range =
        o.choices?.join('|') ?? (o.min !== undefined && o.max !== undefined ? `${o.min}-${o.max}` : example)
      return `[--${o.name} ${range}]`
    }),
  ].join(' ')
  return {
    name: flow.name,
    description: flow.description,
    usage,
    options: [...options].sort((a, b) => Number(b.primary) - Number(a.primary)),
    noun: (flow.meta?.noun as string | undefined) ?? 'tasks',
  }
}

type Def = { type: string; innerType?: z.ZodType; defaultValue?: unknown; in?: z.ZodType; out?: z.ZodType }
type Introspect = {
  _zod: { def: Def }
  description?: string
  minLength?: number | null
  maxLength?: number | null
  minValue?: number | null
  maxValue?: number | null
  isInt?: boolean
  options?: unknown[]
}

function optionOf(name: string, schema: z.ZodType, primary: boolean): CommandOption {
  let s = schema as unknown as Introspect
  let required = true
  let defaultValue: unknown
  let description = s.description
  for (;;) {
    const def = s._zod.def
    if (def.type === 'optional' || def.type === 'nullable') required = false
    else if (def.type === 'default') {
      required = false
      defaultValue = def.defaultValue
    } else if (def.type === 'pipe' && def.in !== undefined) {
      s = def.in as unknown as Introspect
      description ??= s.description
      continue
    } else break
    s = def.innerType as unknown as Introspect
    description ??= s.description
  }
  const kind = s._zod.def.type
  const option: CommandOption = {
    name,
    description: description ?? name,
    type: kind === 'number' ? (s.isInt ? 'integer' : 'number') : kind === 'boolean' ? 'boolean' : 'string',
    required,
    primary,
  }
  if (defaultValue !== undefined) option.default = defaultValue
  if (typeof s.minValue === 'number' && Number.isFinite(s.minValue)) option.min = s.minValue
  if (typeof s.maxValue === 'number' && Number.isFinite(s.maxValue)) option.max = s.maxValue
  if (typeof s.maxLength === 'number') option.maxLength = s.maxLength
  if (kind === 'enum' && Array.isArray(s.options)) option.choices = s.options.map(String)
  return option
}
