/**
 * A vote and a router declared in flow files, run through the bot as commands: loaded from a flows
 * folder, parsed from slash-command text, accepted into the journal or started directly, replied to.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { Bot, loadConfig, type Platform, type ReplyView } from '../../src/bot/index.ts'
import { SqliteStore } from '../../src/store/index.ts'
import { type Scripted, ScriptedModel } from '../fakes/model.ts'

const logger = pino({ level: 'silent' })
const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

const PICK = `name: pick
description: Yes or no, by a vote of the model
input:
  question: { type: string, description: The question, max: 300 }
steps:
  answer: { prompt: "Answer yes or no: {{question}}", repeat: 5, join: vote, temperature: 0.8 }
  say: { after: answer, text: "The answer is {{answer}}." }
final: say
`

const TRIAGE = `name: triage
description: A bug gets a fix, a question an answer
input:
  message: { type: string, description: The message, max: 500 }
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
`

/** A folder of flow files (and nothing else) for `Bot.create({ flowsDir })`. */
function flowsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-flows-'))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

/** A bot on the flows in `dir`, answering with `script`, journaling to SQLite, replies recorded. */
async function botOn(dir: string, script: (prompt: string, call: number) => Scripted) {
  const data = mkdtempSync(join(tmpdir(), 'chorus-journal-'))
  cleanup.push(() => rmSync(data, { recursive: true, force: true }))
  const store = new SqliteStore(join(data, 'chorus.db'))
  const model = new ScriptedModel(script)
  const bot = await Bot.create({ config: loadConfig({}), model, logger, store, flowsDir: dir })
  cleanup.push(async () => {
    await bot.shutdown(0)
    await store.close()
  })
  const views: ReplyView[] = []
  const platform: Platform = {
    name: 'slack',
    minIntervalMs: 0,
    remainingMs: () => undefined,
    sink: () => ({ show: async (view) => void views.push(view) }),
  }
  bot.attach(platform)
  return { bot, store, model, views }
}

function commandOf(bot: Bot, name: string, text: string) {
  const command = bot.command(name)
  if (command === undefined) throw new Error(`no /${name}`)
  const parsed = bot.parseText(command, text)
  if (!parsed.ok) throw new Error(parsed.message)
  return { command, input: parsed.input }
}

describe('a vote declared in a file (repeat: 5, join: vote), accepted by the bot', () => {
  it('replies with the majority answer, not the first one, and stops once the leader cannot be caught', async () => {
    // The first answer is No; Yes leads 3 to 1 after four, so the slow fifth is cancelled, not awaited.
    const answers = ['No', 'Yes', 'yes.', 'YES', 'no']
    const latency = [5, 20, 35, 50, 10_000]
    const { bot, store, model, views } = await botOn(flowsDir({ 'pick.yaml': PICK }), (_p, i) => ({
      text: answers[i] ?? 'no',
      latencyMs: latency[i] ?? 0,
    }))
    const t0 = performance.now()
    const { runId } = await bot.accept({
      ...commandOf(bot, 'pick', 'Is a hot dog a sandwich?'),
      user: 'ada',
      target: { platform: 'slack', channel: 'C1' },
    })
    await expect.poll(async () => (await store.get(runId))?.status, { timeout: 5_000 }).toBe('completed')
    await bot.settled(runId)
    expect(performance.now() - t0).toBeLessThan(5_000)
    const final = views.filter((v) => v.status === 'final')
    expect(final).toHaveLength(1)
    expect(final[0]?.final?.markdown).toBe('The answer is Yes.')
    expect(model.calls.map((c) => c.prompt)).toEqual(
      Array(5).fill('Answer yes or no: Is a hot dog a sandwich?'),
    )
    expect(model.calls.map((c) => c.aborted)).toEqual([false, false, false, false, true])
    // The journal holds the vote's result under its step.
    const steps = await store.completedSteps(runId)
    expect(steps.find((s) => s.step === 'answer')?.value).toBe('Yes')
  })
})

describe('a router declared in a file (route:), started by the bot', () => {
  const dir = () => flowsDir({ 'triage.yaml': TRIAGE })
  const script = (prompt: string): Scripted => {
    if (prompt.startsWith('Is this a bug report'))
      return { text: prompt.includes('crash') ? '**Bug.**' : 'question' }
    return { text: `reply to "${prompt}"` }
  }

  for (const [message, label, step, prompt] of [
    ['The app crashes on login', 'bug', 'fix', 'Suggest a fix for: The app crashes on login'],
    ['How do I export a report?', 'question', 'answer', 'Answer: How do I export a report?'],
  ] as const) {
    it(`sends "${message}" down ${label}: only ${step} runs, and the reply is its answer`, async () => {
      const { bot, model } = await botOn(dir(), script)
      const views: ReplyView[] = []
      const run = bot.start({
        ...commandOf(bot, 'triage', message),
        user: 'ada',
        platform: 'console',
        minIntervalMs: 0,
        sink: { show: async (v) => void views.push(v) },
      })
      expect((await run.done).status).toBe('completed')
      expect(model.calls.map((c) => c.prompt)).toEqual([
        `Is this a bug report or a question? """\n${message}\n"""\n\n` +
          'Answer with exactly one of these labels and nothing else: bug, question',
        prompt,
      ])
      expect(views.at(-1)?.status).toBe('final')
      expect(views.at(-1)?.final?.markdown).toBe(`${step}: reply to "${prompt}"`)
    })
  }

  it('a model answer that is none of the labels fails the run at the router: no branch runs', async () => {
    const { bot, model } = await botOn(dir(), () => ({ text: 'neither, really' }))
    const views: ReplyView[] = []
    const run = bot.start({
      ...commandOf(bot, 'triage', 'hm'),
      user: 'ada',
      platform: 'console',
      minIntervalMs: 0,
      sink: { show: async (v) => void views.push(v) },
    })
    expect((await run.done).status).toBe('failed')
    expect(model.calls).toHaveLength(1)
    expect(views.at(-1)?.status).toBe('failed')
    expect(views.at(-1)?.error).toContain('(step kind failed)')
    expect(views.at(-1)?.final).toBeUndefined()
  })
})
