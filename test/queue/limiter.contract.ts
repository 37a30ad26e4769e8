/**
 * The Limiter contract: the in-process `FairLimiter` and `RedisFairLimiter` run these same cases
 * (`limiter.test.ts`). Each case gets a fresh limiter from the factory.
 */
import { describe, expect, it } from 'vitest'
import { sleep } from '../../src/engine/index.ts'
import type { Limiter } from '../../src/queue/index.ts'

export interface TestLimiter extends Limiter {
  readonly active: number
  readonly waiting: number
}

export interface LimiterFactory {
  create(concurrency: number): Promise<TestLimiter>
  destroy(limiter: TestLimiter): Promise<void>
}

export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Waits until `check` holds, failing after `ms`. */
export async function until(check: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await sleep(5)
  }
}

export function limiterContract(name: string, factory: LimiterFactory): void {
  describe(`Limiter contract: ${name}`, () => {
    async function withLimiter(concurrency: number, body: (limiter: TestLimiter) => Promise<void>) {
      const limiter = await factory.create(concurrency)
      try {
        await body(limiter)
      } finally {
        await factory.destroy(limiter)
      }
    }

    it('never runs more than its concurrency at once, and does reach it', async () => {
      await withLimiter(4, async (limiter) => {
        let inFlight = 0
        let most = 0
        const results = await Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            limiter.run(`run-${i % 6}`, async () => {
              inFlight++
              most = Math.max(most, inFlight)
              await sleep(1 + (i % 5))
              inFlight--
              return i
            }),
          ),
        )
        expect(results).toEqual(Array.from({ length: 60 }, (_, i) => i))
        expect(most).toBe(4)
        expect(limiter.active).toBe(0)
        expect(limiter.waiting).toBe(0)
      })
    })

    it('passes results and errors through, and frees the slot after an error', async () => {
      await withLimiter(1, async (limiter) => {
        const boom = new Error('model down')
        expect(await limiter.run('a', async () => ({ answer: 42 }))).toEqual({ answer: 42 })
        await expect(limiter.run('a', () => Promise.reject(boom))).rejects.toBe(boom)
        expect(await limiter.run('b', async () => 'after')).toBe('after')
      })
    })

    it('rejects a job whose signal aborts while it waits, with the reason, and frees its place', async () => {
      await withLimiter(1, async (limiter) => {
        const gate = deferred()
        const blocker = limiter.run('a', () => gate.promise)
        await until(() => limiter.active === 1)
        const controller = new AbortController()
        let abortedRan = false
        const aborted = limiter.run(
          'b',
          async () => {
            abortedRan = true
          },
          controller.signal,
        )
        const next = limiter.run('c', async () => 'c ran')
        expect(limiter.waiting).toBe(2)
        const reason = new Error('user pressed Stop')
        controller.abort(reason)
        await expect(aborted).rejects.toBe(reason)
        expect(limiter.waiting).toBe(1)
        gate.resolve()
        await blocker
        expect(await next).toBe('c ran')
        expect(abortedRan).toBe(false)
      })
    })

    it('rejects at once with the reason when the signal has already aborted', async () => {
      await withLimiter(1, async (limiter) => {
        const reason = new Error('too late')
        let ran = false
        const job = limiter.run(
          'a',
          async () => {
            ran = true
          },
          AbortSignal.abort(reason),
        )
        await expect(job).rejects.toBe(reason)
        expect(ran).toBe(false)
      })
    })

    it("serves a second run's jobs before the first run's 20-way fan-out is done", async () => {
      const concurrency = 3
      await withLimiter(concurrency, async (limiter) => {
        const starts: string[] = []
        const job = (key: string) =>
          limiter.run(key, async () => {
            starts.push(key)
            await sleep(5)
          })
        const a = Array.from({ length: 20 }, () => job('A'))
        const b = [job('B'), job('B')]
        await Promise.all([...a, ...b])
        expect(starts).toHaveLength(22)
        // Round-robin starts B's k-th job within concurrency + 2k starts; FIFO would start them last.
        expect(starts.lastIndexOf('B')).toBeLessThan(concurrency + 4)
      })
    })

    it('serves a thousand waiting runs round-robin within its bound: a fan-out that came first waits its turn', async () => {
      const concurrency = 8
      await withLimiter(concurrency, async (limiter) => {
        const starts: string[] = []
        let inFlight = 0
        let most = 0
        const job = (key: string) =>
          limiter.run(key, async () => {
            starts.push(key)
            inFlight++
            most = Math.max(most, inFlight)
            await sleep(1)
            inFlight--
          })
        const fanOut = Array.from({ length: 50 }, () => job('fan-out'))
        const others = Array.from({ length: 1_000 }, (_, i) => job(`run-${i}`))
        expect(limiter.waiting + limiter.active).toBe(1_050)
        await Promise.all([...fanOut, ...others])
        expect(starts).toHaveLength(1_050)
        expect(most).toBe(concurrency)
        // One slot per round for the fan-out (its first slots aside): FIFO would give it the first 50.
        expect(starts.slice(0, 1_000).filter((k) => k === 'fan-out').length).toBeLessThanOrEqual(
          concurrency + 1,
        )
        // The run that came last starts before the fan-out's jobs of the second round.
        const fanOutStarts = starts.flatMap((k, i) => (k === 'fan-out' ? [i] : []))
        expect(starts.indexOf('run-999')).toBeLessThan(fanOutStarts[concurrency + 1] as number)
        expect(limiter.active).toBe(0)
        expect(limiter.waiting).toBe(0)
      })
    }, 30_000)
  })
}
