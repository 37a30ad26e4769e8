/** `defineFlow`: a flow's name rule, and its graph checked when it is defined rather than when it runs. */
import type { z } from 'zod'
import { FlowDefinitionError } from './errors.ts'
import type { Flow, FlowSpec } from './flow.ts'
import { buildGraph } from './graph.ts'

const FLOW_NAME = /^[a-z][a-z0-9-]{0,31}$/

/** Defines a flow; its graph is built and checked at once for its `example` (or its defaults). */
export function defineFlow<S extends z.ZodType, R, F = never>(spec: FlowSpec<S, R, F>): Flow<S, R, F> {
  if (!FLOW_NAME.test(spec.name)) {
    throw new FlowDefinitionError(
      spec.name,
      'name must be 1-32 lowercase letters, digits or dashes, starting with a letter',
    )
  }
  if (spec.example !== undefined) buildGraph(spec, spec.input.parse(spec.example))
  else {
    const defaults = spec.input.safeParse({})
    if (defaults.success) buildGraph(spec, defaults.data)
  }
  return Object.freeze({ ...spec })
}
