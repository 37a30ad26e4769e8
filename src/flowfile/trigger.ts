/** A trigger as written in a file (`wins`, `{ all: [a, b] }`, `{ quorum: 2, of: [...] }`), read with its place. */
import type { Problem } from './errors.ts'
import type { Path, Source } from './parse.ts'

export type TriggerNode =
  | { kind: 'ref'; name: string; path: Path }
  | { kind: 'any'; inputs: TriggerNode[]; cancelRest: boolean; path: Path }
  | { kind: 'all'; inputs: TriggerNode[]; partial: boolean; path: Path }
  | { kind: 'quorum'; k: number; inputs: TriggerNode[]; cancelRest: boolean; path: Path }

const KEYS = {
  any: ['any', 'cancel_rest'],
  all: ['all', 'partial'],
  quorum: ['quorum', 'of', 'cancel_rest'],
} as const

const FORMS =
  'a step or label name, { any: [...] }, { all: [...], partial: true } or { quorum: k, of: [...] }'

/** Reads the trigger at `path`; what is wrong with it goes to `problems`. */
export function readTrigger(
  source: Source,
  path: Path,
  value: unknown,
  problems: Problem[],
): TriggerNode | undefined {
  const fail = (at: Path, message: string): undefined => {
    problems.push({ ...source.at(at), message })
    return undefined
  }
  if (typeof value === 'string') return { kind: 'ref', name: value, path }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const what = Array.isArray(value) ? 'a list' : JSON.stringify(value)
    return fail(path, `${what} is not a trigger. Write ${FORMS}`)
  }
  const map = value as Record<string, unknown>
  const kinds = (['any', 'all', 'quorum'] as const).filter((k) => k in map)
  if (kinds.length !== 1) {
    const why = kinds.length === 0 ? 'names no join' : `names ${kinds.join(' and ')} at once`
    return fail(path, `this trigger ${why}. Write ${FORMS}`)
  }
  const kind = kinds[0] as 'any' | 'all' | 'quorum'
  for (const key of Object.keys(map)) {
    if (!(KEYS[kind] as readonly string[]).includes(key)) {
      problems.push({
        ...source.keyAt([...path, key]),
        message: `'${key}' does not belong in ${kind === 'quorum' ? 'a quorum' : `an ${kind}`} trigger. Its keys are: ${KEYS[kind].join(', ')}`,
      })
    }
  }
  const listKey = kind === 'quorum' ? 'of' : kind
  const list = map[listKey]
  if (!Array.isArray(list) || list.length === 0)
    return fail(
      [...path, listKey],
      `'${listKey}' must be a list of one or more triggers, like [wins, blockers]`,
    )
  const inputs = list.map((input, i) => readTrigger(source, [...path, listKey, i], input, problems))
  if (inputs.some((i) => i === undefined)) return undefined
  const known = inputs as TriggerNode[]
  const flag = (key: string): boolean | undefined => {
    const v = map[key]
    if (v === undefined || typeof v === 'boolean') return v ?? false
    return fail([...path, key], `'${key}' must be true or false`)
  }
  if (kind === 'all') {
    const partial = flag('partial')
    return partial === undefined ? undefined : { kind, inputs: known, partial, path }
  }
  const cancelRest = flag('cancel_rest')
  if (cancelRest === undefined) return undefined
  if (kind === 'any') return { kind, inputs: known, cancelRest, path }
  const k = map.quorum
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > known.length) {
    return fail(
      [...path, 'quorum'],
      `quorum must be a whole number from 1 to ${known.length} (the number of triggers in 'of'), not ${JSON.stringify(k)}`,
    )
  }
  return { kind, k, inputs: known, cancelRest, path }
}

/** Every name the trigger refers to, with its place. */
export function refsOf(node: TriggerNode): Array<{ name: string; path: Path }> {
  if (node.kind === 'ref') return [{ name: node.name, path: node.path }]
  return node.inputs.flatMap(refsOf)
}
