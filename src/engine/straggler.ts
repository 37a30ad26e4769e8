/**
 * The straggler grace: a partial `all` whose inputs all settled but one waits at most its grace
 * (or the run's) for that one, then fires without it.
 */
import { StragglerError } from './errors.ts'
import type { NodeDef } from './flow.ts'
import { AllGate, type Gate } from './gates.ts'

/**
 * The grace of `listener`'s gate ran out: fail `steps`, the straggler's, with `error` and fire the
 * gate without them; `causeId` is the event that armed the grace.
 */
export type OnExpired = (
  listener: NodeDef,
  gate: AllGate,
  steps: readonly string[],
  error: StragglerError,
  causeId: number,
) => void

/** One timer per waiting listener, for a run. */
export class StragglerGrace {
  readonly #graceMs: number | undefined
  readonly #onExpired: OnExpired
  /** Made when the first grace starts: most runs have none. */
  #timers: Map<string, ReturnType<typeof setTimeout>> | undefined

  /** `graceMs`: the run's grace, for every partial `all` that sets none. */
  constructor(graceMs: number | undefined, onExpired: OnExpired) {
    this.#graceMs = graceMs
    this.#onExpired = onExpired
  }

  /** Starts `listener`'s grace when its gate is a partial `all` left waiting for one input (once). */
  arm(listener: NodeDef, gate: Gate, causeId: number): void {
    if (!(gate instanceof AllGate) || this.#timers?.has(listener.name) === true) return
    const graceMs = gate.graceMs ?? this.#graceMs
    const straggler = graceMs === undefined ? undefined : gate.straggler()
    if (graceMs === undefined || straggler === undefined) return
    const timers = this.#timers ?? new Map()
    this.#timers = timers
    const timer = setTimeout(() => {
      timers.delete(listener.name)
      this.#onExpired(listener, gate, straggler.steps, new StragglerError(straggler.name, graceMs), causeId)
    }, graceMs)
    timers.set(listener.name, timer)
  }

  /** The listener's gate fired: its grace is over. */
  clear(listener: string): void {
    const timer = this.#timers?.get(listener)
    if (timer === undefined) return
    clearTimeout(timer)
    this.#timers?.delete(listener)
  }

  clearAll(): void {
    if (this.#timers === undefined) return
    for (const listener of [...this.#timers.keys()]) this.clear(listener)
  }
}
