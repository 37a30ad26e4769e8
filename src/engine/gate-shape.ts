/**
 * What a listener's gate needs that only its trigger's shape decides (its inputs' names, which
 * inputs a source reaches, what a fire is called), worked out once per graph shape and shared by
 * every run of it; the gates (gates.ts) keep only the state of one run.
 */
import type { AllTrigger, AnyTrigger, QuorumTrigger, Step, Trigger } from './triggers.ts'
import { inputName, sourcesOf } from './triggers.ts'

export interface GateShape {
  kind: Trigger<unknown>['kind']
  /** A step or label: its name; a join: what its fire is called (`all(a, b)`, `quorum(2, a, b)`). */
  name: string
  /** The steps and labels it depends on, in declared order. */
  steps: readonly string[]
  /** A join's inputs. */
  children: readonly GateShape[]
  /** A join's inputs as its payload names them (`inputName`). */
  names: readonly string[]
  /** A join: step or label name → indexes of the inputs that are that step or label. */
  leaves: ReadonlyMap<string, readonly number[]>
  /** A join: indexes of the inputs that are joins themselves. */
  nested: readonly number[]
}

const NONE: readonly never[] = Object.freeze([])
const NO_LEAVES: ReadonlyMap<string, readonly number[]> = new Map()

/** The shape of a trigger's gate tree. */
export function gateShape(trigger: Trigger<unknown>): GateShape {
  if (trigger.kind === 'step' || trigger.kind === 'label') {
    const name = (trigger as Step<unknown>).name
    return {
      kind: trigger.kind,
      name,
      steps: [name],
      children: NONE,
      names: NONE,
      leaves: NO_LEAVES,
      nested: NONE,
    }
  }
  const t = trigger as AnyTrigger<unknown> | AllTrigger<unknown> | QuorumTrigger<unknown>
  const names = t.inputs.map(inputName)
  const leaves = new Map<string, number[]>()
  const nested: number[] = []
  t.inputs.forEach((input, i) => {
    if (input.kind !== 'step' && input.kind !== 'label') nested.push(i)
    else {
      const name = names[i] as string
      const at = leaves.get(name)
      if (at === undefined) leaves.set(name, [i])
      else at.push(i)
    }
  })
  const name = t.kind === 'quorum' ? `quorum(${t.k}, ${names.join(', ')})` : `${t.kind}(${names.join(', ')})`
  return {
    kind: t.kind,
    name,
    steps: sourcesOf(t),
    children: t.inputs.map(gateShape),
    names,
    leaves,
    nested,
  }
}
