import { normalizeAnswer } from './normalize.ts'
import { hash, mulberry32 } from './random.ts'
import { parallelSamples } from './samples.ts'
import {
  type LanguageModel,
  ModelError,
  type SampleOptions,
  type Samples,
  type TextOptions,
} from './types.ts'

export interface DemoModelOptions {
  seed?: number
  /** Latency bounds of one call; default 150–1500 ms, log-normal in between. */
  latency?: { minMs: number; maxMs: number }
}

const MARK = '_(demo)_ '

/**
 * An offline model for trying Chorus without a key: deterministic for a seed (the n-th call with a
 * given prompt always answers the same), with a realistic spread of latencies, and every answer
 * plainly marked as demo text.
 */
export class DemoModel implements LanguageModel {
  readonly id = 'demo'
  readonly demo = true
  readonly #seed: number
  readonly #latency: { minMs: number; maxMs: number }
  readonly #calls = new Map<string, number>()

  constructor(options: DemoModelOptions = {}) {
    this.#seed = options.seed ?? 1
    this.#latency = options.latency ?? { minMs: 150, maxMs: 1_500 }
  }

  async text(prompt: string, options: TextOptions = {}): Promise<string> {
    const key = `${options.system ?? ''}\n${prompt}`
    const call = this.#calls.get(key) ?? 0
    this.#calls.set(key, call + 1)
    const rand = mulberry32(hash(key) ^ Math.imul(this.#seed, 0x9e3779b1) ^ Math.imul(call + 1, 0x85ebca6b))
    const delay = this.#delay(rand)
    const text = `${MARK}${answer(prompt, options.system ?? '', rand)}`
    if (options.onText === undefined || options.json !== undefined) await wait(delay, options.signal)
    else await write(text, delay, options.onText, options.signal)
    options.onUsage?.({
      promptTokens: Math.ceil(key.length / 4),
      completionTokens: Math.ceil(text.length / 4),
      calls: 1,
    })
    return text
  }

  samples(prompt: string, k: number, options?: SampleOptions): Promise<Samples> {
    return parallelSamples(k, (o) => this.text(prompt, o), options)
  }

  #delay(rand: () => number): number {
    const { minMs, maxMs } = this.#latency
    if (maxMs <= minMs) return minMs
    // Log-normal around the geometric mean of the bounds, clamped to them.
    const normal = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
    const mid = Math.sqrt(Math.max(1, minMs) * maxMs)
    return Math.round(Math.min(maxMs, Math.max(minMs, mid * Math.exp(0.6 * normal))))
  }
}

function answer(prompt: string, system: string, rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T
  const topic = (/Topic: (.+)/.exec(prompt)?.[1] ?? prompt).trim().slice(0, 80)
  if (/proposing options for a team decision/i.test(system)) {
    const angle = /Angle: ([^.]+)/.exec(prompt)?.[1] ?? 'General'
    const or = choicesIn(topic).filter(
      (c) => c !== 'Neither' && c !== 'It depends' && c !== 'Yes' && c !== 'No',
    )
    const named = or.length >= 2 ? or : (DECISIONS[angle] ?? DECISIONS.Pragmatic ?? [])
    const lines = named.slice(0, 2).map((o) => `- **${capitalise(o)}**: the ${angle.toLowerCase()} pick.`)
    return lines.join('\n')
  }
  if (/Angle:/.test(prompt)) {
    const angle = /Angle: ([^.]+)/.exec(prompt)?.[1] ?? 'General'
    const words = topic.split(/\s+/).filter((w) => w.length > 3)
    const word = capitalise(words.length > 0 ? pick(words) : 'Idea')
    const ideas = [...IDEAS].sort(() => rand() - 0.5).slice(0, 3 + Math.floor(rand() * 2))
    return `${angle} ideas for “${topic}”:\n${ideas.map((i) => `- **${word} ${i[0]}**: ${i[1]}`).join('\n')}`
  }
  if (/panel chair|rank the best/i.test(`${system} ${prompt}`)) {
    const lines = [...prompt.matchAll(/^- (.+)$/gm)].map((m) => m[1] as string).slice(0, 6)
    const ranked = lines.map(
      (l, i) =>
        `${i + 1}. ${l.replace(/ \(\d+ angles\)$/, '')} — ranked ${ordinal(i + 1)} for reach and cost`,
    )
    return `Ranked ideas:\n${ranked.join('\n')}`
  }
  if (/most consistent/i.test(`${system} ${prompt}`)) {
    // The judge: the response that most others share, as a real judge would name it.
    const responses = [...prompt.matchAll(/^Response (\d+):\n(.*)$/gm)].map((m) =>
      normalizeAnswer(m[2] as string),
    )
    const best = responses.reduce(
      (b, r, i) =>
        responses.filter((x) => x === r).length > responses.filter((x) => x === responses[b]).length ? i : b,
      0,
    )
    return JSON.stringify({ response: best + 1 })
  }
  if (/decision chair/i.test(system)) {
    const chosen = (/voted for: (.+)/.exec(prompt)?.[1] ?? 'this option')
      .replace(/\*\*/g, '')
      .split(':')[0]
      ?.trim()
    return (
      `The team chose ${chosen}: it had the broadest support and can start this week.\n` +
      '- Name an owner and a first milestone today\n- Check back in two weeks on what changed'
    )
  }
  const listed = /^List the ([\w ]+?) in these notes: ([\s\S]+)$/i.exec(prompt.trim())
  if (listed !== null) return notesList(listed[1] as string, listed[2] as string)
  if (/^Write a short standup summary/i.test(prompt.trim())) {
    const line = (label: string) =>
      (new RegExp(`^${label}: (.*)$`, 'm').exec(prompt)?.[1] ?? '')
        .replace(/^_\(demo\)_\s*/, '')
        .replace(/^- /, '')
    return `Yesterday went well: ${line('Wins') || 'steady progress'}. Watch out for: ${line('Blockers') || 'nothing'}. Next: ${line('Next steps') || 'keep going'}.`
  }
  if (/slogan/i.test(prompt)) return pick(SLOGANS)
  if (/tagline/i.test(prompt)) return `${pick(TAGLINES)}, for ${topic.replace(/^.*for: /, '')}.`
  if (/reviewer/i.test(system)) {
    const notes = [...REVIEW_NOTES].sort(() => rand() - 0.5).slice(0, 2 + Math.floor(rand() * 2))
    return notes.map((n) => `- ${n}`).join('\n')
  }
  if (/answer only/i.test(system)) {
    const options = choicesIn(prompt)
    // Most samples agree, as a real model's would on an easy question.
    const r = rand()
    return r < 0.75
      ? (options[0] as string)
      : r < 0.93
        ? (options[1] as string)
        : (options[2] ?? (options[0] as string))
  }
  return `A demo answer about “${topic}”. Set OPENAI_API_KEY for real ones.`
}

/** The demo's reading of standup notes: the fragments that look like `kind` (wins, blockers, next steps). */
function notesList(kind: string, notes: string): string {
  const parts = notes
    .split(/[;\n]|\.\s/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
  const blocked = (p: string) => /block|stuck|waiting|wait on|need/i.test(p)
  const next = (p: string) => /next|will|todo|then|plan/i.test(p)
  const picked = /block/i.test(kind)
    ? parts.filter(blocked)
    : /next/i.test(kind)
      ? parts.filter(next)
      : parts.filter((p) => !blocked(p) && !next(p))
  return picked.length === 0
    ? `- No ${kind.toLowerCase()} in these notes.`
    : picked.map((p) => `- ${p}`).join('\n')
}

function choicesIn(question: string): string[] {
  if (/\byes or no\b/i.test(question)) return ['Yes', 'No', 'It depends']
  const or = /(\w[\w -]{0,30}?) or (\w[\w -]{0,30}?)\?/i.exec(question)
  if (or !== null) return [capitalise(or[1] as string), capitalise(or[2] as string), 'Neither']
  return ['Yes', 'No', 'It depends']
}

/** What each /decide proposer suggests on the demo model when the question names no options. */
const DECISIONS: Record<string, string[]> = {
  Pragmatic: ['Start with a small pilot', 'Reuse what we have'],
  Ambitious: ['Go all in this quarter', 'Build it ourselves'],
  Cautious: ['Wait a month and measure', 'Start with a small pilot'],
}

const IDEAS = [
  ['Pulse', 'a live view of what changed since yesterday'],
  ['Compass', 'one weekly question answered for every team'],
  ['Lens', 'zoom from company totals to a single customer in two clicks'],
  ['Tide', 'alerts that arrive only when a trend really turns'],
  ['Atlas', 'a map of every metric and who owns it'],
  ['Beacon', 'a Friday digest that reads like a short story'],
  ['Forge', 'build a chart by describing it in a sentence'],
  ['Echo', 'compare this week with the same week last year'],
] as const

const SLOGANS = [
  'Many minds, one answer.',
  'Think in parallel.',
  'Every angle at once.',
  'Ideas, in chorus.',
] as const
const TAGLINES = [
  'The fastest way to hear every side of an idea',
  'Five perspectives before your coffee cools',
] as const
const REVIEW_NOTES = [
  'The second sentence makes a promise that may be hard to keep; soften “guaranteed”.',
  'Say who the change is for in the first line.',
  'The tone is confident; one concrete date or number would make it credible.',
  'No spelling mistakes found.',
  'Consider how support will answer customers who do not get it next week.',
] as const

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

function ordinal(n: number): string {
  return ['first', 'second', 'third', 'fourth', 'fifth', 'sixth'][n - 1] ?? `#${n}`
}

/**
 * Writes `text` to `onText` as a real model streams: the first words after about a third of `ms`
 * (time to first token), the rest in even steps until `ms`.
 */
async function write(
  text: string,
  ms: number,
  onText: (textSoFar: string) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const ends = [...text.matchAll(/\S+\s*/g)].map((m) => m.index + m[0].length)
  const steps = Math.min(12, ends.length)
  const first = Math.round(ms / 3)
  await wait(first, signal)
  for (let i = 1; i <= steps; i++) {
    if (i > 1) await wait((ms - first) / steps, signal)
    onText(text.slice(0, ends[Math.ceil((i * ends.length) / steps) - 1]))
  }
  if (steps === 0) await wait(ms - first, signal)
}

function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => new ModelError('model_aborted', 'The model call was cancelled')
    if (signal?.aborted) return reject(aborted())
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(aborted())
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
