import type { FlowNode } from '../../engine/index.ts'
import { esc } from './html.ts'

/** How each step's latest call ended in this run, by step name. */
export type StepStates = ReadonlyMap<string, { status: 'ok' | 'failed' | 'cancelled'; calls: number }>

/**
 * The flow's graph for the run's input, drawn on the server: steps in columns by how many steps
 * stand before them, each box saying what it waits for and how its call ended in this run. (The
 * same graph as Mermaid is `npm run plot`, and is below the boxes.)
 */
export function graphView(nodes: FlowNode[], states: StepStates): string {
  const depth = new Map<string, number>()
  // Router cycles have no depth: passes stop once nothing changes or after one per node.
  for (let pass = 0; pass <= nodes.length; pass++) {
    let changed = false
    for (const node of nodes) {
      const d = node.after.length === 0 ? 0 : 1 + Math.max(...node.after.map((a) => depth.get(a) ?? 0))
      const capped = Math.min(d, nodes.length)
      if (depth.get(node.name) !== capped) {
        depth.set(node.name, capped)
        changed = true
      }
    }
    if (!changed) break
  }
  const layers: FlowNode[][] = []
  for (const node of nodes) {
    const d = depth.get(node.name) ?? 0
    layers[d] = [...(layers[d] ?? []), node]
  }
  const box = (node: FlowNode): string => {
    const state = states.get(node.name)
    const mark =
      state === undefined ? '·' : state.status === 'ok' ? '✓' : state.status === 'failed' ? '✗' : '⏹'
    const classes = ['node', node.kind, state?.status ?? '', node.output === undefined ? '' : 'output']
    const calls = state !== undefined && state.calls > 1 ? ` · ${state.calls} calls` : ''
    const waits = node.waitsFor === undefined ? 'start' : `after ${node.waitsFor}`
    const output = node.output === undefined ? '' : ` · ${node.output} output`
    return `<div class="${classes.filter((c) => c !== '').join(' ')}" data-node="${esc(node.name)}">${esc(mark)} <b>${esc(node.name)}</b><small>${esc(`${waits}${output}${calls}`)}</small></div>`
  }
  const columns = layers
    .filter((l) => l !== undefined)
    .map((l) => `<div class="layer">${l.map(box).join('')}</div>`)
  return `<div class="graph" id="graph">${columns.join('<div class="layer muted">→</div>')}</div>`
}
