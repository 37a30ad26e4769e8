/** Per-listener trigger state: decides when a listener fires and with what. */
import type { AllTrigger, AnyTrigger, Failure, QuorumTrigger, Settled, Step, Trigger } from './triggers.ts'
import { inputName as nameOf, sourcesOf } from './triggers.ts'

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown; cancelled: boolean }

/** A gate that fired: the payload, or the failed input that makes the listener unable to run. */
export type Fire =
  | { ok: true; value: unknown; step: string; cancel?: string[] }
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

/** Builds the gate tree for a trigger. */
export function gateFor(trigger: Trigger<unknown>): Gate {
  switch (trigger.kind) {
    case 'step':
    case 'label':
      return new LeafGate((trigger as Step<unknown>).name)
    case 'any':
      return new AnyGate(trigger as AnyTrigger<unknown>)
    case 'all':
      return new AllGate(trigger as AllTrigger<unknown>)
    case 'quorum':
      return new QuorumGate(trigger as QuorumTrigger<unknown>)
  }
}

class LeafGate implements Gate {
  readonly #name: string
  constructor(name: string) {
    this.#name = name
  }
  reset(): void {}
  offer(source: string, _seq: number, _now: number, outcome: Outcome): Fire | undefined {
    if (source !== this.#name) return undefined
    return outcome.ok
      ? { ok: true, value: outcome.value, step: source }
      : { ok: false, error: outcome.error, step: source, cancelled: outcome.cancelled }
  }
}

/** Offers to every child; returns each child's fire by index. */
function offerChildren(
  children: Gate[],
  source: string,
  seq: number,
  now: number,
  outcome: Outcome,
): Array<[number, Fire]> {
  const fires: Array<[number, Fire]> = []
  for (let i = 0; i < children.length; i++) {
    const fire = (children[i] as Gate).offer(source, seq, now, outcome)
    if (fire !== undefined) fires.push([i, fire])
  }
  return fires
}

/**
 * Fires once per cycle: with the first success, or with a failure once every input failed.
 * Completions of invocations that began before it fired, or in the epoch it fired in, belong to the
 * finished cycle and are ignored. Firing resets every gate nested in it.
 */
class AnyGate implements Gate {
  readonly #children: Gate[]
  readonly #names: string[]
  readonly #steps: string[]
  readonly #cancelRest: boolean
  #armedAt = -1
  #failed = new Set<number>()

  constructor(t: AnyTrigger<unknown>) {
    this.#children = t.inputs.map(gateFor)
    this.#names = t.inputs.map(nameOf)
    this.#steps = sourcesOf(t)
    this.#cancelRest = t.cancelRest
  }

  offer(source: string, seq: number, now: number, outcome: Outcome): Fire | undefined {
    if (seq <= this.#armedAt) return undefined
    for (const [i, fire] of offerChildren(this.#children, source, seq, now, outcome)) {
      if (fire.ok) {
        this.#armedAt = now
        this.reset()
        const step = this.#names[i] as string
        const win: Fire = { ok: true, value: { step, value: fire.value }, step }
        if (this.#cancelRest) win.cancel = this.#steps
        return win
      }
      this.#failed.add(i)
      if (this.#failed.size === this.#children.length) {
        this.reset()
        this.#armedAt = now
        return fire
      }
    }
    return undefined
  }

  reset(): void {
    this.#failed.clear()
    for (const child of this.#children) child.reset()
  }
}

/**
 * Fires once every input settled; strict fails on the first failed input in declared order.
 * Firing resets every gate nested in it. A partial one can be told to stop waiting for its last
 * input (`expire`, the straggler grace); that input's late outcome is then ignored.
 */
export class AllGate implements Gate {
  readonly #children: Gate[]
  readonly #names: string[]
  readonly #inputs: readonly Trigger<unknown>[]
  readonly partial: boolean
  readonly graceMs: number | undefined
  #results: Array<Fire | undefined>
  /** Inputs not settled yet in this cycle. */
  #pending: number
  /** step or label name → indexes of the inputs that are that step or label. */
  readonly #leaves = new Map<string, number[]>()
  /** Indexes of the inputs that are joins themselves. */
  readonly #nested: number[] = []
  /** child index → outcomes of invocations that started before this epoch are ignored. */
  readonly #ignoreBefore = new Map<number, number>()

  constructor(t: AllTrigger<unknown>) {
    this.#children = t.inputs.map(gateFor)
    this.#names = t.inputs.map(nameOf)
    this.#inputs = t.inputs
    this.partial = t.partial
    this.graceMs = t.graceMs
    this.#results = new Array(this.#children.length).fill(undefined)
    this.#pending = this.#children.length
    t.inputs.forEach((input, i) => {
      if (input.kind !== 'step' && input.kind !== 'label') this.#nested.push(i)
      else
        this.#leaves.set(this.#names[i] as string, [...(this.#leaves.get(this.#names[i] as string) ?? []), i])
    })
  }

  offer(source: string, seq: number, now: number, outcome: Outcome): Fire | undefined {
    // Only the children that can take this source are asked: O(1) per completion for a fan-out of
    // steps, not O(inputs).
    for (const i of this.#askedFor(source)) {
      const fire = (this.#children[i] as Gate).offer(source, seq, now, outcome)
      if (fire === undefined || seq < (this.#ignoreBefore.get(i) ?? 0)) continue
      if (this.#results[i] === undefined) this.#pending--
      this.#results[i] = fire
    }
    if (this.#pending > 0) return undefined
    return this.#fire(this.#results as Fire[])
  }

  /** Leaf inputs named `source`, then every nested join (which may take any source). */
  #askedFor(source: string): number[] {
    const leaves = this.#leaves.get(source)
    if (this.#nested.length === 0) return leaves ?? []
    return leaves === undefined ? this.#nested : [...leaves, ...this.#nested]
  }

  /** The steps of the one input still pending once every other input settled (partial only). */
  straggler(): { name: string; steps: string[] } | undefined {
    if (!this.partial || this.#children.length < 2 || this.#pending !== 1) return undefined
    const i = this.#results.indexOf(undefined)
    return { name: this.#names[i] as string, steps: sourcesOf(this.#inputs[i] as Trigger<unknown>) }
  }

  /** Fires now with the pending input failed with `error`; its late outcome (started before `now`) is ignored. */
  expire(now: number, error: unknown): Fire {
    const results = this.#results.map((r, i): Fire => {
      if (r !== undefined) return r
      this.#ignoreBefore.set(i, now)
      return { ok: false, error, step: this.#names[i] as string, cancelled: false }
    })
    return this.#fire(results)
  }

  reset(): void {
    this.#results = new Array(this.#children.length).fill(undefined)
    this.#pending = this.#children.length
    for (const child of this.#children) child.reset()
  }

  #fire(results: Fire[]): Fire {
    this.reset()
    const name = `all(${this.#names.join(', ')})`
    if (!this.partial) {
      const failed = results.find((r) => !r.ok)
      if (failed !== undefined) return failed
      return { ok: true, value: results.map((r) => (r as { value: unknown }).value), step: name }
    }
    const settled: Settled<unknown>[] = results.map((r, i) =>
      r.ok
        ? { ok: true, step: this.#names[i] as string, value: r.value }
        : { ok: false, step: this.#names[i] as string, error: r.error, cancelled: r.cancelled },
    )
    const values = settled.filter((r) => r.ok).map((r) => (r as { value: unknown }).value)
    const failures: Failure[] = settled.filter((r) => !r.ok) as Failure[]
    return { ok: true, value: { values, results: settled, failures }, step: name }
  }
}

/** Fires when k inputs succeeded (or k agree), or with `reached: false` once all settled. */
class QuorumGate implements Gate {
  readonly #children: Gate[]
  readonly #names: string[]
  readonly #steps: string[]
  readonly #t: QuorumTrigger<unknown>
  #armedAt = -1
  #results: Array<Fire | undefined>

  constructor(t: QuorumTrigger<unknown>) {
    this.#t = t
    this.#children = t.inputs.map(gateFor)
    this.#names = t.inputs.map(nameOf)
    this.#steps = sourcesOf(t)
    this.#results = new Array(this.#children.length).fill(undefined)
  }

  offer(source: string, seq: number, now: number, outcome: Outcome): Fire | undefined {
    if (seq <= this.#armedAt) return undefined
    const fires = offerChildren(this.#children, source, seq, now, outcome)
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
      const step = this.#names[i] as string
      if (r?.ok === true) values.push({ step, value: r.value })
      else if (r !== undefined && !r.ok) failures.push({ step, error: r.error, cancelled: r.cancelled })
    })
    const name = `quorum(${this.#t.k}, ${this.#names.join(', ')})`
    if (values.length === 0) {
      const first = failures[0] as Failure
      return { ok: false, error: first.error, step: first.step, cancelled: first.cancelled }
    }
    const fire: Fire = { ok: true, value: { reached, agreedKey, values, failures, pending }, step: name }
    if (this.#t.cancelRest && pending > 0) fire.cancel = this.#steps
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
