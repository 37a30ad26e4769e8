/** Typed handles and trigger combinators: what a listener waits for. */

declare const payloadType: unique symbol

/** Anything a listener can wait for; `T` is what the listener receives. */
export interface Trigger<T> {
  readonly kind: 'step' | 'label' | 'any' | 'all' | 'quorum'
  readonly [payloadType]?: T
}

/** A step's output handle. */
export interface Step<T> extends Trigger<T> {
  readonly kind: 'step'
  readonly name: string
}

/** A router label; listeners receive the value the router was triggered with. */
export interface Label<T> extends Trigger<T> {
  readonly kind: 'label'
  readonly name: string
}

export interface AnyTrigger<T> extends Trigger<T> {
  readonly kind: 'any'
  readonly inputs: readonly Trigger<unknown>[]
  readonly cancelRest: boolean
}

export interface AllTrigger<T> extends Trigger<T> {
  readonly kind: 'all'
  readonly inputs: readonly Trigger<unknown>[]
  readonly partial: boolean
  /** Partial only: once all inputs but one settled, wait at most this long for the last. */
  readonly graceMs: number | undefined
}

export interface QuorumTrigger<T> extends Trigger<T> {
  readonly kind: 'quorum'
  readonly k: number
  readonly inputs: readonly Trigger<unknown>[]
  readonly agree: ((value: unknown) => string) | undefined
  readonly cancelRest: boolean
}

export type PayloadOf<X> = X extends Trigger<infer T> ? T : never
export type Payloads<T extends readonly unknown[]> = { -readonly [K in keyof T]: PayloadOf<T[K]> }

/** What `any` passes: the first successful output and which input produced it. */
export interface Winner<T> {
  step: string
  value: T
}

/** A failed or cancelled input, as `all({ partial: true })` and `quorum` report it. */
export interface Failure {
  step: string
  error: unknown
  cancelled: boolean
}

export type Settled<T> = { ok: true; step: string; value: T } | ({ ok: false } & Failure)

/** What `all(..., { partial: true })` passes. */
export interface PartialResult<T extends readonly unknown[]> {
  /** Outputs of the inputs that succeeded, in declared order. */
  values: Array<T[number]>
  /** Every input's outcome, in declared order. */
  results: { -readonly [K in keyof T]: Settled<T[K]> }
  failures: Failure[]
}

/** What `quorum` passes. */
export interface QuorumResult<T> {
  /** True when k inputs succeeded (or k agreed); false when every input settled first. */
  reached: boolean
  /** With `agree`: the agreed value's key. */
  agreedKey: string | undefined
  /** Successful outputs so far, in declared order. */
  values: Array<Winner<T>>
  failures: Failure[]
  /** Inputs still running when it fired. */
  pending: number
}

type AnyOptions = { cancelRest?: boolean }
type AllOptions = { partial?: boolean; graceMs?: number }

function isTrigger(value: unknown): value is Trigger<unknown> {
  return typeof value === 'object' && value !== null && 'kind' in value && !Array.isArray(value)
}

/** Fires once per cycle with the first successful input, tagged with its step. */
export function any<const T extends readonly Trigger<unknown>[]>(
  ...inputs: T
): Trigger<Winner<PayloadOf<T[number]>>>
export function any<const T extends readonly Trigger<unknown>[]>(
  inputs: T,
  options?: AnyOptions,
): Trigger<Winner<PayloadOf<T[number]>>>
export function any(...args: unknown[]): Trigger<unknown> {
  const [inputs, options] = splitArgs<AnyOptions>(args)
  const trigger: AnyTrigger<unknown> = { kind: 'any', inputs, cancelRest: options.cancelRest ?? false }
  return trigger
}

/**
 * Fires once every input settled, with every output in declared order. A partial `all` with a
 * straggler grace (`graceMs`, or the run's `graceMs`) stops waiting for the last input that long
 * after the others settled: it fires with that input failed (`StragglerError`) and aborts it.
 */
export function all<const T extends readonly Trigger<unknown>[]>(...inputs: T): Trigger<Payloads<T>>
export function all<const T extends readonly Trigger<unknown>[]>(
  inputs: T,
  options: { partial: true; graceMs?: number },
): Trigger<PartialResult<Payloads<T>>>
export function all<const T extends readonly Trigger<unknown>[]>(
  inputs: T,
  options?: { partial?: false },
): Trigger<Payloads<T>>
export function all(...args: unknown[]): Trigger<unknown> {
  const [inputs, options] = splitArgs<AllOptions>(args)
  const graceMs = options.graceMs
  if (graceMs !== undefined && !(graceMs >= 0)) throw new RangeError(`graceMs must be >= 0, got ${graceMs}`)
  const trigger: AllTrigger<unknown> = { kind: 'all', inputs, partial: options.partial ?? false, graceMs }
  return trigger
}

/**
 * Fires as soon as k inputs succeeded, or, with `agree`, as soon as k outputs share a key;
 * if every input settles first, fires with `reached: false`. `cancelRest` aborts the inputs still running.
 */
export function quorum<const T extends readonly Trigger<unknown>[]>(
  k: number,
  inputs: T,
  options: { agree?: (value: PayloadOf<T[number]>) => string; cancelRest?: boolean } = {},
): Trigger<QuorumResult<PayloadOf<T[number]>>> {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`quorum needs a whole k >= 1, got ${k}`)
  const trigger: QuorumTrigger<QuorumResult<PayloadOf<T[number]>>> = {
    kind: 'quorum',
    k,
    inputs,
    agree: options.agree as ((value: unknown) => string) | undefined,
    cancelRest: options.cancelRest ?? false,
  }
  return trigger
}

function splitArgs<O>(args: unknown[]): [Trigger<unknown>[], O] {
  if (args.length >= 1 && Array.isArray(args[0])) {
    return [args[0] as Trigger<unknown>[], (args[1] ?? {}) as O]
  }
  for (const arg of args)
    if (!isTrigger(arg)) throw new TypeError('any/all take triggers, or an array and options')
  return [args as Trigger<unknown>[], {} as O]
}

/** Names of the steps and labels a trigger depends on, in declared order. */
export function sourcesOf(trigger: Trigger<unknown>): string[] {
  const out: string[] = []
  const walk = (t: Trigger<unknown>): void => {
    if (t.kind === 'step' || t.kind === 'label') out.push((t as Step<unknown>).name)
    else for (const input of (t as AnyTrigger<unknown>).inputs) walk(input)
  }
  walk(trigger)
  return out
}

/**
 * How a join names one of its inputs in what it passes: a step or label by its name, a nested join as
 * `all(a, b)` (the `step` of an `any` winner, of a quorum's values and of a partial `all`'s results).
 */
export function inputName(t: Trigger<unknown>): string {
  if (t.kind === 'step' || t.kind === 'label') return (t as Step<unknown>).name
  return `${t.kind}(${(t as AnyTrigger<unknown>).inputs.map(inputName).join(', ')})`
}

/** A short text form, for messages and pictures: `all(a, b)`. */
export function describe(trigger: Trigger<unknown>): string {
  if (trigger.kind === 'step' || trigger.kind === 'label') return (trigger as Step<unknown>).name
  const t = trigger as AnyTrigger<unknown> | AllTrigger<unknown> | QuorumTrigger<unknown>
  const inner = t.inputs.map(describe).join(', ')
  return t.kind === 'quorum' ? `quorum(${t.k}, ${inner})` : `${t.kind}(${inner})`
}

/** Whether two triggers have the same shape: kinds, names and options (a quorum's `agree` only by being there). */
export function sameTrigger(a: Trigger<unknown>, b: Trigger<unknown>): boolean {
  if (a === b) return true
  if (a.kind !== b.kind) return false
  if (a.kind === 'step' || a.kind === 'label') return (a as Step<unknown>).name === (b as Step<unknown>).name
  if (a.kind === 'any') {
    if ((a as AnyTrigger<unknown>).cancelRest !== (b as AnyTrigger<unknown>).cancelRest) return false
  } else if (a.kind === 'all') {
    const x = a as AllTrigger<unknown>
    const y = b as AllTrigger<unknown>
    if (x.partial !== y.partial || x.graceMs !== y.graceMs) return false
  } else {
    const x = a as QuorumTrigger<unknown>
    const y = b as QuorumTrigger<unknown>
    if (x.k !== y.k || x.cancelRest !== y.cancelRest || (x.agree === undefined) !== (y.agree === undefined))
      return false
  }
  const xs = (a as AnyTrigger<unknown>).inputs
  const ys = (b as AnyTrigger<unknown>).inputs
  if (xs.length !== ys.length) return false
  for (let i = 0; i < xs.length; i++)
    if (!sameTrigger(xs[i] as Trigger<unknown>, ys[i] as Trigger<unknown>)) return false
  return true
}
