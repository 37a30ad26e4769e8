/**
 * What a step's templates may read, by its trigger: `after: a` gives `{{a}}`; `all` gives each of its
 * steps and `{{values}}`; `any` gives `{{value}}`, `{{from}}` and the winner by name; `quorum` gives
 * `{{values}}` and each finished step by name; a router's label gives what the router itself had.
 * The names are checked at load (`namesOf`) and filled per call (`joinOf`), by the same rules.
 */
import { all, any, inputName, quorum, type Trigger } from '../engine/index.ts'
import type { TriggerNode } from './trigger.ts'

/** Names the joins themselves provide; no option, step or label may take them. */
export const JOIN_NAMES = ['value', 'from', 'values'] as const

/** Values for a template, and the trigger's payload as one text (for `{{value}}`, `{{values}}`, a first result). */
export interface Scope {
  vars: Record<string, string>
  text: string
}

/** For a name in a trigger: null when it is a step; for a label, its router's trigger (undefined: none). */
export type RouterTrigger = (name: string) => TriggerNode | undefined | null

/** The names a trigger provides to the templates of the step that listens to it. */
export function namesOf(node: TriggerNode, routerOf: RouterTrigger, seen = new Set<string>()): Set<string> {
  if (node.kind === 'ref') {
    const router = routerOf(node.name)
    if (router === null) return new Set([node.name])
    if (router === undefined || seen.has(node.name)) return new Set()
    seen.add(node.name)
    return namesOf(router, routerOf, seen)
  }
  const names = new Set(node.inputs.flatMap((input) => [...namesOf(input, routerOf, seen)]))
  if (node.kind === 'any') names.add('value').add('from')
  else names.add('values')
  return names
}

/** A trigger for the engine, and how to read its payload into template values. */
export interface Joined {
  trigger: Trigger<unknown>
  read(payload: unknown): Scope
}

/** The engine trigger for `node`, with the reader of what it passes. */
export function joinOf(node: TriggerNode, routerOf: RouterTrigger): Joined {
  if (node.kind === 'ref') {
    const router = routerOf(node.name)
    if (router === null) {
      const name = node.name
      return { trigger: { kind: 'step', name } as Trigger<unknown>, read: (p) => leaf(name, textOf(p)) }
    }
    // A label passes what its router was given: read it as the router's own trigger would be.
    return {
      trigger: { kind: 'label', name: node.name } as Trigger<unknown>,
      read: (p) => (router === undefined ? { vars: {}, text: '' } : joinOf(router, routerOf).read(p)),
    }
  }
  const inputs = node.inputs.map((input) => joinOf(input, routerOf))
  const triggers = inputs.map((i) => i.trigger)
  if (node.kind === 'any') {
    return {
      trigger: any(triggers, { cancelRest: node.cancelRest }),
      read: (p) => {
        const { step, value } = p as { step: string; value: unknown }
        const scope = (inputs.find((i) => inputName(i.trigger) === step) as Joined).read(value)
        return { vars: { ...scope.vars, value: scope.text, from: step }, text: scope.text }
      },
    }
  }
  if (node.kind === 'all') {
    return {
      trigger: node.partial ? all(triggers, { partial: true }) : all(triggers),
      read: (p) => {
        if (!node.partial) return merged((p as unknown[]).map((v, i) => (inputs[i] as Joined).read(v)))
        const { results } = p as { results: Array<{ ok: boolean; value?: unknown }> }
        return merged(results.flatMap((r, i) => (r.ok ? [(inputs[i] as Joined).read(r.value)] : [])))
      },
    }
  }
  return {
    trigger: quorum(node.k, triggers, { cancelRest: node.cancelRest }),
    read: (p) => {
      const { values } = p as { values: Array<{ step: string; value: unknown }> }
      const left = [...inputs]
      const scopes = values.map(({ step, value }) => {
        const i = left.findIndex((input) => inputName(input.trigger) === step)
        const [input] = left.splice(i, 1)
        return (input as Joined).read(value)
      })
      return merged(scopes)
    },
  }
}

function leaf(name: string, text: string): Scope {
  return { vars: { [name]: text }, text }
}

/** Several inputs' values in one scope; their texts joined by a blank line as `{{values}}`. */
function merged(scopes: Scope[]): Scope {
  const text = scopes.map((s) => s.text).join('\n\n')
  return { vars: Object.assign({}, ...scopes.map((s) => s.vars), { values: text }), text }
}

/** A step's output as template text. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === undefined || value === null) return ''
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}
