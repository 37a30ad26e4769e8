/**
 * The RunStore contract: every backend runs these same cases (`sqlite.test.ts`, and one file per
 * other backend). Each case uses fresh run ids, so backends may share one database.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { NewRun, RunStore } from '../../src/store/index.ts'
import { asksContract, type SiblingFactory } from './contract-asks.ts'
import { inspectContract } from './contract-inspect.ts'
import { installationsContract } from './contract-installations.ts'

export interface StoreFactory extends SiblingFactory {
  create(): Promise<RunStore>
  destroy(store: RunStore): Promise<void>
}

function newRun(overrides: Partial<NewRun> = {}): NewRun {
  return {
    id: randomUUID(),
    command: 'brainstorm',
    input: { topic: 'lunch & <stuff>', angles: 5 },
    user: 'ada',
    target: { platform: 'slack', channel: 'C1', responseUrl: 'https://hooks.example/x' },
    createdAt: Date.now(),
    ...overrides,
  }
}

export function runStoreContract(name: string, factory: StoreFactory): void {
  describe(`RunStore contract: ${name}`, () => {
    let store: RunStore
    beforeAll(async () => {
      store = await factory.create()
    })
    afterAll(async () => {
      await factory.destroy(store)
    })

    asksContract(() => store, factory)
    installationsContract(() => store, factory)
    inspectContract(() => store)

    it('records a run as running with everything needed to finish it elsewhere', async () => {
      const run = newRun()
      await store.create(run)
      const got = await store.get(run.id)
      expect(got).toMatchObject({ ...run, status: 'running', delivered: [], stoppedBy: undefined })
      expect((await store.unfinished()).map((r) => r.id)).toContain(run.id)
    })

    it('keeps the trace context a run was created with, and none when it had none', async () => {
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
      const traced = newRun({ traceparent })
      const plain = newRun()
      await store.create(traced)
      await store.create(plain)
      expect((await store.get(traced.id))?.traceparent).toBe(traceparent)
      expect(await store.get(plain.id)).not.toHaveProperty('traceparent')
      const unfinished = await store.unfinished()
      expect(unfinished.find((r) => r.id === traced.id)?.traceparent).toBe(traceparent)
      expect(unfinished.find((r) => r.id === plain.id)).not.toHaveProperty('traceparent')
    })

    it('ignores a second create with the same id', async () => {
      const run = newRun()
      await store.create(run)
      await store.create({ ...run, user: 'mallory' })
      expect((await store.get(run.id))?.user).toBe('ada')
    })

    it('answers undefined for an unknown run, and finish is false for it', async () => {
      expect(await store.get(randomUUID())).toBeUndefined()
      expect(await store.finish(randomUUID(), 'completed')).toBe(false)
    })

    it('keeps step outcomes per call; a success replaces a failure but never the reverse', async () => {
      const run = newRun()
      await store.create(run)
      await store.recordStep(run.id, { step: 'a', call: 1, ok: false, error: 'timeout' })
      await store.recordStep(run.id, { step: 'a', call: 1, ok: true, value: 'A' })
      await store.recordStep(run.id, { step: 'a', call: 1, ok: false, error: 'late failure' })
      await store.recordStep(run.id, { step: 'a', call: 2, ok: true, value: { n: 2, list: [1, 'x'] } })
      await store.recordStep(run.id, { step: 'b', call: 1, ok: false, error: 'boom' })
      await store.recordStep(run.id, { step: 'c', call: 1, ok: true, value: null })
      const steps = await store.completedSteps(run.id)
      expect(steps).toHaveLength(3)
      expect(steps).toContainEqual({ step: 'a', call: 1, value: 'A' })
      expect(steps).toContainEqual({ step: 'a', call: 2, value: { n: 2, list: [1, 'x'] } })
      expect(steps).toContainEqual({ step: 'c', call: 1, value: null })
    })

    it('records each delivered view once', async () => {
      const run = newRun()
      await store.create(run)
      await store.markDelivered(run.id, 'placeholder')
      await store.markDelivered(run.id, 'first')
      await store.markDelivered(run.id, 'first')
      expect((await store.get(run.id))?.delivered).toEqual(['placeholder', 'first'])
    })

    it('replaces the reply target', async () => {
      const run = newRun()
      await store.create(run)
      await store.setTarget(run.id, { platform: 'slack', channel: 'C1', ts: '1700000000.000001' })
      expect((await store.get(run.id))?.target).toEqual({
        platform: 'slack',
        channel: 'C1',
        ts: '1700000000.000001',
      })
    })

    it('records a view and the target it was shown with in one write, the target even when the view was known', async () => {
      const run = newRun()
      await store.create(run)
      const placeholder = { platform: 'slack' as const, channel: 'C1', ts: '1700000000.000002' }
      await store.markDelivered(run.id, 'placeholder', placeholder)
      let got = await store.get(run.id)
      expect(got?.delivered).toEqual(['placeholder'])
      expect(got?.target).toEqual(placeholder)
      await store.markDelivered(run.id, 'placeholder', { ...placeholder, ts: '1700000000.000003' })
      got = await store.get(run.id)
      expect(got?.delivered).toEqual(['placeholder'])
      expect(got?.target).toEqual({ ...placeholder, ts: '1700000000.000003' })
      expect(Object.keys(got?.deliveredAt ?? {})).toEqual(['placeholder'])
    })

    it('records the final view with the end, also when the run had already ended (a Stop)', async () => {
      const run = newRun()
      await store.create(run)
      await store.markDelivered(run.id, 'placeholder')
      const at = Date.now() - 5
      expect(await store.finish(run.id, 'completed', { finalShownAt: at })).toBe(true)
      let got = await store.get(run.id)
      expect(got?.status).toBe('completed')
      expect(got?.delivered).toEqual(['placeholder', 'final'])
      expect(got?.deliveredAt.final).toBe(at)

      const stopped = newRun()
      await store.create(stopped)
      expect(await store.finish(stopped.id, 'stopped', { stoppedBy: 'grace' })).toBe(true)
      expect(await store.finish(stopped.id, 'completed', { finalShownAt: at })).toBe(false)
      got = await store.get(stopped.id)
      expect(got?.status).toBe('stopped')
      expect(got?.stoppedBy).toBe('grace')
      expect(got?.delivered).toEqual(['final'])
      // Once only.
      expect(await store.finish(stopped.id, 'completed', { finalShownAt: at + 1 })).toBe(false)
      expect((await store.get(stopped.id))?.deliveredAt.final).toBe(at)
    })

    it('finishes a run once: the second finish is refused and changes nothing', async () => {
      const run = newRun()
      await store.create(run)
      expect(await store.finish(run.id, 'stopped', { stoppedBy: 'grace' })).toBe(true)
      expect(await store.finish(run.id, 'completed')).toBe(false)
      const got = await store.get(run.id)
      expect(got).toMatchObject({ status: 'stopped', stoppedBy: 'grace' })
      expect((await store.unfinished()).map((r) => r.id)).not.toContain(run.id)
    })

    it('lists unfinished runs oldest first', async () => {
      const later = newRun({ createdAt: Date.now() + 1_000 })
      const earlier = newRun({ createdAt: Date.now() - 1_000 })
      await store.create(later)
      await store.create(earlier)
      const ids = (await store.unfinished()).map((r) => r.id)
      expect(ids.indexOf(earlier.id)).toBeLessThan(ids.indexOf(later.id))
    })

    it('prunes ended runs and their steps, never running ones', async () => {
      const ended = newRun()
      const running = newRun()
      await store.create(ended)
      await store.create(running)
      await store.recordStep(ended.id, { step: 'a', call: 1, ok: true, value: 'x' })
      await store.finish(ended.id, 'completed')
      expect(await store.prune(Date.now() + 1_000)).toBeGreaterThanOrEqual(1)
      expect(await store.get(ended.id)).toBeUndefined()
      expect(await store.completedSteps(ended.id)).toEqual([])
      expect((await store.get(running.id))?.status).toBe('running')
    })

    it('keeps an ended run updated after the cut when pruning', async () => {
      const run = newRun()
      await store.create(run)
      await store.finish(run.id, 'completed')
      await store.prune(Date.now() - 60_000)
      expect((await store.get(run.id))?.status).toBe('completed')
    })

    it('creates nothing when an unknown run gets a target or a delivery', async () => {
      const id = randomUUID()
      await store.setTarget(id, { platform: 'slack', channel: 'C2' })
      await store.markDelivered(id, 'first')
      await store.markDelivered(id, 'placeholder', { platform: 'slack', channel: 'C2', ts: '1.2' })
      await store.finish(id, 'completed', { finalShownAt: Date.now() })
      expect(await store.get(id)).toBeUndefined()
      expect(await store.completedSteps(id)).toEqual([])
    })

    it('grants a claim once until its time to live has passed', async () => {
      const key = `command:${randomUUID()}`
      expect(await store.claim(key, 200)).toBe(true)
      expect(await store.claim(key, 200)).toBe(false)
      await new Promise((r) => setTimeout(r, 300))
      expect(await store.claim(key, 200)).toBe(true)
    })

    it('grants exactly one of many concurrent claims of one key', async () => {
      const key = `event:${randomUUID()}`
      const results = await Promise.all(Array.from({ length: 20 }, () => store.claim(key, 10_000)))
      expect(results.filter(Boolean)).toHaveLength(1)
    })

    it('takes a limit up to its size in a window, then refuses until the oldest use leaves it', async () => {
      const key = `user:${randomUUID()}`
      const t0 = 1_700_000_000_000
      const limit = [{ key, limit: 3, windowMs: 60_000 }]
      expect(await store.take(limit, t0)).toEqual({ ok: true, remaining: [2] })
      expect(await store.take(limit, t0 + 10_000)).toEqual({ ok: true, remaining: [1] })
      expect(await store.take(limit, t0 + 20_000)).toEqual({ ok: true, remaining: [0] })
      expect(await store.take(limit, t0 + 30_000)).toEqual({ ok: false, refused: 0, retryAt: t0 + 60_000 })
      // A refused take counts nothing: the window slides by the first use alone.
      expect(await store.take(limit, t0 + 59_999)).toMatchObject({ ok: false, retryAt: t0 + 60_000 })
      expect(await store.take(limit, t0 + 60_000)).toEqual({ ok: true, remaining: [0] })
      expect(await store.take(limit, t0 + 65_000)).toEqual({ ok: false, refused: 0, retryAt: t0 + 70_000 })
    })

    it('takes several limits all or nothing, and names the one that refused', async () => {
      const user = `user:${randomUUID()}`
      const channel = `channel:${randomUUID()}`
      const now = 1_700_000_000_000
      const both = [
        { key: user, limit: 5, windowMs: 60_000 },
        { key: channel, limit: 1, windowMs: 30_000 },
      ]
      expect(await store.take(both, now)).toEqual({ ok: true, remaining: [4, 0] })
      expect(await store.take(both, now + 1)).toEqual({ ok: false, refused: 1, retryAt: now + 30_000 })
      // The channel's refusal did not spend a use of the user's limit.
      expect(await store.take([{ key: user, limit: 5, windowMs: 60_000 }], now + 2)).toEqual({
        ok: true,
        remaining: [3],
      })
      expect(await store.take([], now)).toEqual({ ok: true, remaining: [] })
    })

    it('grants exactly the limit to many concurrent takes', async () => {
      const limit = [{ key: `user:${randomUUID()}`, limit: 4, windowMs: 60_000 }]
      const now = Date.now()
      const results = await Promise.all(Array.from({ length: 12 }, () => store.take(limit, now)))
      expect(results.filter((r) => r.ok)).toHaveLength(4)
    })

    it('adds to a total that expires its time to live after the first spend', async () => {
      const key = `budget:${randomUUID()}`
      expect(await store.spend(key, 0, 300)).toBe(0)
      expect(await store.spend(key, 120, 300)).toBe(120)
      expect(await store.spend(key, 30, 300)).toBe(150)
      await new Promise((r) => setTimeout(r, 400))
      expect(await store.spend(key, 7, 300)).toBe(7)
    })
  })
}
