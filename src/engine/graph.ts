/** A flow's graph for one input, and the checks that make a bad graph an error before anything runs. */
import type { z } from 'zod'
import { FlowDefinitionError } from './errors.ts'
import { FlowBuilder, type FlowSpec, type NodeDef } from './flow.ts'
import { describe, type Label, type Step, sourcesOf, type Trigger } from './triggers.ts'

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
  afterFinal: 'cancel' | 'finish'
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
  const afterFinal = flow.afterFinal ?? 'cancel'
  return { flow: flow.name, nodes: f.nodes, byName, subscribers, routerOf, final, first, afterFinal }
}

/** `name` and every step its trigger depends on, through router labels to their routers. */
export function upstreamOf(graph: Graph, name: string): Set<string> {
  const upstream = new Set<string>()
  const visit = (name: string): void => {
    const node = graph.byName.get(name) ?? graph.routerOf.get(name)
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
