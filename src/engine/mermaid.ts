import type { z } from 'zod'
import type { Flow } from './flow.ts'
import { buildGraph, routerOf } from './graph.ts'
import {
  type AnyTrigger,
  describe,
  type QuorumTrigger,
  type Step,
  sourcesOf,
  type Trigger,
} from './triggers.ts'

/** One step of a flow's graph as plain data, for views other than Mermaid (the run inspector). */
export interface FlowNode {
  name: string
  kind: 'start' | 'listen' | 'router'
  /** What it waits for, e.g. `all(angle-a, angle-b)`; undefined for start steps. */
  waitsFor: string | undefined
  /** The steps whose outcomes fire it (a router label stands for its router). */
  after: string[]
  /** Set on the flow's explicit outputs. */
  output: 'first' | 'final' | undefined
}

/** A flow's steps for one (parsed) input, in declared order. */
export function flowNodes<S extends z.ZodType>(
  flow: Flow<S, unknown, unknown>,
  input: z.output<S>,
): FlowNode[] {
  const graph = buildGraph(flow, input)
  return graph.nodes.map((node) => ({
    name: node.name,
    kind: node.kind,
    waitsFor: node.trigger === undefined ? undefined : describe(node.trigger),
    after:
      node.trigger === undefined
        ? []
        : sourcesOf(node.trigger).map((name) =>
            graph.shape.routers.has(name) ? (routerOf(graph, name)?.name ?? name) : name,
          ),
    output: graph.final.name === node.name ? 'final' : graph.first?.name === node.name ? 'first' : undefined,
  }))
}

/** Draws a flow as a Mermaid flowchart, for its `example` input (or the one given). */
export function toMermaid<S extends z.ZodType>(flow: Flow<S, unknown, unknown>, input?: z.input<S>): string {
  const raw = input ?? flow.example
  if (raw === undefined) throw new Error(`flow '${flow.name}' has no example input; pass one to toMermaid`)
  const graph = buildGraph(flow, flow.input.parse(raw))
  const id = new Map(graph.nodes.map((n, i) => [n.name, `s${i}`]))
  const lines = ['flowchart TD']
  for (const node of graph.nodes) {
    const shape =
      node.kind === 'start'
        ? `(["${node.name}"])`
        : node.kind === 'router'
          ? `{"${node.name}"}`
          : `["${node.name}"]`
    lines.push(`  ${id.get(node.name)}${shape}`)
  }
  let joins = 0
  const source = (t: Trigger<unknown>): { node: string; label?: string } => {
    if (t.kind === 'step') return { node: id.get((t as Step<unknown>).name) as string }
    if (t.kind === 'label') {
      const label = (t as Step<unknown>).name
      return { node: id.get(routerOf(graph, label)?.name ?? '') as string, label }
    }
    const j = `j${joins++}`
    const c = t as AnyTrigger<unknown> | QuorumTrigger<unknown>
    const opts = t.kind === 'quorum' ? `quorum ${(c as QuorumTrigger<unknown>).k}` : t.kind
    const partial = t.kind === 'all' && (t as unknown as { partial: boolean }).partial ? ' partial' : ''
    lines.push(`  ${j}((${opts}${partial}))`)
    for (const input of c.inputs) edge(source(input), j)
    return { node: j }
  }
  const edge = (from: { node: string; label?: string }, to: string): void => {
    lines.push(
      from.label === undefined ? `  ${from.node} --> ${to}` : `  ${from.node} -- ${from.label} --> ${to}`,
    )
  }
  for (const node of graph.nodes) {
    if (node.trigger !== undefined) edge(source(node.trigger), id.get(node.name) as string)
  }
  // The flow's explicit outputs (first, final) are drawn with a heavy border.
  const outputs = [graph.first, graph.final].filter((n) => n !== undefined).map((n) => id.get(n.name))
  lines.push(`  classDef output stroke-width:3px`, `  class ${outputs.join(',')} output`)
  return lines.join('\n')
}
