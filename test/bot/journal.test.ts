import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { Bot, loadConfig, type Platform, type ReplyView } from '../../src/bot/index.ts'
import { type ReplyTarget, SqliteStore } from '../../src/store/index.ts'
import { ScriptedModel } from '../fakes/model.ts'

const config = loadConfig({})
const logger = pino({ level: 'silent' })
const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** A platform whose replies are recorded per message (its target's `ts`), as Slack's would be. */
function recordingPlatform() {
  const shown = new Map<string, ReplyView[]>()
  let next = 0
  const platform: Platform = {
    name: 'slack',
    minIntervalMs: 0,
    remainingMs: () => undefined,
    sink: (target, { save }) => {
      let t = target as Extract<ReplyTarget, { platform: 'slack' }>
      return {
        async show(view) {
          if (t.ts === undefined) {
            t = { ...t, ts: `m${++next}` }
            save(t)
          }
          shown.set(t.ts as string, [...(shown.get(t.ts as string) ?? []), view])
        },
      }
    },
  }
  return { platform, shown }
}

function journalFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-journal-'))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'chorus.db')
}

async function botOn(file: string, model: ScriptedModel) {
  const store = new SqliteStore(file)
  cleanup.push(() => store.close())
  const bot = await Bot.create({ config, model, logger, store })
  const recording = recordingPlatform()
  bot.attach(recording.platform)
  return { bot, store, ...recording }
}

const target: ReplyTarget = { platform: 'slack', channel: 'C1' }

/** Two angles: `User pain` at once, `Contrarian` after `slowMs`. */
const model = (slowMs: number) =>
  new ScriptedModel((prompt) => {
    const angle = /Angle: (.+?)\./.exec(prompt)?.[1]
    if (angle === undefined) return { text: 'merged' }
    return { text: `idea from ${angle}`, latencyMs: angle === 'User pain' ? 1 : slowMs }
  })

describe('the bot and its journal', () => {
  it('journals each finished step call and the views that reached the user', async () => {
    const file = journalFile()
    const { bot, store } = await botOn(file, model(5))
    const brainstorm = bot.command('brainstorm')
    if (brainstorm === undefined) throw new Error('no brainstorm')
    const run = await bot.accept({
      command: brainstorm,
      input: { topic: 'x', angles: 2 },
      user: 'ada',
      target,
    })
    await bot.settled(run.runId)
    const record = await store.get(run.runId)
    expect(record).toMatchObject({ status: 'completed', user: 'ada', input: { topic: 'x', angles: 2 } })
    expect(record?.delivered).toEqual(expect.arrayContaining(['placeholder', 'first', 'final']))
    expect(record?.target).toMatchObject({ ts: 'm1' })
    const steps = (await store.completedSteps(run.runId)).map((s) => s.step).sort()
    // `chorus:final` keeps the final output for Refine; the engine ignores it on resume.
    expect(steps).toEqual(['angle-contrarian', 'angle-user-pain', 'chorus:final', 'first', 'synthesis'])
    const final = (await store.completedSteps(run.runId)).find((s) => s.step === 'chorus:final')
    expect(final?.value).toEqual(expect.stringContaining('merged'))
  })

  it('resumes from the journal without showing the user an earlier state again', async () => {
    const file = journalFile()
    const slow = model(60_000)
    const a = await botOn(file, slow)
    const brainstorm = a.bot.command('brainstorm')
    if (brainstorm === undefined) throw new Error('no brainstorm')
    const run = await a.bot.accept({
      command: brainstorm,
      input: { topic: 'x', angles: 2 },
      user: 'ada',
      target,
    })
    await expect.poll(() => a.shown.get('m1')?.at(-1)?.status).toBe('first')
    // The first process goes away (a deploy); the second resumes over the same journal file.
    await a.bot.shutdown(0)
    const fast = model(1)
    const b = await botOn(file, fast)
    expect(await b.bot.resume()).toEqual({ queued: 1 })
    await b.bot.settled(run.runId)
    const views = b.shown.get('m1') ?? []
    expect(views.map((v) => v.status)).not.toContain('working')
    expect(views.at(-1)?.status).toBe('final')
    // The fast angle and the first listener came from the journal; only the slow angle and the synthesis ran.
    expect(fast.calls.map((c) => /Angle: (.+?)\./.exec(c.prompt)?.[1] ?? 'synthesis')).toEqual([
      'Contrarian',
      'synthesis',
    ])
  })

  it('stops a run that only the journal has, and says "finished" only for ended runs', async () => {
    const file = journalFile()
    const { bot, store, shown } = await botOn(file, model(1))
    await store.create({
      id: 'orphan',
      command: 'brainstorm',
      input: { topic: 'x', angles: 2 },
      user: 'ada',
      target: { ...target, ts: 'm9' },
      createdAt: Date.now() - 5_000,
    })
    expect(await bot.stop('orphan', 'grace')).toBe('stopped')
    expect(shown.get('m9')?.at(-1)).toMatchObject({ status: 'stopped', stoppedBy: 'grace', retryable: true })
    expect((await store.get('orphan'))?.status).toBe('stopped')
    expect(await bot.stop('orphan', 'grace')).toBe('finished')
    expect(await bot.stop('never-was', 'grace')).toBe('unknown')
  })

  it('retries a run with the same command and input, for whoever asked, as a new run', async () => {
    const file = journalFile()
    const { bot, store } = await botOn(file, model(1))
    await store.create({
      id: 'failed-one',
      command: 'brainstorm',
      input: { topic: 'again', angles: 2 },
      user: 'ada',
      target,
      createdAt: Date.now(),
    })
    await store.finish('failed-one', 'failed', { note: 'the model provider is unavailable' })
    const outcome = await bot.retry('failed-one', 'linus', target)
    if (!outcome.ok) throw new Error(outcome.message)
    expect(outcome.runId).not.toBe('failed-one')
    await bot.settled(outcome.runId)
    expect(await store.get(outcome.runId)).toMatchObject({
      status: 'completed',
      user: 'linus',
      input: { topic: 'again', angles: 2 },
    })
    expect(await bot.retry('nope', 'linus', target)).toMatchObject({ ok: false })
  })

  it('shutdown lets short runs finish, suspends the rest with a notice and keeps them unfinished', async () => {
    const file = journalFile()
    const { bot, store, shown } = await botOn(file, model(60_000))
    const brainstorm = bot.command('brainstorm')
    if (brainstorm === undefined) throw new Error('no brainstorm')
    const run = await bot.accept({
      command: brainstorm,
      input: { topic: 'x', angles: 2 },
      user: 'ada',
      target,
    })
    await expect.poll(() => shown.get('m1')?.at(-1)?.status).toBe('first')
    const outcome = await bot.shutdown(50)
    expect(outcome).toEqual({ finished: 0, suspended: 1 })
    expect(bot.accepting).toBe(false)
    expect(shown.get('m1')?.at(-1)).toMatchObject({
      status: 'first',
      notice: expect.stringContaining('restarting'),
    })
    expect((await store.get(run.runId))?.status).toBe('running')
  })
})
