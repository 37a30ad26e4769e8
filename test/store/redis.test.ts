import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '../../src/store/index.ts'
import { ENDED_RUN_TTL_MS } from '../../src/store/redis.ts'
import {
  deleteKeysUnder,
  keysUnder,
  redisTestsEnabled,
  TEST_REDIS_URL,
  testPrefix,
  testRedis,
  whenRedis,
} from '../support/redis.ts'
import { runStoreContract } from './contract.ts'

whenRedis(await redisTestsEnabled(), () => {
  const admin = testRedis()
  afterAll(async () => {
    await admin.quit()
  })

  const prefixes = new Map<RedisStore, string>()

  runStoreContract('redis', {
    async create() {
      const prefix = testPrefix()
      const store = new RedisStore({ redis: TEST_REDIS_URL, prefix })
      prefixes.set(store, prefix)
      return store
    },
    async sibling(store) {
      return new RedisStore({ redis: TEST_REDIS_URL, prefix: prefixes.get(store as RedisStore) as string })
    },
    async destroy(store) {
      await store.close()
      const prefix = prefixes.get(store as RedisStore) as string
      expect(await deleteKeysUnder(admin, prefix)).toBeGreaterThan(0)
      expect(await keysUnder(admin, prefix)).toEqual([])
    },
  })

  describe('RedisStore', () => {
    const prefix = testPrefix()
    let store: RedisStore
    beforeAll(() => {
      store = new RedisStore({ redis: admin, prefix })
    })
    afterAll(async () => {
      await store.close()
      await deleteKeysUnder(admin, prefix)
      expect(await keysUnder(admin, prefix)).toEqual([])
    })

    function newRun(id = randomUUID()) {
      return {
        id,
        command: 'vote',
        input: { question: 'why?' },
        user: 'ada',
        target: { platform: 'slack', channel: 'C1' } as const,
        createdAt: Date.now(),
      }
    }

    it('keeps every key under its prefix and says so in describe', async () => {
      const run = newRun()
      await store.create(run)
      await store.recordStep(run.id, { step: 'voter-1', call: 1, ok: true, value: 'yes' })
      await store.claim('command:x', 60_000)
      expect(store.describe).toBe(`redis:${prefix}`)
      const keys = await keysUnder(admin, prefix)
      expect(keys.length).toBeGreaterThanOrEqual(4)
      expect(keys.every((k) => k.startsWith(`${prefix}:`))).toBe(true)
    })

    it('gives an ended run and its steps a safety TTL, and none while running', async () => {
      const run = newRun()
      await store.create(run)
      await store.recordStep(run.id, { step: 'a', call: 1, ok: true, value: 1 })
      expect(await admin.pttl(`${prefix}:run:${run.id}`)).toBe(-1)
      await store.finish(run.id, 'completed')
      for (const key of [`${prefix}:run:${run.id}`, `${prefix}:run:${run.id}:steps`]) {
        const ttl = await admin.pttl(key)
        expect(ttl).toBeGreaterThan(ENDED_RUN_TTL_MS - 60_000)
        expect(ttl).toBeLessThanOrEqual(ENDED_RUN_TTL_MS)
      }
    })

    it('gives a step recorded after its run ended the safety TTL, also when the run had recorded none', async () => {
      const run = newRun()
      await store.create(run)
      await store.finish(run.id, 'failed', { note: 'no step ran' })
      await store.recordStep(run.id, { step: 'late', call: 1, ok: true, value: 'x' })
      const ttl = await admin.pttl(`${prefix}:run:${run.id}:steps`)
      expect(ttl).toBeGreaterThan(ENDED_RUN_TTL_MS - 60_000)
      expect(await store.completedSteps(run.id)).toEqual([{ step: 'late', call: 1, value: 'x' }])
    })

    it('reads a failure journaled in a step field (before failures had fields of their own) as no step', async () => {
      const run = newRun()
      await store.create(run)
      await admin.hset(`${prefix}:run:${run.id}:steps`, '1:a', '0timeout', '1:b', '1{"v":"B"}')
      await store.recordStep(run.id, { step: 'c', call: 1, ok: false, error: '1 attempt left' })
      expect(await store.completedSteps(run.id)).toEqual([{ step: 'b', call: 1, value: 'B' }])
    })

    it("gives an ended run's questions the same safety TTL, also those written after it ended", async () => {
      const run = newRun()
      const q = { runId: run.id, id: 'q#1#1', step: 'q', spec: {}, createdAt: 1, deadlineAt: 2 }
      await store.create(run)
      await store.openQuestion(q)
      await store.giveAnswer(run.id, q.id, { user: 'U1', name: 'ada', value: 'yes', at: 1 })
      const key = `${prefix}:run:${run.id}:questions`
      expect(await admin.pttl(key)).toBe(-1)
      await store.finish(run.id, 'completed')
      expect(await admin.pttl(key)).toBeGreaterThan(ENDED_RUN_TTL_MS - 60_000)
      await admin.persist(key)
      await store.markDelivered(run.id, 'final')
      expect(await admin.pttl(key)).toBeGreaterThan(ENDED_RUN_TTL_MS - 60_000)
      const late = newRun()
      await store.create(late)
      await store.finish(late.id, 'stopped')
      await store.giveAnswer(late.id, q.id, { user: 'U1', name: 'ada', value: 'no', at: 2 })
      expect(await admin.pttl(`${prefix}:run:${late.id}:questions`)).toBeGreaterThan(
        ENDED_RUN_TTL_MS - 60_000,
      )
      const orphan = randomUUID()
      await store.giveAnswer(orphan, q.id, { user: 'U1', name: 'ada', value: 'no', at: 2 })
      expect(await admin.pttl(`${prefix}:run:${orphan}:questions`)).toBeGreaterThan(0)
    })

    it('finds the questions of a run written before runs said whether they asked, and gives them the TTL too', async () => {
      const run = newRun()
      await store.create(run)
      expect(await admin.hget(`${prefix}:run:${run.id}`, 'asked')).toBe('0')
      // An older process wrote this run and its question: no 'asked' field.
      await admin.hdel(`${prefix}:run:${run.id}`, 'asked')
      const key = `${prefix}:run:${run.id}:questions`
      await admin.hset(key, 'opened', '1')
      await store.finish(run.id, 'completed')
      expect(await admin.pttl(key)).toBeGreaterThan(ENDED_RUN_TTL_MS - 60_000)
      const asking = newRun()
      await store.create(asking)
      await store.openQuestion({
        runId: asking.id,
        id: 'q#1#1',
        step: 'q',
        spec: {},
        createdAt: 1,
        deadlineAt: 2,
      })
      expect(await admin.hget(`${prefix}:run:${asking.id}`, 'asked')).toBe('1')
    })

    it('reads a run written before parking existed as not parked and never woken', async () => {
      const id = randomUUID()
      await admin.hset(`${prefix}:run:${id}`, {
        id,
        command: 'vote',
        input: '{}',
        user: 'ada',
        target: '{"platform":"slack","channel":"C1"}',
        status: 'running',
        createdAt: '1',
        updatedAt: '1',
        delivered: '',
      })
      await admin.zadd(`${prefix}:runs:running`, 1, id)
      expect(await store.get(id)).toMatchObject({ parked: false, wakes: 0 })
      expect((await store.unfinished()).map((r) => r.id)).toContain(id)
      expect(await store.park(id, 0, undefined)).toBe(true)
      expect(await store.wake(id)).toBe(true)
      expect((await store.get(id))?.wakes).toBe(1)
    })

    it('prunes by last update: a run touched after the cut survives', async () => {
      const own = testPrefix()
      const alone = new RedisStore({ redis: admin, prefix: own })
      try {
        const old = newRun()
        const touched = newRun()
        await alone.create(old)
        await alone.create(touched)
        await alone.finish(old.id, 'failed', { note: 'model down' })
        await alone.finish(touched.id, 'completed')
        await new Promise((r) => setTimeout(r, 20))
        const cut = Date.now()
        await new Promise((r) => setTimeout(r, 5))
        await alone.markDelivered(touched.id, 'final')
        expect(await alone.prune(cut)).toBe(1)
        expect(await alone.get(old.id)).toBeUndefined()
        expect(await alone.get(touched.id)).toMatchObject({ status: 'completed', delivered: ['final'] })
      } finally {
        await deleteKeysUnder(admin, own)
      }
    })

    it('prunes more ended runs than one script handles', async () => {
      const ids = Array.from({ length: 1_100 }, () => randomUUID())
      await Promise.all(ids.map((id) => store.create(newRun(id))))
      await Promise.all(ids.map((id) => store.finish(id, 'completed')))
      expect(await store.prune(Date.now() + 1_000)).toBeGreaterThanOrEqual(ids.length)
      expect(await admin.exists(`${prefix}:runs:ended`)).toBe(0)
    })

    it('writes nothing for a target or a delivery of an unknown run', async () => {
      const id = randomUUID()
      await store.setTarget(id, { platform: 'slack', channel: 'C2' })
      await store.markDelivered(id, 'first')
      expect(await admin.exists(`${prefix}:run:${id}`)).toBe(0)
    })

    it('leaves a client it was given open, and quits one it opened', async () => {
      const own = new RedisStore({ redis: TEST_REDIS_URL, prefix })
      await own.get(randomUUID())
      await own.close()
      await store.close()
      expect(await admin.ping()).toBe('PONG')
    })
  })
})
