/** Per-listener trigger state: decides when a listener fires and with what. */
import type { GateShape } from './gate-shape.ts'
import type { AllTrigger, AnyTrigger, Failure, QuorumTrigger, Settled, Trigger } from './triggers.ts'

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown; cancelled: boolean }

/** A gate that fired: the payload, or the failed input that makes the listener unable to run. */
export type Fire =
  | { ok: true; value: unknown; step: string; cancel?: readonly string[] }
  | { ok: false; error: unknown; step: string; cancelled: boolean }

/**
 * One node of a listener's trigger tree. `offer` gets a settled source (step or label), the epoch
 * in which the invocation that produced it started, and the current epoch. An epoch is one
 * settlement: every step started while the engine handles one completion shares its epoch.
 */
export interface Gate {
  offer(source: string, seq: number, now: number, outcome: Outcome): Fire | undefined
  /** Forgets the inputs gathered for the current cycle, in this gate and every gate nested in it. */
  reset(): void
}

/** A settled input of a join: a leaf's outcome as it came, or a nested join's fire. */
type Input = Outcome | Fire

/** Builds the gate tree for a trigger of the given shape; a step's or label's gate holds no state and is shared. */
export function gateFor(shape: GateShape, trigger: Trigger<unknown>): Gate {
  switch (shape.kind) {
    case 'step':
    case 'label':
      return leafGate(shape)
    case 'any':
      return new AnyGate(shape, trigger as AnyTrigger<unknown>)
    case 'all':
      return new AllGate(shape, trigger as AllTrigger<unknown>)
    case 'quorum':
      return new QuorumGate(shape, trigger as QuorumTrigger<unknown>)
  }
}

const leaves = new WeakMap<GateShape, Gate>()

function leafGate(shape: GateShape): Gate {
  let gate = leaves.get(shape)
  if (gate === undefined) {
    const name = shape.name
    gate = {
      reset(): void {},
      offer: (source, _seq, _now, outcome) => (source === name ? fireOf(source, outcome) : undefined),
    }
    leaves.set(shape, gate)
  }
  return gate
}

function fireOf(step: string, outcome: Outcome): Fire {
  return outcome.ok
    ? { ok: true, value: outcome.value, step }
    : { ok: false, error: outcome.error, step, cancelled: outcome.cancelled }
}

/** The gates of a join's inputs, by index. */
function childrenOf(shape: GateShape, inputs: readonly Trigger<unknown>[]): Gate[] {
  return shape.children.map((child, i) => gateFor(child, inputs[i] as Trigger<unknown>))
}

/**
 * The inputs of a join that can take `source`, in declared order: the leaves named `source`, and
 * every nested join (which may take any source).
 */
function askedFor(shape: GateShape, source: string): readonly number[] {
  const leaves = shape.leaves.get(source)
  if (shape.nested.length === 0) return leaves ?? []
  if (leaves === undefined) return shape.nested
  return [...leaves, ...shape.nested].sort((a, b) => a - b)
}

/** Whether input `i` of a join is a step or label (its input is the outcome as it came). */
function isLeaf(shape: GateShape, i: number): boolean {
  const kind = (shape.children[i] as GateShape).kind
  return kind === 'step' || kind === 'label'
}

/**
 * What the inputs of a join that can take `source` gave, by index. Every nested join is offered the
 * source before any input is acted on (a nested gate's state moves when it fires).
 */
function inputsFor(
  shape: GateShape,
  children: Gate[] | undefined,
  source: string,
  seq: number,
  now: number,
  outcome: Outcome,
): Array<[number, Input]> {
  const inputs: Array<[number, Input]> = []
  for (const i of askedFor(shape, source)) {
    const input = isLeaf(shape, i) ? outcome : (children as Gate[])[i]?.offer(source, seq, now, outcome)
    if (input !== undefined) inputs.push([i, input])
  }
  return inputs
}

/** A failed input as the join passes it on: a nested join's own fire, or the leaf that failed. */
function failureOf(shape: GateShape, i: number, input: Extract<Input, { ok: false }>): Fire {
  if (!isLeaf(shape, i)) return input as Fire
  return { ok: false, error: input.error, step: shape.names[i] as string, cancelled: input.cancelled }
}

/**
 * Fires once per cycle: with the first success, or with a failure once every input failed.
 * Completions of invocations that began before it fired, or in the epoch it fired in, belong to the
 * finished cycle and are ignored. Firing resets every gate nested in it.
 */
class AnyGate implements Gate {
  readonly #shape: GateShape
  readonly #cancelRest: boolean
  /** Only with nested joins. */
  readonly #children: Gate[] | undefined
  #armedAt = -1
  #failed: Set<number> | undefined

  constructor(shape: GateShape, t: AnyTrigger<unknown>) {
    this.#shape = shape
    this.#cancelRest = t.cancelRest
    this.#children = shape.nested.length === 0 ? undefined : childrenOf(shape, t.inputs)
  }

  offer(source: string, seq: number, now: number, outcome: Outcome): Fire | undefined {
    if (seq <= this.#armedAt) return undefined
    if (this.#children === undefined) {
      // Only steps and labels: each input named `source` settled with `outcome`.
      for (const i of this.#shape.leaves.get(source) ?? []) {
        const fire = this.#take(i, outcome, now)
        if (fire !== undefined) return fire
      }
      return undefined
    }
    for (const [i, input] of inputsFor(this.#shape, this.#children, source, seq, now, outcome)) {
      const fire = this.#take(i, input, now)
      if (fire !== undefined) return fire
    }
    return undefined
  }

  #take(i: number, input: Input, now: number): Fire | undefined {
    const shape = this.#shape
    if (input.ok) {
      this.#armedAt = now
      this.reset()
      const step = shape.names[i] as string
      const win: Fire = { ok: true, value: { step, value: input.value }, step }
      if (this.#cancelRest) win.cancel = shape.steps
      return win
    }
    this.#failed ??= new Set()
    const failed = this.#failed
    failed.add(i)
    if (failed.size < shape.children.length) return undefined
    this.reset()
    this.#armedAt = now
    return failureOf(shape, i, input)
  }

  reset(): void {
    this.#failed?.clear()
    if (this.#children !== undefined) for (const child of this.#children) child.reset()
  }
}

/**
 * Fires once every input settled; strict fails on the first failed input in declared order.
 * Firing resets every gate nested in it. A partial one can be told to stop waiting for its last
 * input (`expire`, the straggler grace); that input's late outcome is then ignored.
 */
export class AllGate implements Gate {
  readonly #shape: GateShape
  readonly #children: Gate[] | undefined
  readonly partial: boolean
  readonly graceMs: number | undefined
  /** This cycle's settled inputs; created by the first to settle. */
  #results: Array<Input | undefined> | undefined
  /** Inputs not settled yet in this cycle. */
  #pending: number
  /** child index → outcomes of invocations that started before this epoch are ignored. */
  #ignoreBefore: Map<number, number> | undefined

  constructor(shape: GateShape, t: AllTrigger<unknown>) {
    this.#shape = shape
    this.#children = shape.nested.length === 0 ? undefined : childrenOf(shape, t.inputs)
    this.partial = t.partial
    this.graceMs = t.graceMs
    this.#pending = shape.children.length
  }

  offer(source: string, seq: number, now: number, outcome: Outcome): Fire | undefined {
    // Only the inputs that can take this source are asked: O(1) per completion for a fan-out of
    // steps, not O(inputs).
    if (this.#children === undefined) {
      for (const i of this.#shape.leaves.get(source) ?? []) this.#take(i, seq, outcome)
    } else {
      for (const [i, input] of inputsFor(this.#shape, this.#children, source, seq, now, outcome))
        this.#take(i, seq, input)
    }
    if (this.#pending > 0) return undefined
    return this.#fire(this.#results as Input[])
  }

  #take(i: number, seq: number, input: Input): void {
    if (seq < (this.#ignoreBefore?.get(i) ?? 0)) return
    this.#results ??= new Array(this.#shape.children.length)
    const results = this.#results
    if (results[i] === undefined) this.#pending--
    results[i] = input
  }

  /** The steps of the one input still pending once every other input settled (partial only). */
  straggler(): { name: string; steps: readonly string[] } | undefined {
    const shape = this.#shape
    if (!this.partial || shape.children.length < 2 || this.#pending !== 1) return undefined
    let i = 0
    while (this.#results?.[i] !== undefined) i++
    return { name: shape.names[i] as string, steps: (shape.children[i] as GateShape).steps }
  }

  /** Fires now with the pending input failed with `error`; its late outcome (started before `now`) is ignored. */
  expire(now: number, error: unknown): Fire {
    const results = Array.from(this.#results ?? new Array(this.#shape.children.length), (r, i): Input => {
      if (r !== undefined) return r
      this.#ignoreBefore ??= new Map()
      this.#ignoreBefore.set(i, now)
      return { ok: false, error, step: this.#shape.names[i] as string, cancelled: false }
    })
    return this.#fire(results)
  }

  reset(): void {
    this.#results = undefined
    this.#pending = this.#shape.children.length
    if (this.#children !== undefined) for (const child of this.#children) child.reset()
  }

  #fire(results: readonly Input[]): Fire {
    this.reset()
    const shape = this.#shape
    const { names, name } = shape
    if (!this.partial) {
      const at = results.findIndex((r) => !r.ok)
      if (at !== -1) return failureOf(shape, at, results[at] as Extract<Input, { ok: false }>)
      return { ok: true, value: results.map((r) => (r as { value: unknown }).value), step: name }
    }
    const settled: Settled<unknown>[] = results.map((r, i) =>
      r.ok
        ? { ok: true, step: names[i] as string, value: r.value }
        : { ok: false, step: names[i] as string, error: r.error, cancelled: r.cancelled },
    )
    const values = settled.filter((r) => r.ok).map((r) => (r as { value: unknown }).value)
    const failures: Failure[] = settled.filter((r) => !r.ok) as Failure[]
    return { ok: true, value: { values, results: settled, failures }, step: name }
  }
}

/** Fires when k inputs succeeded (or k agree), or with `reached: false` once all settled. */
class QuorumGate implements Gate {
  readonly #shape: GateShape
  readonly #children: Gate[]
  readonly #t: QuorumTrigger<unknown>
  #armedAt = -1
  #results: Array<Fire | undefined>

  constructor(shape: GateShape, t: QuorumTrigger<unknown>) {
    this.#shape = shape
    this.#t = t
    this.#children = childrenOf(shape, t.inputs)
    this.#results = new Array(this.#children.length).fill(undefined)
  }

  offer(source: string, seq: number, now: number, outcome: Outcome): Fire | undefined {
    if (seq <= this.#armedAt) return undefined
    const fires: Array<[number, Fire]> = []
    this.#children.forEach((child, i) => {
      const fire = child.offer(source, seq, now, outcome)
      if (fire !== undefined) fires.push([i, fire])
    })
    if (fires.length === 0) return undefined
    for (const [i, fire] of fires) this.#results[i] = fire
    const results = this.#results
    const agreedKey = this.#agreed(results)
    const pending = results.filter((r) => r === undefined).length
    const successes = results.filter((r) => r?.ok === true).length
    const reached = this.#t.agree === undefined ? successes >= this.#t.k : agreedKey !== undefined
    if (!reached && pending > 0) return undefined

    this.#armedAt = now
    this.reset()
    const values: Array<{ step: string; value: unknown }> = []
    const failures: Failure[] = []
    results.forEach((r, i) => {
      const step = this.#shape.names[i] as string
      if (r?.ok === true) values.push({ step, value: r.value })
      else if (r !== undefined && !r.ok) failures.push({ step, error: r.error, cancelled: r.cancelled })
    })
    if (values.length === 0) {
      const first = failures[0] as Failure
      return { ok: false, error: first.error, step: first.step, cancelled: first.cancelled }
    }
    const value = { reached, agreedKey, values, failures, pending }
    const fire: Fire = { ok: true, value, step: this.#shape.name }
    if (this.#t.cancelRest && pending > 0) fire.cancel = this.#shape.steps
    return fire
  }

  reset(): void {
    this.#results = new Array(this.#children.length).fill(undefined)
    for (const child of this.#children) child.reset()
  }

  #agreed(results: Array<Fire | undefined>): string | undefined {
    const agree = this.#t.agree
    if (agree === undefined) return undefined
    const counts = new Map<string, number>()
    for (const r of results) {
      if (r?.ok !== true) continue
      const key = agree(r.value)
      const n = (counts.get(key) ?? 0) + 1
      if (n >= this.#t.k) return key
      counts.set(key, n)
    }
    return undefined
  }
}
