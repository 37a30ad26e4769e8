/** A step of a file read into what it does: a prompt (once, repeated, or routing), a text, or an ask. */
import { type Askee, durationMs } from '../engine/index.ts'
import { listed, type Problem } from './errors.ts'
import type { Path, Source } from './parse.ts'
import type { FileAsk, FileStep } from './shape.ts'
import { parseTemplate, type Template } from './template.ts'
import { readTrigger, type TriggerNode } from './trigger.ts'

interface Model {
  system: Template | undefined
  temperature: number | undefined
}

export type Action =
  | ({ kind: 'prompt'; prompt: Template; repeat: { k: number; join: 'vote' | 'merge' } | undefined } & Model)
  | ({ kind: 'route'; prompt: Template; labels: string[] } & Model)
  | { kind: 'text'; text: Template }
  | {
      kind: 'ask'
      prompt: Template
      choices: Array<{ value: string; label: string }>
      who: Askee
      timeout: string
      collect: { agree?: number; answers?: number } | undefined
      onTimeout: string | undefined
    }

export interface PlanStep {
  name: string
  path: Path
  after: TriggerNode | undefined
  action: Action
  /** A router's labels (a `route` step); empty for other steps. */
  labels: string[]
  model: string | undefined
  /** Every template of the step, where it is written. */
  templates: Array<{ path: Path; template: Template }>
}

export const ASK_TIMEOUT = '10m'

/** Reports a problem at a key of the step (`'route'`, `['ask', 'timeout']`). */
type Fail = (at: string | readonly string[], message: string) => void

const ACTIONS = ['prompt', 'text', 'ask'] as const

/** Reads step `name`; what is wrong goes to `problems` (and the step is then undefined). */
export function readStep(
  source: Source,
  name: string,
  step: FileStep,
  problems: Problem[],
): PlanStep | undefined {
  const path = ['steps', name]
  const before = problems.length
  const fail: Fail = (at, message) => {
    problems.push({ ...source.keyAt([...path, ...[at].flat()]), message: `step '${name}': ${message}` })
  }
  const actions = ACTIONS.filter((a) => step[a] !== undefined)
  if (actions.length !== 1) {
    const what = actions.length === 0 ? 'does nothing' : `has ${listed(actions)} at once`
    problems.push({
      ...source.keyAt(path),
      message: `step '${name}' ${what}. Give it exactly one of prompt (a model call), text (a template) or ask (a question to people)`,
    })
    return undefined
  }
  const templates: PlanStep['templates'] = []
  const template = (at: Path, text: string): Template => {
    const { template, errors } = parseTemplate(text)
    for (const e of errors)
      problems.push({ ...source.within(at, e.raw, e.nth), message: `step '${name}': ${e.message}` })
    templates.push({ path: at, template })
    return template
  }
  const after =
    step.after === undefined ? undefined : readTrigger(source, [...path, 'after'], step.after, problems)
  if (actions[0] !== 'prompt') {
    for (const key of ['system', 'temperature', 'model', 'repeat', 'join'] as const)
      if (step[key] !== undefined)
        fail(key, `'${key}' applies to a prompt step only. Remove it, or make the step a prompt`)
  }
  if (step.route !== undefined && step.after === undefined)
    fail('route', 'a router decides on what it listens to. Add after: <the step whose output it routes>')
  const action = actionOf(step, path, template, fail)
  if (problems.length > before || action === undefined) return undefined
  const labels =
    action.kind === 'route' || (action.kind === 'ask' && step.route !== undefined)
      ? [...(step.route ?? [])]
      : []
  return { name, path, after, action, labels, model: step.model, templates }
}

function actionOf(
  step: FileStep,
  path: Path,
  template: (at: Path, text: string) => Template,
  fail: Fail,
): Action | undefined {
  if (step.text !== undefined) {
    if (step.route !== undefined) fail('route', 'a text step cannot route. Route with a prompt or an ask')
    return { kind: 'text', text: template([...path, 'text'], step.text) }
  }
  if (step.ask !== undefined) return askOf(step.ask, step.route, [...path, 'ask'], template, fail)
  const prompt = template([...path, 'prompt'], step.prompt as string)
  const model = {
    system: step.system === undefined ? undefined : template([...path, 'system'], step.system),
    temperature: step.temperature,
  }
  if ((step.repeat === undefined) !== (step.join === undefined)) {
    const [has, lacks] = step.repeat === undefined ? ['join', 'repeat'] : ['repeat', 'join']
    fail(
      has,
      `'${has}' needs '${lacks}'. Write both: repeat: 5 and join: vote (the majority) or join: merge (every idea once)`,
    )
    return undefined
  }
  if (step.route !== undefined) {
    if (step.repeat !== undefined) fail('repeat', 'a router is asked once. Remove repeat and join')
    return { kind: 'route', prompt, labels: step.route, ...model }
  }
  const repeat = step.repeat === undefined ? undefined : { k: step.repeat, join: step.join ?? 'vote' }
  return { kind: 'prompt', prompt, repeat, ...model }
}

function askOf(
  ask: FileAsk,
  route: string[] | undefined,
  path: Path,
  template: (at: Path, text: string) => Template,
  fail: Fail,
): Action | undefined {
  const prompt = template([...path, 'prompt'], ask.prompt)
  const given =
    ask.choices === undefined
      ? undefined
      : Array.isArray(ask.choices)
        ? ask.choices.map((c) => ({ value: c, label: c }))
        : Object.entries(ask.choices).map(([value, label]) => ({ value, label }))
  const choices = given ?? route?.map((l) => ({ value: l, label: l }))
  if (choices === undefined) {
    fail(['ask', 'prompt'], 'an ask needs choices. Add choices: [yes, no] (or a map value: label)')
    return undefined
  }
  const values = choices.map((c) => c.value)
  if (route !== undefined && (values.length !== route.length || route.some((l) => !values.includes(l))))
    fail(
      'route',
      `an ask that routes offers its labels as its choices. Leave choices out, or give each label its text: choices: { ${route.map((l) => `${l}: …`).join(', ')} }`,
    )
  if (choices.length < 2 || choices.length > 25)
    fail(['ask', 'choices'], `an ask offers 2 to 25 choices, not ${choices.length}. Change its choices`)
  if (new Set(values).size !== values.length)
    fail(['ask', 'choices'], 'two choices have the same value. Give each its own')
  const timeout = ask.timeout ?? ASK_TIMEOUT
  if (durationMs(timeout) === undefined)
    fail(['ask', 'timeout'], `timeout '${timeout}' is not a duration. Write one like 90s, 10m, 2h or 1d`)
  if (ask.on_timeout !== undefined && !values.includes(ask.on_timeout))
    fail(
      ['ask', 'on_timeout'],
      `on_timeout '${ask.on_timeout}' is not one of its choices (${values.join(', ')}). Use one of them`,
    )
  const who: Askee = Array.isArray(ask.who) ? { users: ask.who } : (ask.who ?? 'requester')
  const collect =
    ask.collect === undefined
      ? undefined
      : Object.fromEntries(Object.entries(ask.collect).filter(([, v]) => v !== undefined))
  return { kind: 'ask', prompt, choices, who, timeout, collect, onTimeout: ask.on_timeout }
}
