/** Resume bookkeeping: step calls that succeeded in an earlier process settle at once, uncalled. */
import type { Outcome } from './gates.ts'

/** One journaled success: the `call`-th call of `step` (1 for the first) returned `value`. */
export interface ResumedStep {
  step: string
  call: number
  value: unknown
}

/** A run's journaled successes, keyed by call number: router cycles call a step more than once. */
export class Resumed {
  readonly #values = new Map<string, unknown>()

  constructor(steps: ReadonlyArray<ResumedStep>) {
    for (const r of steps) this.#values.set(callKey(r.step, r.call), r.value)
  }

  /** The journaled outcome of the `call`-th call of `step`, or undefined when it has to run. */
  outcome(step: string, call: number): Outcome | undefined {
    const key = callKey(step, call)
    return this.#values.has(key) ? { ok: true, value: this.#values.get(key) } : undefined
  }
}

function callKey(step: string, call: number): string {
  return `${call}:${step}`
}
