import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { Bot, loadConfig, type Platform, type QuestionView, type ReplyView } from '../../src/bot/index.ts'
import { createModel } from '../../src/llm/index.ts'
import { BullQueue } from '../../src/queue/index.ts'
import { RedisStore, type ReplyTarget, SqliteStore } from '../../src/store/index.ts'
import { ScriptedModel } from '../fakes/model.ts'
import {
  deleteKeysUnder,
  redisTestsEnabled,
  TEST_REDIS_URL,
  testPrefix,
  testRedis,
  whenRedis,
} from '../support/redis.ts'

const config = loadConfig({})
const logger = pino({ level: 'silent' })
const ASKS = fileURLToPath(new URL('./fixtures/asks/', import.meta.url))
const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** A Slack-like platform: replies and questions recorded per message; questions edited in place. */
function recordingPlatform() {
  const shown = new Map<string, ReplyView[]>()
  const questions = new Map<string, QuestionView[]>()
  let next = 0
  const platform: Platform = {
    name: 'slack',
    minIntervalMs: 0,
    remainingMs: () => undefined,
    lateEdits: () => true,
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
    postQuestion: async (_target, view) => {
      const ts = `q${++next}`
      questions.set(ts, [view])
      return { ts }
    },
    editQuestion: async (_target, message, view) => {
      const { ts } = message as { ts: string }
      questions.set(ts, [...(questions.get(ts) ?? []), view])
    },
  }
  const lastQuestion = (): { ts: string; view: QuestionView } | undefined => {
    const last = [...questions.entries()].at(-1)
    return last === undefined ? undefined : { ts: last[0], view: last[1].at(-1) as QuestionView }
  }
  const finalOf = (): ReplyView | undefined =>
    [...shown.values()].flat().find((v) => v.status === 'final' || v.status === 'failed')
  return { platform, shown, questions, lastQuestion, finalOf }
}

function journalFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-asks-'))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'chorus.db')
}

async function botOn(file: string, flowsDir?: string) {
  const store = new SqliteStore(file)
  const latency = { ms: 1 }
  const model = new ScriptedModel((prompt) => ({
    text: `text for ${prompt.slice(0, 30)}`,
    latencyMs: latency.ms,
  }))
  const bot = await Bot.create({
    config,
    model: flowsDir === undefined ? createModel(config) : model,
    logger,
    store,
    ...(flowsDir === undefined ? {} : { flowsDir }),
  })
  cleanup.push(async () => {
    await bot.shutdown(0)
    await store.close()
  })
  const recording = recordingPlatform()
  bot.attach(recording.platform)
  return { bot, store, latency, ...recording }
}

const target: ReplyTarget = { platform: 'slack', channel: 'C1' }
const ada = { id: 'U1', name: 'ada' }
const bob = { id: 'U2', name: 'bob' }

async function askApproval(b: Awaited<ReturnType<typeof botOn>>, input: Record<string, unknown> = {}) {
  const command = b.bot.command('approve')
  if (command === undefined) throw new Error('no approve flow')
  const parsed = b.bot.parseOptions(command, { topic: 'launch', ...input })
  if (!parsed.ok) throw new Error(parsed.message)
  const { runId } = await b.bot.accept({ command, input: parsed.input, user: 'ada', userId: 'U1', target })
  await expect.poll(() => b.lastQuestion()?.view.state).toBe('open')
  // Parked: nothing of the run is live in this process while it waits.
  await expect.poll(async () => (await b.store.get(runId))?.parked).toBe(true)
  expect(b.bot.activeRuns).toBe(0)
  return { runId, key: b.lastQuestion()?.view.key as string }
}

describe('people in the flow', () => {
  it('parks a run that waits for the requester, refuses others, and goes on when they answer', async () => {
    const b = await botOn(journalFile(), ASKS)
    const { runId, key } = await askApproval(b)
    const view = b.lastQuestion()?.view
    expect(view?.choices?.map((c) => c.label)).toEqual(['Post it', 'Drop it'])
    expect(view?.who).toEqual({ kind: 'requester', user: 'U1', name: 'ada' })
    const other = await b.bot.answer({ runId, key, user: bob, answer: { choice: 0 }, platform: 'slack' })
    expect(other).toMatchObject({ kind: 'refused', message: 'Only <@U1> can answer this.' })
    const mine = await b.bot.answer({ runId, key, user: ada, answer: { choice: 0 }, platform: 'slack' })
    expect(mine).toMatchObject({ kind: 'decided', view: { state: 'decided' } })
    if (mine.kind === 'decided') expect(mine.view.outcome).toBe('Decided: **Post it**, by ada.')
    await expect.poll(() => b.finalOf()?.final?.markdown).toBe('approved: yes (answered by ada)')
    const again = await b.bot.answer({ runId, key, user: ada, answer: { choice: 1 }, platform: 'slack' })
    expect(again.kind).toBe('refused')
    expect((await b.store.get(runId))?.status).toBe('completed')
  })

  it('takes two simultaneous clicks once', async () => {
    const b = await botOn(journalFile(), ASKS)
    const { runId, key } = await askApproval(b)
    const [one, two] = await Promise.all([
      b.bot.answer({ runId, key, user: ada, answer: { choice: 0 }, platform: 'slack' }),
      b.bot.answer({ runId, key, user: ada, answer: { choice: 1 }, platform: 'slack' }),
    ])
    expect([one.kind, two.kind].sort()).toEqual(['decided', 'refused'])
    await expect.poll(() => b.finalOf()?.final?.markdown).toMatch(/^approved: (yes|no) \(answered by ada\)$/)
    const decided = one.kind === 'decided' ? 'yes' : 'no'
    expect(b.finalOf()?.final?.markdown).toContain(decided)
  })

  it('continues in a new process after the first is gone, the finished step not called again', async () => {
    const file = journalFile()
    const a = await botOn(file, ASKS)
    const { runId, key } = await askApproval(a)
    await a.bot.shutdown(0)
    const b = await botOn(file, ASKS)
    expect(await b.bot.resume()).toEqual({ queued: 0 })
    const answered = await b.bot.answer({ runId, key, user: ada, answer: { choice: 1 }, platform: 'slack' })
    expect(answered.kind).toBe('decided')
    await b.bot.settled(runId)
    await expect.poll(async () => (await b.store.get(runId))?.status).toBe('completed')
    expect(b.finalOf()?.final?.markdown).toBe('approved: no (answered by ada)')
    // Nothing posted twice: the question lives in the first process's message.
    expect(b.questions.size).toBe(0)
  })

  it('applies the timeout outcome at the deadline, and a deadline that passed while no process ran', async () => {
    const b = await botOn(journalFile(), ASKS)
    await askApproval(b, { timeout: '1s', fallback: 'no' })
    await expect.poll(() => b.finalOf()?.final?.markdown, { timeout: 5_000 }).toBe('approved: no (timeout)')
    expect(b.lastQuestion()?.view).toMatchObject({
      state: 'decided',
      outcome: 'Time ran out: **Drop it** applies.',
    })

    const file = journalFile()
    const c = await botOn(file, ASKS)
    const { runId } = await askApproval(c, { timeout: '1s' })
    await c.bot.shutdown(0)
    await new Promise((r) => setTimeout(r, 1_200))
    const d = await botOn(file, ASKS)
    await d.bot.resume()
    await expect.poll(async () => (await d.store.get(runId))?.status, { timeout: 5_000 }).toBe('failed')
    expect(d.finalOf()?.error).toMatch(/no one answered in time/)
  })

  it('checks a form answer: an invalid one is refused with the reason and the question stays open', async () => {
    const b = await botOn(journalFile(), ASKS)
    const command = b.bot.command('form')
    if (command === undefined) throw new Error('no form flow')
    const { runId } = await b.bot.accept({
      command,
      input: { topic: 'x' },
      user: 'ada',
      userId: 'U1',
      target,
    })
    await expect
      .poll(() => b.lastQuestion()?.view.form?.fields.map((f) => f.label))
      .toEqual(['Release name', 'A note'])
    const key = b.lastQuestion()?.view.key as string
    const bad = await b.bot.answer({
      runId,
      key,
      user: ada,
      answer: { form: { name: 'ab', note: '' } },
      platform: 'slack',
    })
    expect(bad).toMatchObject({ kind: 'invalid', errors: { name: expect.stringMatching(/3/) } })
    const good = await b.bot.answer({
      runId,
      key,
      user: ada,
      answer: { form: { name: 'Aurora', note: '' } },
      platform: 'slack',
    })
    expect(good.kind).toBe('decided')
    await expect.poll(() => b.finalOf()?.final?.markdown).toBe('named: Aurora')
  })

  it('races a model and a person: an answer while the model still works wins; a model that wins closes the question', async () => {
    const b = await botOn(journalFile(), ASKS)
    const command = b.bot.command('race')
    if (command === undefined) throw new Error('no race flow')
    b.latency.ms = 60_000
    const { runId } = await b.bot.accept({
      command,
      input: { topic: 'x' },
      user: 'ada',
      userId: 'U1',
      target,
    })
    await expect.poll(() => b.lastQuestion()?.view.state).toBe('open')
    // Live, not parked: the model is still working.
    expect(b.bot.activeRuns).toBe(1)
    const key = b.lastQuestion()?.view.key as string
    expect(
      (await b.bot.answer({ runId, key, user: ada, answer: { choice: 1 }, platform: 'slack' })).kind,
    ).toBe('decided')
    await expect.poll(() => b.finalOf()?.final?.markdown).toBe('approver: person says reject')

    b.latency.ms = 5
    const second = await b.bot.accept({ command, input: { topic: 'y' }, user: 'ada', userId: 'U1', target })
    await expect.poll(async () => (await b.store.get(second.runId))?.status).toBe('completed')
    await expect.poll(() => b.lastQuestion()?.view.state).toBe('closed')
    expect(b.lastQuestion()?.view.outcome).toBe('Closed: the run no longer needs it.')
    const late = await b.bot.answer({
      runId: second.runId,
      key: b.lastQuestion()?.view.key as string,
      user: ada,
      answer: { choice: 0 },
      platform: 'slack',
    })
    expect(late).toMatchObject({ kind: 'refused', message: 'That question is closed.' })
  })

  it('/decide: five people vote, one changes their vote, three agreeing decide it', async () => {
    const b = await botOn(journalFile())
    const command = b.bot.command('decide')
    if (command === undefined) throw new Error('no decide flow')
    const parsed = b.bot.parseText(command, 'Which name for the analytics product? --quorum 3 --options 3')
    if (!parsed.ok) throw new Error(parsed.message)
    const { runId } = await b.bot.accept({ command, input: parsed.input, user: 'ada', userId: 'U1', target })
    await expect.poll(() => b.lastQuestion()?.view.state, { timeout: 10_000 }).toBe('open')
    const { key, choices } = (b.lastQuestion() as { view: QuestionView }).view
    expect(choices?.length).toBe(3)
    const vote = (id: string, choice: number) =>
      b.bot.answer({ runId, key, user: { id, name: id }, answer: { choice }, platform: 'slack' })
    expect((await vote('U1', 0)).kind).toBe('counted')
    expect((await vote('U2', 1)).kind).toBe('counted')
    const changed = await vote('U2', 0)
    expect(changed).toMatchObject({ kind: 'counted' })
    if (changed.kind === 'counted') expect(changed.view.choices?.map((c) => c.count)).toEqual([2, 0, 0])
    expect((await vote('U3', 2)).kind).toBe('counted')
    const third = await vote('U4', 0)
    expect(third).toMatchObject({ kind: 'decided', view: { state: 'decided' } })
    expect((await vote('U5', 1)).message).toMatch(/^Already decided by U4/)
    await expect.poll(() => b.finalOf()?.final?.markdown, { timeout: 10_000 }).toMatch(/^\*\*Decided: /)
    const final = b.finalOf()?.final?.markdown ?? ''
    expect(final).toContain(`**Decided: ${choices?.[0]?.label}** (3 of 4 agreed)`)
    expect(final).toContain(`- ${choices?.[2]?.label}: 1`)
  })
})

const redisOn = await redisTestsEnabled()

whenRedis(redisOn, () =>
  describe('people in the flow on Redis and BullMQ', () => {
    it('parks with no worker holding the run, a receiver takes the answer, a worker continues; a deadline comes as a delayed job', async () => {
      const redis = testRedis()
      const prefix = testPrefix()
      const stores: RedisStore[] = []
      const queues: BullQueue[] = []
      const bots: Bot[] = []
      cleanup.push(async () => {
        for (const b of bots) await b.shutdown(0)
        for (const q of queues) await q.close()
        for (const s of stores) await s.close()
        await deleteKeysUnder(redis, prefix)
        redis.disconnect()
      })
      const model = new ScriptedModel(() => ({ text: 'a draft', latencyMs: 1 }))
      const processOf = async (workers: number) => {
        const store = new RedisStore({ redis: TEST_REDIS_URL, prefix })
        const queue = new BullQueue({
          url: TEST_REDIS_URL,
          prefix,
          log: logger,
          lockMs: 5_000,
          stalledMs: 2_000,
        })
        const bot = await Bot.create({ config, model, logger, store, queue, flowsDir: ASKS })
        if (workers > 0) await bot.startWorking(workers)
        const recording = recordingPlatform()
        bot.attach(recording.platform)
        stores.push(store)
        queues.push(queue)
        bots.push(bot)
        return { bot, store, queue, ...recording }
      }
      const receiver = await processOf(0)
      const worker = await processOf(4)
      const command = receiver.bot.command('approve')
      if (command === undefined) throw new Error('no approve flow')
      const { runId } = await receiver.bot.accept({
        command,
        input: { topic: 'x', timeout: '10m', fallback: 'none' },
        user: 'ada',
        userId: 'U1',
        target,
      })
      await expect.poll(async () => (await receiver.store.get(runId))?.parked, { timeout: 10_000 }).toBe(true)
      expect(worker.bot.activeRuns).toBe(0)
      expect((await worker.queue.stats()).active).toBe(0)
      const key = worker.lastQuestion()?.view.key as string
      const answered = await receiver.bot.answer({
        runId,
        key,
        user: ada,
        answer: { choice: 0 },
        platform: 'slack',
      })
      expect(answered.kind).toBe('decided')
      await expect
        .poll(async () => (await receiver.store.get(runId))?.status, { timeout: 10_000 })
        .toBe('completed')
      expect(worker.finalOf()?.final?.markdown).toBe('approved: yes (answered by ada)')

      const late = await receiver.bot.accept({
        command,
        input: { topic: 'y', timeout: '2s', fallback: 'no' },
        user: 'ada',
        userId: 'U1',
        target,
      })
      await expect
        .poll(async () => (await receiver.store.get(late.runId))?.parked, { timeout: 10_000 })
        .toBe(true)
      expect((await worker.queue.stats()).delayed).toBe(1)
      await expect
        .poll(async () => (await receiver.store.get(late.runId))?.status, { timeout: 15_000 })
        .toBe('completed')
    })
  }),
)
