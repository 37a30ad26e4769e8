/**
 * A flow's graph for one input, and the checks that make a bad graph an error before anything runs.
 * `build` runs for every run (its steps close over the input), but what the graph's shape decides
 * (the checks, who listens to what, the gates' shapes, what run.started lists) is worked out once
 * per shape and flow, and shared by every run of that shape.
 */
import type { z } from 'zod'
import { EngineError, FlowDefinitionError } from './errors.ts'
import { checkNames, FlowBuilder, type FlowOutputs, type FlowSpec, type NodeDef } from './flow.ts'
import { type GateShape, gateShape } from './gate-shape.ts'
import type { Outcome } from './gates.ts'
import { describe, type Label, type Step, sameTrigger, sourcesOf, type Trigger } from './triggers.ts'

/** What a graph's shape decides, by node index (declared order). */
export interface Shape {
  /** The shape itself: each node's kind, name, labels and trigger, and the outputs' names. */
  skeleton: Skeleton
  /** Step name → node index. */
  index: ReadonlyMap<string, number>
  /** Label → index of the router that emits it. */
  routers: ReadonlyMap<string, number>
  /** Step or label name → indexes of the listeners whose trigger mentions it. */
  subscribers: ReadonlyMap<string, readonly number[]>
  /** Each listener's gate shape (undefined for start steps). */
  gates: ReadonlyArray<GateShape | undefined>
  final: number
  first: number | undefined
  /** What run.started lists. */
  steps: ReadonlyArray<{ name: string; kind: string }>
  /** `final` and every step it depends on, through router labels to their routers. */
  upstreamOfFinal: ReadonlySet<string>
}

interface Skeleton {
  nodes: ReadonlyArray<Pick<NodeDef, 'kind' | 'name' | 'labels' | 'trigger'>>
  final: unknown
  first: unknown
}

/** A flow's graph for one input: this build's nodes in declared order, and its shape. */
export interface Graph {
  flow: string
  nodes: NodeDef[]
  shape: Shape
  final: NodeDef
  first: NodeDef | undefined
  afterFinal: 'cancel' | 'finish'
}

/** Shapes a flow's graphs have had, last used first; a flow whose shape follows its input keeps this many. */
const MAX_SHAPES = 32
/** By the flow's `build` (a flow and the spec it was defined from share it). */
const shapes = new WeakMap<object, Shape[]>()

/** Runs the flow's `build` and checks the graph: names, dangling names, self-listening, unreachable steps. */
export function buildGraph<S extends z.ZodType, R, F>(flow: FlowSpec<S, R, F>, input: z.output<S>): Graph {
  const f = new FlowBuilder(flow.name)
  const outputs = flow.build(f, input)
  f.seal()
  const nodes = f.nodes
  let known = shapes.get(flow.build)
  if (known === undefined) {
    known = []
    shapes.set(flow.build, known)
  }
  let shape = known[0]
  if (shape === undefined || !fits(shape.skeleton, nodes, outputs)) {
    const at = known.findIndex((s) => fits(s.skeleton, nodes, outputs))
    shape = at === -1 ? shapeOf(flow.name, nodes, outputs) : (known.splice(at, 1)[0] as Shape)
    known.unshift(shape)
    if (known.length > MAX_SHAPES) known.pop()
  }
  const first = shape.first === undefined ? undefined : nodes[shape.first]
  return {
    flow: flow.name,
    nodes,
    shape,
    final: nodes[shape.final] as NodeDef,
    first,
    afterFinal: flow.afterFinal ?? 'cancel',
  }
}

/** Whether this build's graph has the shape of `skeleton`: the same nodes, triggers and outputs. */
function fits(
  skeleton: Skeleton,
  nodes: readonly NodeDef[],
  outputs: FlowOutputs<unknown, unknown> | undefined,
): boolean {
  if (nodes.length !== skeleton.nodes.length) return false
  if (outputs?.final?.name !== skeleton.final || outputs?.first?.name !== skeleton.first) return false
  for (let i = 0; i < nodes.length; i++) {
    const a = nodes[i] as NodeDef
    const b = skeleton.nodes[i] as Skeleton['nodes'][number]
    if (a.kind !== b.kind || a.name !== b.name || a.labels.length !== b.labels.length) return false
    for (let j = 0; j < a.labels.length; j++) if (a.labels[j] !== b.labels[j]) return false
    if (
      a.trigger !== b.trigger &&
      (a.trigger === undefined || b.trigger === undefined || !sameTrigger(a.trigger, b.trigger))
    )
      return false
  }
  return true
}

/**
 * The label a router's outcome routes to; a router that returned a label it does not declare
 * fails instead. Other steps, failures and a router's null route nowhere.
 */
export function routed(node: NodeDef, outcome: Outcome): { label: string | undefined; outcome: Outcome } {
  if (!outcome.ok || node.kind !== 'router' || outcome.value == null) return { label: undefined, outcome }
  const label = String(outcome.value)
  if (node.labels.includes(label)) return { label, outcome }
  const error = new EngineError(
    'unknown_label',
    `router '${node.name}' returned '${label}', which is not one of its labels (${node.labels.join(', ')})`,
  )
  return { label: undefined, outcome: { ok: false, error, cancelled: false } }
}

/** The router that emits `label`, in this graph. */
export function routerOf(graph: Graph, label: string): NodeDef | undefined {
  const i = graph.shape.routers.get(label)
  return i === undefined ? undefined : graph.nodes[i]
}

/** Checks a graph met for the first time and works out what its shape decides. */
function shapeOf(flow: string, nodes: NodeDef[], outputs: FlowOutputs<unknown, unknown> | undefined): Shape {
  checkNames(flow, nodes)
  const byName = new Map(nodes.map((n) => [n.name, n]))
  const routerOf = new Map<string, NodeDef>()
  for (const node of nodes) for (const label of node.labels) routerOf.set(label, node)
  if (nodes.every((n) => n.kind !== 'start')) throw new FlowDefinitionError(flow, 'it has no start step')

  const subscribers = new Map<string, number[]>()
  for (const node of nodes) {
    if (node.trigger === undefined) continue
    checkTrigger(flow, node, node.trigger, byName, routerOf)
    for (const source of new Set(sourcesOf(node.trigger))) {
      const list = subscribers.get(source) ?? []
      list.push(node.index)
      subscribers.set(source, list)
    }
  }
  const final = outputs?.final === undefined ? undefined : byName.get(outputs.final.name)
  if (final === undefined)
    throw new FlowDefinitionError(flow, 'build() must return { final } naming one of its steps')
  const first = outputs?.first === undefined ? undefined : byName.get(outputs.first.name)
  if (outputs?.first !== undefined && first === undefined) {
    throw new FlowDefinitionError(flow, `its first output '${outputs.first.name}' is not a step of this flow`)
  }
  checkReachable(flow, nodes, routerOf)
  const skeleton: Skeleton = {
    nodes: nodes.map(({ kind, name, labels, trigger }) => ({ kind, name, labels: [...labels], trigger })),
    final: outputs?.final?.name,
    first: outputs?.first?.name,
  }
  return {
    skeleton,
    index: new Map(nodes.map((n) => [n.name, n.index])),
    routers: new Map([...routerOf].map(([label, node]) => [label, node.index])),
    subscribers,
    gates: nodes.map((n) => (n.trigger === undefined ? undefined : gateShape(n.trigger))),
    final: final.index,
    first: first?.index,
    steps: Object.freeze(nodes.map((n) => Object.freeze({ name: n.name, kind: n.kind }))),
    upstreamOfFinal: upstreamOf(final.name, byName, routerOf),
  }
}

/** `name` and every step its trigger depends on, through router labels to their routers. */
function upstreamOf(name: string, byName: Map<string, NodeDef>, routerOf: Map<string, NodeDef>): Set<string> {
  const upstream = new Set<string>()
  const visit = (name: string): void => {
    const node = byName.get(name) ?? routerOf.get(name)
    if (node === undefined || upstream.has(node.name)) return
    upstream.add(node.name)
    if (node.trigger !== undefined) for (const source of sourcesOf(node.trigger)) visit(source)
  }
  visit(name)
  return upstream
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
