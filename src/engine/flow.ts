import type { z } from 'zod'
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
  /** Per-try timeout; the step's signal is aborted when it passes. */
  timeoutMs?: number
  /** Retries for transient errors (`error.transient === true`, timeouts): a count of tries, or a policy. */
  retries?: number | RetryPolicy
  /** Most calls of this step in one run; bounds router cycles. Default 25. */
  maxCalls?: number
}

export type StartFn<T> = (ctx: StepContext) => T | Promise<T>
export type ListenFn<P, T> = (payload: P, ctx: StepContext) => T | Promise<T>

export interface NodeDef {
  name: string
  kind: 'start' | 'listen' | 'router'
  index: number
  trigger: Trigger<unknown> | undefined
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
  /** An input used to check the graph when the flow is defined, and to draw it. */
  example?: z.input<S>
  /** Free-form facts for the bot (progress noun, usage hints). */
  meta?: Record<string, unknown>
  build(f: FlowBuilder, input: z.output<S>): FlowOutputs<R, F>
}

// biome-ignore lint/suspicious/noExplicitAny: the erased flow type used by registries
export type AnyFlow = Flow<z.ZodType, any, any>
export type Flow<S extends z.ZodType, R, F> = Readonly<FlowSpec<S, R, F>>

const FLOW_NAME = /^[a-z][a-z0-9-]{0,31}$/

/** Defines a flow; when it has an `example`, its graph is built and checked at once. */
export function defineFlow<S extends z.ZodType, R, F = never>(spec: FlowSpec<S, R, F>): Flow<S, R, F> {
  if (!FLOW_NAME.test(spec.name)) {
    throw new FlowDefinitionError(
      spec.name,
      'name must be 1-32 lowercase letters, digits or dashes, starting with a letter',
    )
  }
  if (spec.example !== undefined) buildGraph(spec, spec.input.parse(spec.example))
  return Object.freeze({ ...spec })
}

/** Collects steps while a flow's `build` runs. */
export class FlowBuilder {
  readonly nodes: NodeDef[] = []
  readonly #flow: string
  /** step or label name → the router that declares it (labels) or itself (steps). */
  readonly #names = new Map<string, string>()
  #sealed = false

  constructor(flow: string) {
    this.#flow = flow
  }

  /** A step that begins at kickoff. */
  start<T>(name: string, fn: StartFn<T>, options: StepOptions = {}): Step<Awaited<T>> {
    this.#add(name, 'start', undefined, (_payload, ctx) => fn(ctx), options, [])
    return stepHandle(name)
  }

  /** A step that runs each time `trigger` fires, with its payload. */
  listen<P, T>(
    trigger: Trigger<P>,
    name: string,
    fn: ListenFn<P, T>,
    options: StepOptions = {},
  ): Step<Awaited<T>> {
    this.#add(name, 'listen', trigger, fn as NodeDef['fn'], options, [])
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
    for (const n of [name, ...labels]) {
      const owner = this.#names.get(n)
      if (owner !== undefined) {
        const what = owner === n ? `step '${n}'` : `a label of router '${owner}'`
        throw new FlowDefinitionError(
          this.#flow,
          `the name '${n}' of step '${name}' is already used by ${what}`,
        )
      }
      this.#names.set(n, name)
    }
    if (trigger !== undefined && sourcesOf(trigger).includes(name)) {
      throw new FlowDefinitionError(this.#flow, `step '${name}' listens to itself (${describe(trigger)})`)
    }
    this.nodes.push({ name, kind, index: this.nodes.length, trigger, fn, options, labels })
  }

  seal(): void {
    this.#sealed = true
  }

  ownerOf(name: string): string | undefined {
    return this.#names.get(name)
  }
}

function stepHandle<T>(name: string): Step<T> {
  return { kind: 'step', name }
}

/** A flow's graph for one input: nodes in declared order, who listens to what. */
export interface Graph {
  flow: string
  nodes: NodeDef[]
  byName: Map<string, NodeDef>
  /** Step or label name → listeners whose trigger mentions it. */
  subscribers: Map<string, NodeDef[]>
  /** Label → the router that emits it. */
  routerOf: Map<string, NodeDef>
  final: NodeDef
  first: NodeDef | undefined
}

/** Runs the flow's `build` and checks the graph: dangling names, self-listening, unreachable steps. */
export function buildGraph<S extends z.ZodType, R, F>(flow: FlowSpec<S, R, F>, input: z.output<S>): Graph {
  const f = new FlowBuilder(flow.name)
  const outputs = flow.build(f, input)
  f.seal()
  const byName = new Map(f.nodes.map((n) => [n.name, n]))
  const routerOf = new Map<string, NodeDef>()
  for (const node of f.nodes) for (const label of node.labels) routerOf.set(label, node)
  if (f.nodes.every((n) => n.kind !== 'start'))
    throw new FlowDefinitionError(flow.name, 'it has no start step')

  const subscribers = new Map<string, NodeDef[]>()
  for (const node of f.nodes) {
    if (node.trigger === undefined) continue
    checkTrigger(flow.name, node, node.trigger, byName, routerOf)
    for (const source of new Set(sourcesOf(node.trigger))) {
      const list = subscribers.get(source) ?? []
      list.push(node)
      subscribers.set(source, list)
    }
  }
  const final = outputs?.final === undefined ? undefined : byName.get(outputs.final.name)
  if (final === undefined)
    throw new FlowDefinitionError(flow.name, 'build() must return { final } naming one of its steps')
  const first = outputs.first === undefined ? undefined : byName.get(outputs.first.name)
  if (outputs.first !== undefined && first === undefined) {
    throw new FlowDefinitionError(
      flow.name,
      `its first output '${outputs.first.name}' is not a step of this flow`,
    )
  }
  checkReachable(flow.name, f.nodes, routerOf)
  return { flow: flow.name, nodes: f.nodes, byName, subscribers, routerOf, final, first }
}

function checkTrigger(
  flow: string,
  node: NodeDef,
  trigger: Trigger<unknown>,
  byName: Map<string, NodeDef>,
  routerOf: Map<string, NodeDef>,
): void {
  for (const source of sourcesOf(trigger)) {
    if (!byName.has(source) && !routerOf.has(source)) {
      throw new FlowDefinitionError(
        flow,
        `step '${node.name}' listens to '${source}', which no step or router label defines`,
      )
    }
    if (routerOf.get(source) === node) {
      throw new FlowDefinitionError(flow, `router '${node.name}' listens to its own label '${source}'`)
    }
  }
  if (trigger.kind === 'any' || trigger.kind === 'all' || trigger.kind === 'quorum') {
    const inputs = (trigger as unknown as { inputs: Trigger<unknown>[] }).inputs
    if (inputs.length === 0)
      throw new FlowDefinitionError(flow, `step '${node.name}' waits for ${trigger.kind}() of nothing`)
    if (trigger.kind === 'quorum' && (trigger as unknown as { k: number }).k > inputs.length) {
      throw new FlowDefinitionError(
        flow,
        `step '${node.name}' waits for ${describe(trigger)}: k is larger than its inputs`,
      )
    }
    for (const input of inputs) checkTrigger(flow, node, input, byName, routerOf)
  }
}

/** Fixed point from the start steps: what can ever run. A join of two labels of one router never can. */
function checkReachable(flow: string, nodes: NodeDef[], routerOf: Map<string, NodeDef>): void {
  const reachable = new Set<string>()
  const satisfiable = (t: Trigger<unknown>): boolean => {
    if (t.kind === 'step') return reachable.has((t as Step<unknown>).name)
    if (t.kind === 'label') {
      const router = routerOf.get((t as Label<unknown>).name)
      return router !== undefined && reachable.has(router.name)
    }
    const inputs = (t as unknown as { inputs: Trigger<unknown>[] }).inputs
    if (t.kind === 'any') return inputs.some(satisfiable)
    if (t.kind === 'quorum') return inputs.filter(satisfiable).length >= (t as unknown as { k: number }).k
    return inputs.every(satisfiable) && exclusiveLabels(t, routerOf) === undefined
  }
  let changed = true
  while (changed) {
    changed = false
    for (const node of nodes) {
      if (reachable.has(node.name)) continue
      if (node.kind === 'start' || (node.trigger !== undefined && satisfiable(node.trigger))) {
        reachable.add(node.name)
        changed = true
      }
    }
  }
  for (const node of nodes) {
    if (reachable.has(node.name) || node.trigger === undefined) continue
    const clash = findExclusive(node.trigger, routerOf)
    const why =
      clash !== undefined
        ? `it waits for labels '${clash[0]}' and '${clash[1]}' of router '${clash[2]}', which emits one label per call`
        : `nothing that ${describe(node.trigger)} waits for can ever run`
    throw new FlowDefinitionError(flow, `step '${node.name}' can never run: ${why}`)
  }
}

function exclusiveLabels(
  t: Trigger<unknown>,
  routerOf: Map<string, NodeDef>,
): [string, string, string] | undefined {
  const seen = new Map<string, string>()
  for (const input of (t as unknown as { inputs: Trigger<unknown>[] }).inputs) {
    if (input.kind !== 'label') continue
    const label = (input as Label<unknown>).name
    const router = routerOf.get(label)
    if (router === undefined) continue
    const other = seen.get(router.name)
    if (other !== undefined && other !== label) return [other, label, router.name]
    seen.set(router.name, label)
  }
  return undefined
}

function findExclusive(
  t: Trigger<unknown>,
  routerOf: Map<string, NodeDef>,
): [string, string, string] | undefined {
  if (t.kind === 'step' || t.kind === 'label') return undefined
  if (t.kind === 'all') {
    const clash = exclusiveLabels(t, routerOf)
    if (clash !== undefined) return clash
  }
  for (const input of (t as unknown as { inputs: Trigger<unknown>[] }).inputs) {
    const clash = findExclusive(input, routerOf)
    if (clash !== undefined) return clash
  }
  return undefined
}
