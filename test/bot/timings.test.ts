import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { Bot, loadConfig, type Platform } from '../../src/bot/index.ts'
import { feedback } from '../../src/bot/runs/feedback.ts'
import { ModelError } from '../../src/llm/index.ts'
import { type ReplyTarget, SqliteStore } from '../../src/store/index.ts'
import { ScriptedModel } from '../fakes/model.ts'

const logger = pino({ level: 'silent' })
const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

const platform: Platform = {
  name: 'slack',
  minIntervalMs: 0,
  remainingMs: () => undefined,
  sink: () => ({ async show() {} }),
}
const target: ReplyTarget = { platform: 'slack', channel: 'C1' }

describe('what a journaled run leaves for the inspector', () => {
  it("keeps each step's start, first token, end, tries and retries, the totals, and 👍/👎", async () => {
    const store = new SqliteStore(':memory:')
    cleanup.push(() => store.close())
    let contrarian = 0
    const model = new ScriptedModel((prompt) => {
      const angle = /Angle: (.+?)\./.exec(prompt)?.[1]
      if (angle === undefined) return { text: 'merged ideas', writeMs: 20 }
      if (angle === 'Contrarian' && contrarian++ === 0)
        return {
          text: '',
          error: new ModelError('model_rate_limited', '429', { transient: true, retryAfterMs: 30 }),
        }
      return { text: `idea from ${angle} here`, latencyMs: 20, writeMs: 30 }
    })
    const bot = await Bot.create({ config: loadConfig({}), model, logger, store })
    bot.attach(platform)
    const brainstorm = bot.command('brainstorm')
    if (brainstorm === undefined) throw new Error('no brainstorm')
    const before = Date.now()
    const { runId } = await bot.accept({
      command: brainstorm,
      input: { topic: 'x', angles: 2 },
      user: 'ada',
      target,
    })
    await bot.settled(runId)
    const after = Date.now()

    const steps = await store.runSteps(runId)
    const pain = steps.find((s) => s.step === 'angle-user-pain')
    const contra = steps.find((s) => s.step === 'angle-contrarian')
    const t = pain?.timing
    if (t === undefined || contra?.timing === undefined) throw new Error('no timings')
    expect(t.startedAt).toBeGreaterThanOrEqual(before)
    expect(t.firstTokenAt).toBeGreaterThanOrEqual(t.startedAt + 15)
    expect(t.finishedAt).toBeGreaterThan(t.firstTokenAt as number)
    expect(t.finishedAt).toBeLessThanOrEqual(after)
    expect(t.attempts).toBe(1)
    expect(contra.timing).toMatchObject({ attempts: 2, retries: ['model_rate_limited'] })
    expect(contra.timing.finishedAt - contra.timing.startedAt).toBeGreaterThanOrEqual(25)

    const run = await store.get(runId)
    // Three calls answered (two angles and the synthesis; the rate-limited try billed nothing).
    expect(run?.summary).toMatchObject({ calls: 3, tokens: 45, promptTokens: 30, completionTokens: 15 })
    expect(run?.summary?.models).toEqual(['scripted'])
    expect(run?.summary?.startedAt).toBeGreaterThanOrEqual(before)
    expect(run?.deliveredAt.final).toBeGreaterThanOrEqual(t.finishedAt)

    // What `feedback` uses of the bot's runs: the journal, the logger and the observer.
    const runs = { store, logger, observer: {} }
    await feedback(runs as never, runId, 'up', 'U1', 'slack')
    await feedback(runs as never, runId, 'up', 'U1', 'slack')
    await feedback(runs as never, runId, 'down', 'U2', 'slack')
    await expect.poll(async () => (await store.get(runId))?.feedback).toEqual({ up: 1, down: 1 })
  })

  it("keeps the timing of step calls a Stop cancelled with the run's end", async () => {
    const store = new SqliteStore(':memory:')
    cleanup.push(() => store.close())
    const model = new ScriptedModel(() => ({ text: 'slow idea', latencyMs: 5_000 }))
    const bot = await Bot.create({ config: loadConfig({}), model, logger, store })
    bot.attach(platform)
    const brainstorm = bot.command('brainstorm')
    if (brainstorm === undefined) throw new Error('no brainstorm')
    const { runId } = await bot.accept({
      command: brainstorm,
      input: { topic: 'x', angles: 2 },
      user: 'ada',
      target,
    })
    await expect.poll(() => model.calls.length).toBe(2)
    expect(await bot.stop(runId, 'grace')).toBe('stopping')
    await bot.settled(runId)
    const run = await store.get(runId)
    expect(run).toMatchObject({ status: 'stopped', stoppedBy: 'grace' })
    const cancelled = run?.summary?.cancelled ?? []
    expect(cancelled.map((c) => c.step).sort()).toEqual(['angle-contrarian', 'angle-user-pain'])
    for (const c of cancelled) {
      expect(c.cancelled).toContain('grace')
      expect(c.finishedAt).toBeGreaterThanOrEqual(c.startedAt)
    }
    expect(run?.summary?.calls).toBe(0)
  })
})
