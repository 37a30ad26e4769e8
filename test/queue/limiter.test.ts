import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { FairLimiter, sleep } from '../../src/engine/index.ts'
import { LimiterClosedError, RedisFairLimiter } from '../../src/queue/index.ts'
import {
  deleteKeysUnder,
  keysUnder,
  redisTestsEnabled,
  TEST_REDIS_URL,
  testPrefix,
  testRedis,
  whenRedis,
} from '../support/redis.ts'
import { deferred, limiterContract, until } from './limiter.contract.ts'

limiterContract('FairLimiter (in-process)', {
  async create(concurrency) {
    return new FairLimiter(concurrency)
  },
  async destroy() {},
})

whenRedis(await redisTestsEnabled(), () => {
  const redis = testRedis()
  afterAll(async () => {
    await redis.quit()
  })

  /** Asserts the limiters left nothing under `prefix`, then deletes whatever they did leave. */
  async function expectNoKeysLeft(prefix: string): Promise<void> {
    const left = await keysUnder(redis, prefix)
    await deleteKeysUnder(redis, prefix)
    expect(left).toEqual([])
  }

  const prefixes = new Map<RedisFairLimiter, string>()
  limiterContract('RedisFairLimiter', {
    async create(concurrency) {
      const prefix = testPrefix()
      const limiter = new RedisFairLimiter({ redis, prefix, concurrency })
      prefixes.set(limiter, prefix)
      return limiter
    },
    async destroy(limiter) {
      await (limiter as RedisFairLimiter).close()
      await expectNoKeysLeft(prefixes.get(limiter as RedisFairLimiter) as string)
    },
  })

  /** Two limiters on one fresh prefix, each on its own connection (as two processes), closed and checked after. */
  async function twoProcesses(
    options: { concurrency: number; leaseMs?: number },
    body: (first: RedisFairLimiter, second: RedisFairLimiter) => Promise<void>,
  ): Promise<void> {
    const prefix = testPrefix()
    const connection = testRedis()
    const first = new RedisFairLimiter({ redis, prefix, ...options })
    const second = new RedisFairLimiter({ redis: connection, prefix, ...options })
    try {
      await body(first, second)
    } finally {
      await first.close()
      await second.close()
      await connection.quit()
      await expectNoKeysLeft(prefix)
    }
  }

  describe('RedisFairLimiter across processes', () => {
    it('keeps two limiters on one prefix (two connections) within one concurrency together', async () => {
      await twoProcesses({ concurrency: 3 }, async (a, b) => {
        let inFlight = 0
        let most = 0
        const job = (limiter: RedisFairLimiter, key: string, i: number) =>
          limiter.run(key, async () => {
            inFlight++
            most = Math.max(most, inFlight)
            await sleep(2 + (i % 4))
            inFlight--
          })
        await Promise.all(
          Array.from({ length: 30 }, (_, i) => [job(a, `a-${i % 3}`, i), job(b, `b-${i % 2}`, i)]).flat(),
        )
        expect(most).toBe(3)
      })
    })

    it("serves another process's run next while one run holds every slot", async () => {
      await twoProcesses({ concurrency: 3 }, async (worker1, worker2) => {
        const starts: string[] = []
        const gates = Array.from({ length: 22 }, () => deferred())
        const job = (limiter: RedisFairLimiter, key: string, i: number) =>
          limiter.run(key, () => {
            starts.push(key)
            return (gates[i] as ReturnType<typeof deferred>).promise
          })
        const fanOut = Array.from({ length: 20 }, (_, i) => job(worker1, 'A', i))
        await until(() => starts.length === 3)
        const small = [job(worker2, 'B', 20), job(worker2, 'B', 21)]
        await until(() => worker2.waiting === 2)
        await sleep(50)
        expect(starts).toEqual(['A', 'A', 'A'])
        gates[0]?.resolve()
        await until(() => starts.length === 4)
        expect(starts[3]).toBe('B')
        for (const gate of gates) gate.resolve()
        await Promise.all([...fanOut, ...small])
        expect(starts.filter((k) => k === 'B')).toHaveLength(2)
      })
    })

    it('gives a closed limiter’s slots back at once and rejects its waiting jobs', async () => {
      await twoProcesses({ concurrency: 1, leaseMs: 60_000 }, async (closing, staying) => {
        void closing.run('a', () => new Promise(() => {}))
        await until(() => closing.active === 1)
        const dropped = closing.run('a', async () => 'never')
        const next = staying.run('b', async () => 'b ran')
        const droppedRejects = expect(dropped).rejects.toBeInstanceOf(LimiterClosedError)
        await until(() => staying.waiting === 1)
        await closing.close()
        await droppedRejects
        expect(await next).toBe('b ran')
      })
    })

    it('queues a waiting job again when its process had lapsed and its place was dropped', async () => {
      const prefix = testPrefix()
      const other = testRedis()
      const holder = new RedisFairLimiter({ redis, prefix, concurrency: 1, leaseMs: 300 })
      const waiter = new RedisFairLimiter({ redis: other, prefix, concurrency: 1, leaseMs: 300 })
      try {
        const gate = deferred()
        const held = holder.run('held', () => gate.promise)
        await until(() => holder.active === 1)
        const job = waiter.run('waits', async () => 'ran')
        let queued: string[] = []
        for (let i = 0; i < 100 && queued.length === 0; i++) {
          queued = await redis.zrange(`${prefix}:limiter:queue`, '0', '-1')
          await sleep(10)
        }
        // As after a pause longer than its lease: Redis no longer knows the waiting process.
        await redis.zrem(`${prefix}:limiter:owners`, (queued[0] as string).split(':')[0] as string)
        gate.resolve()
        await held
        // The freed slot skipped the unknown process's place; its next heartbeat queues the job again.
        expect(await job).toBe('ran')
      } finally {
        await holder.close()
        await waiter.close()
        await other.quit()
        await expectNoKeysLeft(prefix)
      }
    })

    it("reclaims a killed process's slots once its lease expires, not before", async () => {
      const prefix = testPrefix()
      const limiterFile = fileURLToPath(new URL('../../src/queue/limiter.ts', import.meta.url))
      const code = `
      import { Redis } from 'ioredis'
      import { RedisFairLimiter } from ${JSON.stringify(limiterFile)}
      const limiter = new RedisFairLimiter({
        redis: new Redis(${JSON.stringify(TEST_REDIS_URL)}), prefix: ${JSON.stringify(prefix)},
        concurrency: 2, leaseMs: 600,
      })
      let started = 0
      for (let i = 0; i < 2; i++)
        limiter.run('held', () => { if (++started === 2) console.log('holding'); return new Promise(() => {}) })
    `
      const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      const survivor = new RedisFairLimiter({ redis, prefix, concurrency: 2, leaseMs: 600 })
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (chunk: Buffer) => {
            if (chunk.toString().includes('holding')) resolve()
          })
          child.once('exit', (status) => reject(new Error(`child exited with ${status} before holding`)))
        })
        let startedAt = 0
        const job = survivor.run('waiting', async () => {
          startedAt = Date.now()
        })
        // Three lease lengths: the child's heartbeat keeps its slots.
        await sleep(1_800)
        expect(startedAt).toBe(0)
        const killedAt = Date.now()
        child.kill('SIGKILL')
        await job
        expect(startedAt).toBeGreaterThanOrEqual(killedAt)
        expect(startedAt - killedAt).toBeLessThan(3_000)
      } finally {
        child.kill('SIGKILL')
        await survivor.close()
        await expectNoKeysLeft(prefix)
      }
    })
  })
})
