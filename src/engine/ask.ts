/**
 * Asking people from a step: `ctx.ask(...)` puts a question (choices, or a small form) to the person
 * who ran the command, named users or anyone, and resolves with the decided answer. The engine only
 * numbers the question, checks the answer and stops the step's clock while it waits; who is asked,
 * how, and where the answers are kept is the `Asker`'s (the bot journals and renders it).
 */
import { z } from 'zod'
import { EngineError } from './errors.ts'
import { type Tally, tallyOf } from './tally.ts'

/** Who may answer: the person who ran the command (default), anyone in the channel, or these user ids. */
export type Askee = 'requester' | 'anyone' | { users: readonly string[] }

/** A choice: its value (what the step gets) and, optionally, the label people see. */
export type Choice<V extends string> = V | { value: V; label: string }

interface AskBase<T> {
  /** The question, markdown. */
  prompt: string
  /** Who may answer; default the person who ran the command. */
  who?: Askee
  /**
   * How long the question stays open: milliseconds or a duration (`'90s'`, `'10m'`, `'2h'`, `'3d'`).
   * Waiting does not count against the step's timeout.
   */
  timeout: number | string
  /**
   * What the step gets when the time is up with no decision: `{ value }`. Without it the step fails
   * with a NoAnswerError that says so: never the first option by accident.
   */
  onTimeout?: { value: T }
  /** Names the question within its step call (default: its place among the step's asks, 1, 2, …). */
  id?: string
}

/** A question answered by picking one of `choices` (buttons, or a select past 5). */
export interface ChoiceAsk<V extends string> extends AskBase<V> {
  choices: ReadonlyArray<Choice<V>>
  /**
   * Collect answers from several people: each counts once and may change their answer while it is
   * open; it closes when `agree` answers agree, or `answers` people have answered (the leader wins),
   * or at the deadline (the leader wins; none or a tie is no decision). Without it, the first answer
   * decides.
   */
  collect?: { agree?: number; answers?: number }
}

/** A question answered with a small form (a modal): a zod object of text fields, checked on submit. */
export interface FormAsk<S extends z.ZodObject> extends AskBase<z.output<S>> {
  /** The fields; each field's `.describe()` is its label. Text fields, at most 5. */
  form: S
  /** The form's title (default: the prompt's first line, cut to fit). */
  title?: string
}

/** The decided answer of a question. */
export interface Answer<T> {
  value: T
  /**
   * How it was decided: `answered` (the first answer of a single question), `agreed` (`agree` people
   * agreed), `counted` (`answers` people answered, the leader won), `closed` (the deadline passed and
   * one choice led), `timeout` (the deadline passed: the `onTimeout` value).
   */
  outcome: 'answered' | 'agreed' | 'counted' | 'closed' | 'timeout'
  /** Who decided it (the last answer that closed it); undefined when time decided it. */
  by: string | undefined
  /** Every counted answer, one per person (their last), in the order they first answered. */
  answers: Array<{ user: string; value: T }>
  /** Choice questions: every choice with its count, most first (ties in declared order). */
  tally: Tally<T>
}

/** The question as the engine hands it to the asker: plain data but for the form's schema. */
export interface Question {
  runId: string
  step: string
  /** Unique in the run and stable across resumes and retries: `<step>#<call>#<n or id>`. */
  id: string
  prompt: string
  who: Askee
  choices: Array<{ value: string; label: string }> | undefined
  form: { title: string; schema: z.ZodObject } | undefined
  /** undefined: the first answer decides. */
  collect: { agree?: number; answers?: number } | undefined
  timeoutMs: number
  onTimeout: { value: unknown } | undefined
}

/** Puts questions to people and resolves each with its decision, or rejects (NoAnswerError, cancel). */
export interface Asker {
  ask(question: Question, signal: AbortSignal): Promise<Answer<unknown>>
}

/** `ctx.ask`: a choice question gets one of its values, a form question its parsed object. */
export interface Ask {
  <const V extends string>(spec: ChoiceAsk<V>): Promise<Answer<V>>
  <S extends z.ZodObject>(spec: FormAsk<S>): Promise<Answer<z.output<S>>>
}

/** The deadline passed (or the vote closed tied or empty) and the question had no `onTimeout`. */
export class NoAnswerError extends EngineError {
  readonly question: string
  readonly answers: Array<{ user: string; value: unknown }>
  readonly tally: Tally<unknown>
  constructor(
    question: Pick<Question, 'id' | 'prompt'>,
    answers: NoAnswerError['answers'],
    tally: Tally<unknown>,
  ) {
    const leaders = tally.filter((t) => t.count > 0 && t.count === tally[0]?.count)
    const why =
      answers.length === 0
        ? 'no one answered in time'
        : leaders.length > 1
          ? `the vote closed tied between ${leaders.map((l) => l.label).join(' and ')}`
          : 'it closed without a decision'
    super('no_answer', `no decision on "${firstLine(question.prompt)}": ${why}`)
    this.question = question.id
    this.answers = answers
    this.tally = tally
  }
}

/** The run has no one to ask (no asker configured), or the question itself is malformed. */
export class AskError extends EngineError {
  /** The message without the step: what the people asked may read. */
  readonly reason: string
  constructor(step: string, message: string) {
    super('ask', `step '${step}': ${message}`)
    this.reason = message
  }
}

/** Milliseconds in a duration: a number of ms, or `<n>ms|s|m|h|d` (`'90s'`, `'10m'`, `'1.5h'`). */
export function durationMs(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : undefined
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)\s*$/i.exec(value)
  if (m === null) return undefined
  const unit = { ms: 1, s: 1_000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 }[
    (m[2] as string).toLowerCase() as 'ms'
  ]
  const ms = Number(m[1]) * unit
  return ms > 0 ? ms : undefined
}

/** What `askFor` needs of the step try it serves. */
export interface AskPlan {
  runId: string
  step: string
  /** The step's call number in the run (1 for the first). */
  call: number
  asker: Asker | undefined
  signal: AbortSignal
  /** Stops the step's clock while a question waits; the result restarts it. */
  pause(): () => void
}

/** `ctx.ask` for one try of a step: numbers its questions, checks them and their answers. */
export function askFor(plan: AskPlan): Ask {
  let n = 0
  const ids = new Set<string>()
  const ask = async (spec: ChoiceAsk<string> | FormAsk<z.ZodObject>): Promise<Answer<unknown>> => {
    n++
    const question = questionOf(plan, spec, n)
    // The id keys the question's answer (in the journal too): a second question under it would get the first's.
    if (ids.has(question.id))
      throw new AskError(plan.step, `question ${question.id} is asked twice; give each ask its own \`id\``)
    ids.add(question.id)
    if (plan.asker === undefined)
      throw new AskError(plan.step, 'this run has no one to ask (no asker was given to runFlow)')
    const resume = plan.pause()
    try {
      const answer = await plan.asker.ask(question, plan.signal)
      return checked(question, answer)
    } finally {
      resume()
    }
  }
  return ask as Ask
}

/** The question `spec` describes, or an AskError that says what is wrong with it. */
function questionOf(plan: AskPlan, spec: ChoiceAsk<string> | FormAsk<z.ZodObject>, n: number): Question {
  const fail = (message: string): never => {
    throw new AskError(plan.step, message)
  }
  if (typeof spec?.prompt !== 'string' || spec.prompt.trim() === '') fail('an ask needs a prompt')
  const timeoutMs =
    durationMs(spec.timeout) ?? fail(`timeout '${String(spec.timeout)}' is not a duration like '10m'`)
  const who = spec.who ?? 'requester'
  if (typeof who === 'object' && (!Array.isArray(who.users) || who.users.length === 0))
    fail('`who: { users }` needs at least one user id')
  const base = {
    runId: plan.runId,
    step: plan.step,
    id: `${plan.step}#${plan.call}#${spec.id ?? n}`,
    prompt: spec.prompt,
    who,
    timeoutMs,
    onTimeout: spec.onTimeout,
  }
  if ('form' in spec && spec.form !== undefined) {
    if (!(spec.form instanceof z.ZodObject)) fail('`form` must be a z.object of fields')
    const fields = Object.keys(spec.form.shape)
    if (fields.length === 0 || fields.length > 5) fail('a form has 1 to 5 fields (Slack and Discord modals)')
    const title = (spec.title ?? firstLine(spec.prompt)).slice(0, 45)
    return { ...base, choices: undefined, form: { title, schema: spec.form }, collect: undefined }
  }
  const choices = ((spec as ChoiceAsk<string>).choices ?? []).map((c) =>
    typeof c === 'string' ? { value: c, label: c } : { value: c.value, label: c.label },
  )
  if (choices.length < 2) fail('a choice question needs at least 2 choices')
  if (choices.length > 25) fail('a choice question has at most 25 choices (a select menu)')
  if (new Set(choices.map((c) => c.value)).size !== choices.length) fail('choice values must differ')
  const collect = (spec as ChoiceAsk<string>).collect
  for (const [k, v] of Object.entries(collect ?? {}))
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) fail(`collect.${k} must be a whole number ≥ 1`)
  if (spec.onTimeout !== undefined && !choices.some((c) => c.value === spec.onTimeout?.value))
    fail(`onTimeout value '${String(spec.onTimeout.value)}' is not one of the choices`)
  return { ...base, choices, form: undefined, collect }
}

/** The asker's answer, checked against the question: a choice among its values, a form through its schema. */
function checked(question: Question, answer: Answer<unknown>): Answer<unknown> {
  if (question.form !== undefined) {
    const parsed = question.form.schema.safeParse(answer.value)
    if (!parsed.success)
      throw new AskError(
        question.step,
        `the answer to ${question.id} does not fit its form: ${parsed.error.message}`,
      )
    return { ...answer, value: parsed.data }
  }
  if (!question.choices?.some((c) => c.value === answer.value))
    throw new AskError(question.step, `the answer to ${question.id} is not one of its choices`)
  return {
    ...answer,
    tally: answer.tally.length > 0 ? answer.tally : tallyOf(question.choices ?? [], answer.answers),
  }
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? ''
  return line.length > 80 ? `${line.slice(0, 79)}…` : line
}
