/** The authoring API: a flow's spec, the builder its `build` gets, and what a step is and receives. */
import type { z } from 'zod'
import type { Ask } from './ask.ts'
import { FlowDefinitionError } from './errors.ts'
import { describe, type Label, type Step, sourcesOf, type Trigger } from './triggers.ts'

/** Services handed to every step (`llm`, …). Empty here; the model layer adds its members by declaration merging. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging
export interface FlowServices {}

/** Token usage a step reports; summed per run. */
export interface UsageReport {
  promptTokens: number
  completionTokens: number
  calls: number
}

/** What a step function receives besides its trigger payload. */
export type StepContext = FlowServices & {
  /** Aborted when the run is cancelled, the step times out, or it lost a race it was told to stop for. */
  signal: AbortSignal
  step: string
  /** 1 for the first try. */
  attempt: number
  runId: string
  reportUsage(usage: UsageReport): void
  /** What this try may still spend before its step times out (undefined without a timeout). */
  remainingMs(): number | undefined
  /**
   * Runs `fn` once the run's limiter has a slot (at once without a limiter). The step's timeout
   * stands still while it waits; `fn` gets the time left then, to bound its own request.
   */
  slot<T>(fn: (timeoutMs: number | undefined) => Promise<T>, signal?: AbortSignal): Promise<T>
  /**
   * Asks people and waits for the decided answer (see ask.ts): choices or a form, who may answer,
   * one answer or a collection, a deadline with an explicit outcome. The step's timeout stands still
   * while it waits; the run's deadline does not.
   */
  ask: Ask
}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number
  baseMs?: number
  maxMs?: number
  /** A server asking for a longer wait than this is not retried. */
  maxRetryAfterMs?: number
}

export interface StepOptions {
  /**
   * Budget of one call of the step: every try and the waits between them, not the time spent
   * waiting for a limiter slot. The signal is aborted when it is spent, and it is not retried.
   */
  timeoutMs?: number
  /** Limit of one try (a timed-out try is retried while the budget lasts). */
  attemptTimeoutMs?: number
  /** Retries for transient errors (`error.transient === true`, timeouts): a count of tries, or a policy. */
  retries?: number | RetryPolicy
  /** Most calls of this step in one run; bounds router cycles (default in `DEFAULT_STEP_OPTIONS`). */
  maxCalls?: number
}

export type StartFn<T> = (ctx: StepContext) => T | Promise<T>
export type ListenFn<P, T> = (payload: P, ctx: StepContext) => T | Promise<T>

export interface NodeDef {
  name: string
  kind: 'start' | 'listen' | 'router'
  index: number
  trigger: Trigger<unknown> | undefined
  /** A start step's is called with the context alone (its `StartFn`). */
  fn: (payload: unknown, ctx: StepContext) => unknown
  options: StepOptions
  labels: readonly string[]
}

/** A router's handle: its own output is the label it chose; `label(name)` is what listeners wait for. */
export interface Router<P, L extends string> extends Step<L> {
  label(name: L): Label<P>
}

/** What `build` returns: the explicit results of a run. */
export interface FlowOutputs<R, F> {
  final: Step<R>
  first?: Step<F>
}

export interface FlowSpec<S extends z.ZodType, R, F> {
  name: string
  description: string
  input: S
  /**
   * An input used to check the graph when the flow is defined, and to draw it. Without one, the
   * graph is checked for the input `{}` parses to, when it parses (every field has a default).
   */
  example?: z.input<S>
  /**
   * What happens to steps still running when `final` settles (the losers of an `any` that is
   * final, a side branch): `'cancel'` (default) aborts them, `'finish'` lets them settle first.
   */
  afterFinal?: 'cancel' | 'finish'
  /** Free-form facts for the bot (progress noun, usage hints). */
  meta?: Record<string, unknown>
  build(f: FlowBuilder, input: z.output<S>): FlowOutputs<R, F>
}

// biome-ignore lint/suspicious/noExplicitAny: the erased flow type used by registries
export type AnyFlow = Flow<z.ZodType, any, any>
export type Flow<S extends z.ZodType, R, F> = Readonly<FlowSpec<S, R, F>>

const NO_OPTIONS: StepOptions = Object.freeze({})
const NO_LABELS: readonly string[] = Object.freeze([])

/**
 * Collects steps while a flow's `build` runs. Names are checked once per graph shape, with the
 * graph (graph.ts), not on every build.
 */
export class FlowBuilder {
  readonly nodes: NodeDef[] = []
  readonly #flow: string
  #sealed = false

  constructor(flow: string) {
    this.#flow = flow
  }

  /** A step that begins at kickoff. */
  start<T>(name: string, fn: StartFn<T>, options: StepOptions = NO_OPTIONS): Step<Awaited<T>> {
    this.#add(name, 'start', undefined, fn as unknown as NodeDef['fn'], options, NO_LABELS)
    return stepHandle(name)
  }

  /** A step that runs each time `trigger` fires, with its payload. */
  listen<P, T>(
    trigger: Trigger<P>,
    name: string,
    fn: ListenFn<P, T>,
    options: StepOptions = NO_OPTIONS,
  ): Step<Awaited<T>> {
    this.#add(name, 'listen', trigger, fn as NodeDef['fn'], options, NO_LABELS)
    return stepHandle(name)
  }

  /** A step that returns one of `labels` (or null for none); listeners of that label run next. */
  router<P, const L extends string>(
    trigger: Trigger<P>,
    name: string,
    fn: ListenFn<P, L | null | undefined>,
    options: StepOptions & { labels: readonly L[] },
  ): Router<P, L> {
    const { labels, ...rest } = options
    this.#add(name, 'router', trigger, fn as NodeDef['fn'], rest, labels)
    const flow = this.#flow
    return {
      ...stepHandle<L>(name),
      label(label: L): Label<P> {
        if (!labels.includes(label)) {
          throw new FlowDefinitionError(
            flow,
            `router '${name}' has no label '${label}' (it declares: ${labels.join(', ')})`,
          )
        }
        return { kind: 'label', name: label }
      },
    }
  }

  /** A forward reference to a router label declared later (for cycles); checked when the build ends. */
  label<T = unknown>(name: string): Label<T> {
    return { kind: 'label', name }
  }

  /** A forward reference to a step defined later (for cycles); checked when the build ends. */
  ref<T>(name: string): Step<T> {
    return stepHandle(name)
  }

  #add(
    name: string,
    kind: NodeDef['kind'],
    trigger: Trigger<unknown> | undefined,
    fn: NodeDef['fn'],
    options: StepOptions,
    labels: readonly string[],
  ): void {
    if (this.#sealed)
      throw new FlowDefinitionError(this.#flow, `step '${name}' was added after build() returned`)
    if (typeof name !== 'string' || name.length === 0)
      throw new FlowDefinitionError(this.#flow, 'every step needs a name')
    this.nodes.push({ name, kind, index: this.nodes.length, trigger, fn, options, labels })
  }

  /** Ends the build: nothing may be added after. */
  seal(): void {
    this.#sealed = true
  }
}

/** Checks what the builder no longer checks as it goes: names used twice, steps listening to themselves. */
export function checkNames(flow: string, nodes: readonly NodeDef[]): void {
  /** step or label name → the router that declares it (labels) or itself (steps). */
  const names = new Map<string, string>()
  for (const { name, labels, trigger } of nodes) {
    for (const n of [name, ...labels]) {
      const owner = names.get(n)
      if (owner !== undefined) {
        const what = owner === n ? `step '${n}'` : `a label of router '${owner}'`
        throw new FlowDefinitionError(flow, `the name '${n}' of step '${name}' is already used by ${what}`)
      }
      names.set(n, name)
    }
    if (trigger !== undefined && sourcesOf(trigger).includes(name)) {
      throw new FlowDefinitionError(flow, `step '${name}' listens to itself (${describe(trigger)})`)
    }
  }
}

function stepHandle<T>(name: string): Step<T> {
  return { kind: 'step', name }
}
