/** A checked flow file as an engine flow, made with `defineFlow` like a TypeScript flow. */
import { type AnyFlow, defineFlow, type FlowBuilder, type Step, type StepContext } from '../engine/index.ts'
import { perform } from './actions.ts'
import { FIRST_STEP, type Plan } from './check.ts'
import { exampleOf, inputSchema } from './input.ts'
import { joinOf, textOf } from './scope.ts'
import type { PlanStep } from './steps.ts'

/** The flow a checked file declares; its graph is built and checked by the engine here too. */
export function compile(plan: Plan): AnyFlow {
  const { file } = plan
  const models = Object.fromEntries(
    plan.steps.flatMap((s) => (s.model === undefined ? [] : [[s.name, s.model] as const])),
  )
  return defineFlow({
    name: file.name,
    description: file.description,
    input: inputSchema(file.input),
    example: file.example ?? exampleOf(file.input),
    meta: {
      noun: file.noun ?? 'tasks',
      firstLabel: file.first_label ?? 'First result',
      ...(Object.keys(models).length === 0 ? {} : { models }),
    },
    build(f, input: Record<string, unknown>) {
      const options: Record<string, string> = {}
      for (const [name, value] of Object.entries(input))
        if (value !== undefined) options[name] = textOf(value)
      for (const step of plan.steps) addStep(f, step, plan, options)
      const final = f.ref<unknown>(file.final)
      const first = firstOf(f, plan)
      return first === undefined ? { final } : { first, final }
    },
  })
}

function addStep(f: FlowBuilder, step: PlanStep, plan: Plan, options: Record<string, string>): void {
  const join = step.after === undefined ? undefined : joinOf(step.after, plan.routerOf)
  const run = (payload: unknown, ctx: StepContext): Promise<string> =>
    perform(step.name, step.action, { ...options, ...join?.read(payload).vars }, ctx)
  if (join === undefined) f.start(step.name, (ctx) => run(undefined, ctx))
  else if (step.labels.length > 0) f.router(join.trigger, step.name, run, { labels: step.labels })
  else f.listen(join.trigger, step.name, run)
}

/** `first: <step>` is that step; a join (or a label) becomes a step that shows what it passes. */
function firstOf(f: FlowBuilder, plan: Plan): Step<unknown> | undefined {
  const first = plan.first
  if (first === undefined) return undefined
  if (first.kind === 'ref' && plan.routerOf(first.name) === null) return f.ref(first.name)
  const join = joinOf(first, plan.routerOf)
  return f.listen(join.trigger, FIRST_STEP, (payload) => join.read(payload).text)
}
