import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { Bot, loadConfig, type ReplyView } from '../../src/bot/index.ts'
import { ModelError } from '../../src/llm/types.ts'
import { ScriptedModel } from '../fakes/model.ts'

const config = loadConfig({})
const logger = pino({ level: 'silent' })

function recorder(delayMs = 0) {
  const views: ReplyView[] = []
  let active = 0
  let overlapped = false
  return {
    views,
    overlapped: () => overlapped,
    sink: {
      async show(view: ReplyView) {
        active++
        if (active > 1) overlapped = true
        views.push(view)
        await new Promise((r) => setTimeout(r, delayMs))
        active--
      },
    },
  }
}

/** Angle i answers after 20 + 40·i ms; the synthesis answers at once. */
const staggered = () =>
  new ScriptedModel((prompt) => {
    const m = /Angle: (.+?)\./.exec(prompt)
    if (m === null) return { text: '1. **Merged** idea' }
    const order = ['User pain', 'Contrarian', 'Tight constraint', 'Analogy', 'Moonshot'].indexOf(
      m[1] as string,
    )
    return { text: `- **Idea ${order}** from ${m[1]}`, latencyMs: 20 + 40 * order }
  })

async function brainstorm(model: ScriptedModel, sinkDelayMs = 0, extra: { deadlineMs?: number } = {}) {
  const bot = await Bot.create({ config, model, logger })
  const command = bot.command('brainstorm')
  if (command === undefined) throw new Error('no brainstorm')
  const rec = recorder(sinkDelayMs)
  const run = bot.start({
    command,
    input: { topic: 'cats', angles: 5 },
    user: 'U1',
    platform: 'console',
    sink: rec.sink,
    minIntervalMs: 0,
    ...extra,
  })
  return { bot, run, rec }
}

describe('reply lifecycle', () => {
  it('shows working, then the first result, then the final one, in that order', async () => {
    const { run, rec } = await brainstorm(staggered())
    const result = await run.done
    expect(result.status).toBe('completed')
    const statuses = rec.views.map((v) => v.status)
    expect(statuses[0]).toBe('working')
    expect(statuses.indexOf('first')).toBeGreaterThan(0)
    expect(statuses.at(-1)).toBe('final')
    expect(statuses.filter((s) => s === 'final')).toHaveLength(1)
    const first = rec.views.find((v) => v.status === 'first')
    expect(first?.first?.markdown).toContain('Idea 0')
    expect(first?.progress.done).toBeLessThan(5)
    const final = rec.views.at(-1)
    expect(final?.final?.markdown).toContain('Merged')
    expect(final?.progress).toEqual({ done: 5, failed: 0, total: 5, noun: 'ideas' })
    expect(final?.title).toBe('Brainstorm: cats')
  })

  it('never calls the sink twice at once and drops stale progress when the platform is slow', async () => {
    const { run, rec } = await brainstorm(staggered(), 70)
    await run.done
    expect(rec.overlapped()).toBe(false)
    expect(rec.views.at(-1)?.status).toBe('final')
    expect(rec.views.length).toBeLessThan(8) // 1 working + 5 progress + first + final = 8 without coalescing
  })

  it('lists failed tasks and still answers with the rest', async () => {
    const model = new ScriptedModel((prompt) =>
      prompt.includes('Contrarian')
        ? { text: '', error: new ModelError('model_auth', 'bad key') }
        : { text: `- **Idea** ${prompt.length}`, latencyMs: 5 },
    )
    const { run, rec } = await brainstorm(model)
    await run.done
    const final = rec.views.at(-1)
    expect(final?.status).toBe('final')
    expect(final?.failures).toEqual([
      { step: 'angle-contrarian', message: 'the model provider rejected our API key' },
    ])
    expect(final?.progress).toMatchObject({ done: 4, failed: 1 })
  })

  it('explains a run where every task failed', async () => {
    const model = new ScriptedModel(() => ({ text: '', error: new ModelError('model_auth', 'bad key') }))
    const { run, rec } = await brainstorm(model)
    const result = await run.done
    expect(result.status).toBe('failed')
    expect(rec.views.at(-1)).toMatchObject({
      status: 'failed',
      error: 'All 5 ideas failed: the model provider rejected our API key. Please try again in a moment.',
    })
  })

  it('retries rate-limited calls and then succeeds', async () => {
    let calls = 0
    const model = new ScriptedModel(() => {
      calls++
      return calls <= 2
        ? {
            text: '',
            error: new ModelError('model_rate_limited', '429', { transient: true, retryAfterMs: 10 }),
          }
        : { text: '- **ok**' }
    })
    const { run } = await brainstorm(model)
    expect((await run.done).status).toBe('completed')
    expect(calls).toBe(8) // 5 angles + 2 retries + synthesis
  })

  it('Stop aborts the model calls and says who stopped it', async () => {
    const model = new ScriptedModel(() => ({ text: 'late', latencyMs: 5_000 }))
    const { bot, run, rec } = await brainstorm(model)
    await new Promise((r) => setTimeout(r, 20))
    bot.get(run.runId)?.cancel('Ada')
    const result = await run.done
    expect(result.status).toBe('cancelled')
    expect(model.calls.every((c) => c.aborted)).toBe(true)
    expect(rec.views.at(-1)).toMatchObject({ status: 'stopped', stoppedBy: 'Ada' })
    expect(bot.get(run.runId)).toBeUndefined()
  })

  it('cuts a run off at its deadline with a clear message', async () => {
    const model = new ScriptedModel(() => ({ text: 'late', latencyMs: 5_000 }))
    const { run, rec } = await brainstorm(model, 0, { deadlineMs: 30 })
    await run.done
    expect(rec.views.at(-1)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/took longer than Chorus allows/),
    })
  })
})
