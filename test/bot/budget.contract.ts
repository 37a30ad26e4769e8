/**
 * The contract every EditBudget keeps: `MemoryEditBudget` (`budget.test.ts`) and `RedisEditBudget`
 * (`budget-redis.test.ts`) run these same cases, each with a fresh budget. Not a test file itself.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { EditBudget, EditPriority, Route } from '../../src/bot/index.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
let n = 0
const route = (limit: number, windowMs: number): Route => ({ key: `test:${n++}`, limit, windowMs })

export interface BudgetFactory {
  create(): EditBudget
  /** After each case: close the budget and remove whatever it keeps. */
  destroy(budget: EditBudget): Promise<void>
}

export function budgetContract(name: string, factory: BudgetFactory): void {
  describe(`${name}: the EditBudget contract`, () => {
    const made: EditBudget[] = []
    const create = (): EditBudget => {
      const budget = factory.create()
      made.push(budget)
      return budget
    }
    afterEach(async () => {
      for (const budget of made.splice(0)) await factory.destroy(budget)
    })

    it('grants at most `limit` turns in any window', async () => {
      const budget = create()
      const r = route(3, 200)
      const times: number[] = []
      const t0 = performance.now()
      await Promise.all(
        Array.from({ length: 7 }, () =>
          budget.acquire(r, 'final').granted.then(() => times.push(performance.now() - t0)),
        ),
      )
      times.sort((a, b) => a - b)
      // A grant is recorded when its callback runs, which a busy event loop (two test files on two
      // cores) can make a few tens of milliseconds late: the window is checked with that much room.
      for (let i = 3; i < times.length; i++)
        expect((times[i] as number) - (times[i - 3] as number)).toBeGreaterThanOrEqual(175)
      expect(times[6]).toBeGreaterThanOrEqual(390)
    })

    it('serves final before first before progress, in arrival order within one', async () => {
      const budget = create()
      const r = route(1, 40)
      await budget.acquire(r, 'progress').granted
      const order: string[] = []
      const wait = (label: string, p: EditPriority) =>
        budget.acquire(r, p).granted.then(() => order.push(label))
      await Promise.all([
        wait('p1', 'progress'),
        wait('f1', 'first'),
        wait('p2', 'progress'),
        wait('F1', 'final'),
        wait('f2', 'first'),
        wait('F2', 'final'),
      ])
      expect(order).toEqual(['F1', 'F2', 'f1', 'f2', 'p1', 'p2'])
    })

    it('a raised turn moves ahead of lower ones', async () => {
      const budget = create()
      const r = route(1, 40)
      await budget.acquire(r, 'progress').granted
      const order: string[] = []
      const a = budget.acquire(r, 'progress')
      const b = budget.acquire(r, 'progress')
      b.raise('final')
      await Promise.all([a.granted.then(() => order.push('a')), b.granted.then(() => order.push('b'))])
      expect(order).toEqual(['b', 'a'])
    })

    it("progress leaves a window's last turn to a first result or final, which then goes at once", async () => {
      const budget = create()
      const r = route(3, 400)
      await budget.acquire(r, 'progress').granted
      await budget.acquire(r, 'progress').granted
      let progressAt: number | undefined
      const t0 = performance.now()
      const progress = budget.acquire(r, 'progress').granted.then(() => {
        progressAt = performance.now() - t0
      })
      await sleep(30)
      expect(progressAt).toBeUndefined()
      await budget.acquire(r, 'final').granted
      expect(performance.now() - t0).toBeLessThan(100)
      await progress
      expect(progressAt).toBeGreaterThanOrEqual(350)
    })

    it('a waiting progress turn raised to first takes the turn progress left free, at once', async () => {
      const budget = create()
      const r = route(3, 1_000)
      await budget.acquire(r, 'progress').granted
      await budget.acquire(r, 'progress').granted
      const waiting = budget.acquire(r, 'progress')
      await sleep(20)
      const t0 = performance.now()
      waiting.raise('first')
      await waiting.granted
      expect(performance.now() - t0).toBeLessThan(50)
    })

    it('routes are independent', async () => {
      const budget = create()
      const slow = route(1, 10_000)
      await budget.acquire(slow, 'final').granted
      const t0 = performance.now()
      await budget.acquire(route(1, 10_000), 'progress').granted
      expect(performance.now() - t0).toBeLessThan(100)
      expect(budget.waiting).toBe(0)
    })

    it('pause holds every turn on the route for the time asked', async () => {
      const budget = create()
      const r = route(100, 1_000)
      budget.pause(r, 300)
      const t0 = performance.now()
      await budget.acquire(r, 'final').granted
      expect(performance.now() - t0).toBeGreaterThanOrEqual(290)
    })

    it('a cancelled turn is never granted and frees its place', async () => {
      const budget = create()
      const r = route(1, 60)
      await budget.acquire(r, 'final').granted
      const cancelled = budget.acquire(r, 'final')
      const other = budget.acquire(r, 'progress')
      cancelled.cancel()
      await expect(cancelled.granted).rejects.toThrow()
      await other.granted
      await sleep(0)
      expect(budget.waiting).toBe(0)
    })
  })
}
