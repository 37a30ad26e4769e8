/**
 * The RunStore contract for the run inspector: step timings kept with their outcomes, when each view
 * was shown, a run's totals kept with its end, 👍/👎, and the recent-runs list with its filters.
 * Registered by `runStoreContract`. Each case names its runs' command uniquely, so the list's filters
 * find only its own runs in a store other cases share.
 */
import { randomUUID } from 'node:crypto'
import { expect, it } from 'vitest'
import type { NewRun, RunStore, RunSummary, StepTiming } from '../../src/store/index.ts'

function newRun(overrides: Partial<NewRun> = {}): NewRun {
  return {
    id: randomUUID(),
    command: 'brainstorm',
    input: { topic: 'lunch' },
    user: 'ada',
    target: { platform: 'slack', channel: 'C1' },
    createdAt: Date.now(),
    ...overrides,
  }
}

const timing = (startedAt: number, extra: Partial<StepTiming> = {}): StepTiming => ({
  startedAt,
  firstTokenAt: startedAt + 40,
  finishedAt: startedAt + 900,
  queuedMs: 15,
  attempts: 1,
  ...extra,
})

export function inspectContract(store: () => RunStore): void {
  it('keeps each step call with its timing; a success (and its timing) replaces a failure', async () => {
    const s = store()
    const run = newRun()
    await s.create(run)
    const t0 = 1_700_000_000_000
    await s.recordStep(run.id, {
      step: 'angle-a',
      call: 1,
      ok: true,
      value: { idea: 'x' },
      timing: timing(t0),
    })
    const retried = timing(t0 + 10, { attempts: 2, retries: ['model_rate_limited'], firstTokenAt: undefined })
    await s.recordStep(run.id, {
      step: 'angle-b',
      call: 1,
      ok: false,
      error: 'model_timeout',
      timing: retried,
    })
    await s.recordStep(run.id, {
      step: 'angle-c',
      call: 1,
      ok: false,
      error: 'model_timeout',
      timing: timing(t0),
    })
    await s.recordStep(run.id, { step: 'angle-c', call: 1, ok: true, value: 'late', timing: timing(t0 + 5) })
    await s.recordStep(run.id, {
      step: 'angle-a',
      call: 1,
      ok: false,
      error: 'later',
      timing: timing(t0 + 99),
    })
    await s.recordStep(run.id, { step: 'plain', call: 2, ok: true, value: 7 })
    const steps = await s.runSteps(run.id)
    expect(steps).toEqual([
      { step: 'angle-a', call: 1, ok: true, value: { idea: 'x' }, timing: timing(t0) },
      {
        step: 'angle-b',
        call: 1,
        ok: false,
        error: 'model_timeout',
        timing: JSON.parse(JSON.stringify(retried)),
      },
      { step: 'angle-c', call: 1, ok: true, value: 'late', timing: timing(t0 + 5) },
      { step: 'plain', call: 2, ok: true, value: 7 },
    ])
    // Resuming reads the same successes as before timings were kept.
    expect(await s.completedSteps(run.id)).toEqual([
      { step: 'angle-a', call: 1, value: { idea: 'x' } },
      { step: 'angle-c', call: 1, value: 'late' },
      { step: 'plain', call: 2, value: 7 },
    ])
    expect(await s.runSteps(randomUUID())).toEqual([])
  })

  it('records when each view was shown, once', async () => {
    const s = store()
    const run = newRun()
    await s.create(run)
    expect((await s.get(run.id))?.deliveredAt).toEqual({})
    const before = Date.now()
    await s.markDelivered(run.id, 'placeholder')
    await s.markDelivered(run.id, 'first')
    const first = (await s.get(run.id))?.deliveredAt
    expect(first?.placeholder).toBeGreaterThanOrEqual(before)
    expect(first?.first).toBeGreaterThanOrEqual(first?.placeholder as number)
    await new Promise((r) => setTimeout(r, 5))
    await s.markDelivered(run.id, 'first')
    expect((await s.get(run.id))?.deliveredAt).toEqual(first)
    expect((await s.get(run.id))?.delivered).toEqual(['placeholder', 'first'])
  })

  it("keeps a run's totals and its cancelled steps with its end", async () => {
    const s = store()
    const run = newRun()
    await s.create(run)
    expect((await s.get(run.id))?.summary).toBeUndefined()
    const summary: RunSummary = {
      startedAt: run.createdAt + 3,
      calls: 3,
      tokens: 420,
      promptTokens: 300,
      completionTokens: 120,
      costUsd: 0.000117,
      models: ['gpt-4o-mini'],
      cancelled: [{ step: 'voter-3', call: 1, ...timing(run.createdAt, { cancelled: 'no longer needed' }) }],
    }
    expect(await s.finish(run.id, 'completed', { summary })).toBe(true)
    expect((await s.get(run.id))?.summary).toEqual(summary)
    // A finish that loses keeps the first one's totals.
    expect(await s.finish(run.id, 'failed', { summary: { ...summary, tokens: 1 } })).toBe(false)
    expect((await s.get(run.id))?.summary?.tokens).toBe(420)
  })

  it('counts 👍 and 👎 on a run, and nothing for a run that is gone', async () => {
    const s = store()
    const run = newRun()
    await s.create(run)
    expect((await s.get(run.id))?.feedback).toEqual({ up: 0, down: 0 })
    await s.rate(run.id, 'up')
    await s.rate(run.id, 'up')
    await s.rate(run.id, 'down')
    expect((await s.get(run.id))?.feedback).toEqual({ up: 2, down: 1 })
    const gone = randomUUID()
    await s.rate(gone, 'up')
    expect(await s.get(gone)).toBeUndefined()
  })

  it('lists recent runs newest first, running and ended, narrowed by flow, status and platform', async () => {
    const s = store()
    const flow = `f-${randomUUID().slice(0, 8)}`
    const other = `g-${randomUUID().slice(0, 8)}`
    const t = Date.now() - 10_000
    const discord = {
      platform: 'discord' as const,
      applicationId: 'A',
      interactionId: 'I',
      token: 'secret-token',
      createdAt: t,
    }
    const runs = [
      newRun({ command: flow, createdAt: t + 1 }),
      newRun({ command: flow, createdAt: t + 2, target: discord }),
      newRun({ command: flow, createdAt: t + 3 }),
      newRun({ command: other, createdAt: t + 4 }),
      newRun({ command: flow, createdAt: t + 5 }),
    ]
    for (const r of runs) await s.create(r)
    await s.finish(runs[0]?.id as string, 'completed')
    await s.finish(runs[2]?.id as string, 'failed', { note: 'x' })
    const ids = (list: Array<{ id: string }>) => list.map((r) => r.id)
    const [a, b, c, , e] = runs.map((r) => r.id)
    expect(ids(await s.recent({ limit: 10, filter: { command: flow } }))).toEqual([e, c, b, a])
    expect(ids(await s.recent({ limit: 2, filter: { command: flow } }))).toEqual([e, c])
    expect(ids(await s.recent({ limit: 10, filter: { command: flow, status: 'running' } }))).toEqual([e, b])
    expect(ids(await s.recent({ limit: 10, filter: { command: flow, status: 'failed' } }))).toEqual([c])
    expect(ids(await s.recent({ limit: 10, filter: { command: flow, platform: 'discord' } }))).toEqual([b])
    expect(ids(await s.recent({ limit: 10, filter: { command: flow, platform: 'slack' } }))).toEqual([
      e,
      c,
      a,
    ])
    expect(await s.recent({ limit: 0, filter: { command: flow } })).toEqual([])
    const newest = await s.recent({ limit: 3 })
    expect(newest).toHaveLength(3)
    expect(newest[0]?.createdAt).toBeGreaterThanOrEqual(newest[1]?.createdAt as number)
    expect((await s.recent({ limit: 10, filter: { command: flow, status: 'failed' } }))[0]).toMatchObject({
      status: 'failed',
      note: 'x',
      command: flow,
    })
  })

  it('drops pruned runs from the recent list', async () => {
    const s = store()
    const flow = `p-${randomUUID().slice(0, 8)}`
    const run = newRun({ command: flow })
    await s.create(run)
    await s.finish(run.id, 'completed')
    expect((await s.recent({ limit: 5, filter: { command: flow } })).map((r) => r.id)).toEqual([run.id])
    await s.prune(Date.now() + 1)
    expect(await s.recent({ limit: 5, filter: { command: flow } })).toEqual([])
  })
}
