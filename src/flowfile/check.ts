/**
 * A file's graph and templates checked before anything runs: every name a trigger or a template uses
 * exists and is in reach, `final` and `first` name what they should, and no cycle lacks a router.
 */
import { didYouMean, listed, type Problem } from './errors.ts'
import { checkOptions } from './input.ts'
import { checkNames, type Kind } from './names.ts'
import type { Source } from './parse.ts'
import { JOIN_NAMES, namesOf, type RouterTrigger } from './scope.ts'
import type { FlowFile } from './shape.ts'
import { type PlanStep, readStep } from './steps.ts'
import { placeholders } from './template.ts'
import { readTrigger, refsOf, type TriggerNode } from './trigger.ts'

/** A checked file: its steps read, each router label with its router. */
export interface Plan {
  file: FlowFile
  steps: PlanStep[]
  /** label → the router step that emits it. */
  routers: Map<string, PlanStep>
  first: TriggerNode | undefined
  /** `routerOf` for scope.ts: what a name in a trigger passes. */
  routerOf: RouterTrigger
}

/** The name of the step a `first:` join becomes. */
export const FIRST_STEP = 'first'

/** Checks the file; `plan` is set only when there are no problems. Warnings do not stop loading. */
export function checkFlow(
  source: Source,
  file: FlowFile,
): { plan: Plan | undefined; problems: Problem[]; warnings: Problem[] } {
  const { kinds, problems } = checkNames(source, file)
  problems.push(...checkOptions(source, file.input))
  const read = Object.entries(file.steps).map(([name, step]) => readStep(source, name, step, problems))
  const first = file.first === undefined ? undefined : readTrigger(source, ['first'], file.first, problems)
  // The checks go on with the steps that could be read, so that one run lists every problem.
  const steps = read.filter((s) => s !== undefined)
  const routers = new Map<string, PlanStep>()
  for (const step of steps) for (const label of step.labels) routers.set(label, step)
  const routerOf: RouterTrigger = (name) => (kinds.get(name) === 'label' ? routers.get(name)?.after : null)
  const plan: Plan = { file, steps, routers, first, routerOf }
  problems.push(
    ...checkTriggers(source, plan, kinds),
    ...checkOutputs(source, plan, kinds),
    ...checkTemplates(source, plan, kinds),
    ...checkCycles(source, plan),
  )
  if (problems.length > 0 || steps.length < read.length) return { plan: undefined, problems, warnings: [] }
  return { plan, problems, warnings: deadEnds(source, plan) }
}

function checkTriggers(source: Source, plan: Plan, kinds: Map<string, Kind>): Problem[] {
  const problems: Problem[] = []
  const listenable = [...kinds].filter(([, k]) => k !== 'option').map(([n]) => n)
  const check = (node: TriggerNode, who: string, self: PlanStep | undefined): void => {
    const others = listenable.filter((n) => n !== self?.name && !self?.labels.includes(n))
    for (const { name, path } of refsOf(node)) {
      const kind = kinds.get(name)
      const at = source.at(path)
      if (kind === undefined)
        problems.push({
          ...at,
          message: `${who} listens to '${name}', which is no step or label of this flow${didYouMean(name, others)}. Name one of: ${others.join(', ')}`,
        })
      else if (kind === 'option')
        problems.push({
          ...at,
          message: `${who} listens to '${name}', which is an option: options are in every template ({{${name}}}). Name a step or a label here`,
        })
      else if (self !== undefined && (name === self.name || self.labels.includes(name)))
        problems.push({
          ...at,
          message: `${who} listens to ${name === self.name ? 'itself' : `its own label '${name}'`}. Name a step or label before it`,
        })
    }
  }
  for (const step of plan.steps) if (step.after !== undefined) check(step.after, `step '${step.name}'`, step)
  if (plan.first !== undefined) check(plan.first, 'first', undefined)
  return problems
}

function checkOutputs(source: Source, plan: Plan, kinds: Map<string, Kind>): Problem[] {
  const { final } = plan.file
  const steps = plan.steps.map((s) => s.name)
  const problems: Problem[] = []
  if (kinds.get(final) !== 'step') {
    const what = kinds.has(final)
      ? `is ${kinds.get(final) === 'option' ? 'an option' : 'a label'}, not a step`
      : 'is no step of this flow'
    problems.push({
      ...source.at(['final']),
      message: `final '${final}' ${what}${didYouMean(final, steps)}. Name the step whose output is the answer: one of ${steps.join(', ')}`,
    })
  }
  if (plan.steps.length > 0 && plan.steps.every((s) => s.after !== undefined))
    problems.push({
      ...source.keyAt(['steps']),
      message:
        'no step starts the flow: every step has an after. Leave after out of the steps that start at once',
    })
  const first = plan.first
  const joins = first !== undefined && (first.kind !== 'ref' || kinds.get(first.name) === 'label')
  if (joins && kinds.has(FIRST_STEP))
    problems.push({
      ...source.at(['first']),
      message: `a first result that joins becomes a step named '${FIRST_STEP}', and this flow already has a ${kinds.get(FIRST_STEP)} of that name. Rename it, or write first: <a step>`,
    })
  return problems
}

function checkTemplates(source: Source, plan: Plan, kinds: Map<string, Kind>): Problem[] {
  const problems: Problem[] = []
  const options = Object.keys(plan.file.input)
  for (const step of plan.steps) {
    const given = new Set(options)
    if (step.after !== undefined) for (const n of namesOf(step.after, plan.routerOf)) given.add(n)
    for (const { path, template } of step.templates) {
      for (const p of placeholders(template)) {
        if (given.has(p.name)) continue
        // A name its trigger gets wrong is said there; the list holds names that exist.
        const names = [...given].filter((n) => kinds.has(n) || (JOIN_NAMES as readonly string[]).includes(n))
        const hint =
          kinds.get(p.name) === 'step'
            ? `To wait for step '${p.name}', add it to this step's after`
            : `Use one of: ${names.join(', ')}${didYouMean(p.name, names)}`
        problems.push({
          ...source.within(path, p.raw, p.nth),
          message: `{{${p.name}}} in step '${step.name}': no option or step it listens to is called '${p.name}'. ${hint}`,
        })
      }
    }
  }
  return problems
}

/** Steps that feed each other with no router between them would run until their call limit. */
function checkCycles(source: Source, plan: Plan): Problem[] {
  const plain = new Map(plan.steps.filter((s) => s.labels.length === 0).map((s) => [s.name, s]))
  const feeds = (step: PlanStep): string[] =>
    step.after === undefined
      ? []
      : refsOf(step.after)
          .map((r) => r.name)
          .filter((n) => plain.has(n) && n !== step.name)
  const upstream = (name: string): Set<string> => {
    const seen = new Set<string>()
    const stack = feeds(plain.get(name) as PlanStep)
    while (stack.length > 0) {
      const next = stack.pop() as string
      if (seen.has(next)) continue
      seen.add(next)
      stack.push(...feeds(plain.get(next) as PlanStep))
    }
    return seen
  }
  const problems: Problem[] = []
  const reported = new Set<string>()
  for (const step of plain.values()) {
    if (reported.has(step.name)) continue
    const up = upstream(step.name)
    if (!up.has(step.name)) continue
    const cycle = [...plain.keys()].filter((n) => up.has(n) && upstream(n).has(step.name))
    for (const n of cycle) reported.add(n)
    problems.push({
      ...source.at([...step.path, 'after']),
      message: `steps ${listed(cycle)} listen to each other with no router between them: they would run until their call limit. Break the cycle, or put a router (route:) in it that decides when it ends`,
    })
  }
  return problems
}

/** Steps whose output nothing uses: not final, not in first, and nothing listens to them or their labels. */
function deadEnds(source: Source, plan: Plan): Problem[] {
  const used = new Set<string>([plan.file.final])
  for (const step of plan.steps)
    if (step.after !== undefined) for (const r of refsOf(step.after)) used.add(r.name)
  if (plan.first !== undefined) for (const r of refsOf(plan.first)) used.add(r.name)
  return plan.steps
    .filter((s) => !used.has(s.name) && !s.labels.some((l) => used.has(l)))
    .map((s) => ({
      ...source.keyAt(s.path),
      message: `step '${s.name}': nothing listens to it and it is neither first nor final, so its output is never used. Listen to it, or remove it`,
    }))
}
