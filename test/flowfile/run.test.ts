import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type FlowEvent, MemoryAsker, type Question, runFlow } from '../../src/engine/index.ts'
import { flowFromText } from '../../src/flowfile/index.ts'
import { type Scripted, ScriptedModel } from '../fakes/model.ts'

const root = resolve(import.meta.dirname, '../..')

function load(text: string) {
  return flowFromText(text, 'flows/t.yaml').flow
}

/** Runs `flow` on a scripted model; resolves with the result, the events and the model's calls. */
async function run(
  flow: ReturnType<typeof load>,
  input: Record<string, unknown>,
  script: (prompt: string, call: number) => Scripted,
  asker?: MemoryAsker,
) {
  const model = new ScriptedModel(script)
  const events: FlowEvent[] = []
  const handle = runFlow(flow, input, {
    services: { llm: model },
    ...(asker === undefined ? {} : { asker }),
    onEvent: (e) => void events.push(e),
  })
  return { result: await handle.result, events, model }
}

describe('flows/standup.yaml, as the issue writes it', () => {
  const flow = flowFromText(
    readFileSync(resolve(root, 'flows/standup.yaml'), 'utf8'),
    'flows/standup.yaml',
  ).flow

  it('runs wins, blockers and next in parallel, shows the first, then a summary that read all three', async () => {
    const latency: Record<string, number> = { wins: 10, blockers: 60, next: 120 }
    const { result, events, model } = await run(flow, { notes: '  shipped login; CI flaky  ' }, (prompt) => {
      const kind = /List the (\w+)/.exec(prompt)?.[1]
      if (kind === undefined) return { text: 'All good.' }
      return { text: `- the ${kind}`, latencyMs: latency[kind] ?? 0 }
    })
    expect(result.status).toBe('completed')
    expect(result.output).toBe('All good.')
    expect(result.first).toBe('- the wins')
    // The three started before any finished; the summary started after all three.
    const started = events.filter((e) => e.type === 'step.started').map((e) => (e as { step: string }).step)
    expect(started.slice(0, 3).sort()).toEqual(['blockers', 'next', 'wins'])
    const order = events.flatMap((e) =>
      e.type === 'step.started' || e.type === 'step.completed' ? [`${e.type.slice(5)}:${e.step}`] : [],
    )
    expect(order.indexOf('completed:wins')).toBeGreaterThan(order.indexOf('started:next'))
    expect(order.indexOf('started:summary')).toBeGreaterThan(order.indexOf('completed:next'))
    expect(model.calls.map((c) => c.prompt).slice(0, 3)).toEqual([
      'List the wins in these notes: shipped login; CI flaky',
      'List the blockers in these notes: shipped login; CI flaky',
      'List the next steps in these notes: shipped login; CI flaky',
    ])
    expect(model.calls[3]?.prompt).toBe(
      'Write a short standup summary.\nWins: - the wins\nBlockers: - the blockers\nNext steps: - the next\n',
    )
  })
})

describe('file flows run like code flows', () => {
  it('a vote: k samples, the majority, stopped early once the leader cannot be caught', async () => {
    const flow = load(`name: pick
description: Votes
input:
  question: { type: string, description: The question }
steps:
  answer: { prompt: "{{question}}", repeat: 5, join: vote, temperature: 0.8 }
  say: { after: answer, text: "The answer is {{answer|capitalize}}." }
final: say
`)
    const answers = ['Yes', 'yes.', 'No', 'YES', 'no', 'no']
    const { result, model } = await run(flow, { question: 'Hot dog a sandwich?' }, (_p, i) => ({
      text: answers[i] ?? 'no',
      latencyMs: 5 + i * 15,
    }))
    expect(result.output).toBe('The answer is Yes.')
    // After 4 answers (3 yes, 1 no) the last cannot change the winner: it was cancelled, not awaited.
    expect(model.calls).toHaveLength(5)
    expect(model.calls.filter((c) => c.aborted)).toHaveLength(1)
  })

  it('a merge: k samples, near-duplicates once, as a markdown list', async () => {
    const flow = load(`name: ideas
description: Ideas
input:
  topic: { type: string, description: The topic }
steps:
  ideas: { prompt: "Ideas for {{topic}}", repeat: 3, join: merge }
final: ideas
`)
    const lists = ['- Soup club\n- Taco day', '- A soup club\n- Salad bar', '- Taco day']
    const { result } = await run(flow, { topic: 'lunch' }, (_p, i) => ({ text: lists[i] ?? '' }))
    expect(result.output).toBe('- Soup club\n- Taco day\n- Salad bar')
  })

  it('a router: the model picks a label, the listeners of that label run with what the router had', async () => {
    const flow = load(`name: triage
description: Routes a message
input:
  message: { type: string, description: The message }
steps:
  clean: { text: "{{message|trim}}" }
  kind:
    after: clean
    route: [bug, question]
    prompt: "Is this a bug report or a question? {{clean|quote}}"
  fix: { after: bug, prompt: "Suggest a fix for: {{clean}}" }
  answer: { after: question, prompt: "Answer: {{clean}}" }
  reply: { after: { any: [fix, answer] }, text: "{{from}}: {{value}}" }
final: reply
`)
    const { result, model } = await run(flow, { message: 'Login fails with """ in the password' }, (p) => ({
      text: p.startsWith('Is this') ? '**Bug.**' : `done (${p})`,
    }))
    expect(model.calls[0]?.prompt).toBe(
      'Is this a bug report or a question? """\nLogin fails with " " " in the password\n"""\n\n' +
        'Answer with exactly one of these labels and nothing else: bug, question',
    )
    expect(result.output).toBe('fix: done (Suggest a fix for: Login fails with """ in the password)')
    expect(result.steps.find((s) => s.name === 'answer')?.status).toBe('pending')

    const lost = await run(flow, { message: 'hm' }, () => ({ text: 'neither' }))
    expect(lost.result.status).toBe('failed')
    expect(lost.result.failures.map((f) => `${f.step}: ${(f.error as Error).message}`)).toContain(
      `kind: router 'kind' answered "neither", which is none of its labels (bug, question)`,
    )
  })

  it('a partial all: a failed input is missing, and default fills it', async () => {
    const flow = load(`name: review
description: Reviews
input:
  text: { type: string, description: The text }
steps:
  tone: { prompt: "Tone of {{text|quote}}" }
  risk: { prompt: "Risk of {{text|quote}}" }
  report:
    after: { all: [tone, risk], partial: true }
    text: "Tone: {{tone|default:'(failed)'}}\\nRisk: {{risk|default:\\"(failed)\\"}}"
first: { any: [tone, risk] }
final: report
`)
    const { result } = await run(flow, { text: 'Ship it' }, (p) =>
      p.startsWith('Risk') ? { text: '', error: new Error('down') as never } : { text: 'calm' },
    )
    expect(result.output).toBe('Tone: calm\nRisk: (failed)')
    expect(result.first).toBe('calm')
  })

  it('a quorum passes the finished outputs as {{values}}', async () => {
    const flow = load(`name: fast
description: The first two of three
input:
  q: { type: string, description: Q }
steps:
  a: { prompt: "a {{q}}" }
  b: { prompt: "b {{q}}" }
  c: { prompt: "c {{q}}" }
  two: { after: { quorum: 2, of: [a, b, c], cancel_rest: true }, text: "{{values}}" }
final: two
`)
    const latency: Record<string, number> = { a: 40, b: 5, c: 10 }
    const { result } = await run(flow, { q: '?' }, (p) => ({
      text: p[0] ?? '',
      latencyMs: latency[p[0] ?? ''] ?? 0,
    }))
    expect(result.output).toBe('b\n\nc')
  })

  it('an ask: the question goes to the asker, the step gets the answer, a routing ask picks the branch', async () => {
    const flow = load(`name: ship
description: Asks before shipping
input:
  change: { type: string, description: The change }
steps:
  plan: { prompt: "Plan for {{change}}" }
  go:
    after: plan
    route: [yes, no]
    ask: { prompt: "Ship this? {{plan}}", choices: { yes: Ship it, no: Hold }, who: anyone, timeout: 5m }
  shipped: { after: yes, text: "Shipping: {{plan}}" }
  held: { after: no, text: "Held." }
  done: { after: { any: [shipped, held] }, text: "{{value}}" }
final: done
`)
    const asked: Question[] = []
    const asker: MemoryAsker = new MemoryAsker({
      onAsk: (q) => {
        asked.push(q)
        setTimeout(() => asker.answer(q.id, 'U7', 'yes'), 5)
      },
    })
    const { result } = await run(flow, { change: 'v2' }, () => ({ text: 'deploy v2' }), asker)
    expect(asked[0]).toMatchObject({
      prompt: 'Ship this? deploy v2',
      choices: [
        { value: 'yes', label: 'Ship it' },
        { value: 'no', label: 'Hold' },
      ],
      who: 'anyone',
      timeoutMs: 300_000,
    })
    expect(result.output).toBe('Shipping: deploy v2')
  })

  it('an ask with on_timeout gets that value when no one answers', async () => {
    const flow = load(`name: ok
description: Asks
input:
  q: { type: string, description: Q }
steps:
  ok: { ask: { prompt: "{{q}}", choices: [yes, no], timeout: 20ms, on_timeout: no } }
final: ok
`)
    const { result } = await run(flow, { q: 'Fine?' }, () => ({ text: '' }), new MemoryAsker())
    expect(result.output).toBe('no')
  })
})
