/** What a file step does when it runs: a model call (once, voted, merged or routing), a text, or an ask. */
import type { StepContext } from '../engine/index.ts'
import { ChorusError } from '../errors.ts'
import {
  dedupeIdeas,
  INVALID,
  leaderDecided,
  majority,
  normalizeAnswer,
  type TextOptions,
} from '../llm/index.ts'
import type { Action } from './steps.ts'
import { render } from './template.ts'

type Values = Readonly<Record<string, string | undefined>>

/** Runs `action` of step `step` with the values its templates read; resolves with the step's output. */
export async function perform(
  step: string,
  action: Action,
  values: Values,
  ctx: StepContext,
): Promise<string> {
  if (action.kind === 'text') return render(action.text, values)
  if (action.kind === 'ask') {
    const answer = await ctx.ask({
      prompt: render(action.prompt, values),
      choices: action.choices,
      who: action.who,
      timeout: action.timeout,
      ...(action.collect === undefined ? {} : { collect: action.collect }),
      ...(action.onTimeout === undefined ? {} : { onTimeout: { value: action.onTimeout } }),
    })
    return answer.value
  }
  const options: TextOptions = {
    signal: ctx.signal,
    ...(action.system === undefined ? {} : { system: render(action.system, values) }),
    ...(action.temperature === undefined ? {} : { temperature: action.temperature }),
  }
  const prompt = render(action.prompt, values)
  if (action.kind === 'route') {
    const answer = await ctx.llm.text(routePrompt(prompt, action.labels), options)
    const label = labelOf(answer, action.labels)
    if (label === undefined) throw new RouteError(step, answer, action.labels)
    return label
  }
  if (action.repeat === undefined) return ctx.llm.text(prompt, options)
  return action.repeat.join === 'vote'
    ? vote(step, prompt, action.repeat.k, options, ctx)
    : merge(step, prompt, action.repeat.k, options, ctx)
}

/** The router's prompt: its own, then the labels it must answer with. */
export function routePrompt(prompt: string, labels: readonly string[]): string {
  return `${prompt}\n\nAnswer with exactly one of these labels and nothing else: ${labels.join(', ')}`
}

/**
 * The label a router's answer names: the answer itself, or the one label it mentions as a word, by
 * normalised text (case, punctuation and markdown aside); undefined when it names none or several.
 */
export function labelOf(answer: string, labels: readonly string[]): string | undefined {
  const norm = (s: string): string =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, ' ')
      .trim()
  const said = norm(answer)
  const exact = labels.find((l) => norm(l) === said)
  if (exact !== undefined) return exact
  const words = new Set(said.split(/\s+/))
  const named = labels.filter((l) => words.has(norm(l)))
  return named.length === 1 ? named[0] : undefined
}

/** A router's answer that names none of its labels. */
export class RouteError extends ChorusError {
  /** The labels it had to pick from: the reply says so (the model's own answer stays in the log). */
  readonly labels: readonly string[]
  constructor(step: string, answer: string, labels: readonly string[]) {
    const said = answer.trim().length > 60 ? `${answer.trim().slice(0, 59)}…` : answer.trim()
    super(
      'route_unmatched',
      `router '${step}' answered "${said}", which is none of its labels (${labels.join(', ')})`,
    )
    this.labels = labels
  }
}

/**
 * k samples, the majority answer: the same normaliser and exact early stop as /vote (the samples the
 * leader no longer needs are not waited for).
 */
async function vote(step: string, prompt: string, k: number, options: TextOptions, ctx: StepContext) {
  const counts = new Map<string, number>()
  let seen = 0
  const samples = await ctx.llm.samples(prompt, k, {
    ...options,
    onSample: (text) => {
      seen++
      const key = normalizeAnswer(text)
      if (key !== INVALID) counts.set(key, (counts.get(key) ?? 0) + 1)
      return seen < k && leaderDecided([...counts.values()], k - seen)
    },
  })
  const tally = majority(samples.texts)
  if (tally.count === 0)
    throw (
      samples.error ?? new ChorusError('vote_empty', `step '${step}': none of its ${k} answers could be read`)
    )
  return tally.answer
}

/** k samples merged into one markdown list, near-duplicates once (as /brainstorm merges its angles). */
async function merge(step: string, prompt: string, k: number, options: TextOptions, ctx: StepContext) {
  const samples = await ctx.llm.samples(prompt, k, options)
  const ideas = dedupeIdeas(samples.texts)
  if (ideas.length === 0)
    throw samples.error ?? new ChorusError('merge_empty', `step '${step}': its ${k} answers were empty`)
  return ideas.map((idea) => `- ${idea.text}`).join('\n')
}
