import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import {
  BudgetClosedError,
  BudgetUnavailableError,
  type EditBudget,
  type EditPriority,
  RedisEditBudget,
  type Route,
} from '../../src/bot/index.ts'
import { sleep } from '../../src/engine/index.ts'
import {
  deleteKeysUnder,
  keysUnder,
  redisTestsEnabled,
  testPrefix,
  testRedis,
  whenRedis,
} from '../support/redis.ts'
import { startOwnRedis } from '../support/redis-server.ts'
import { budgetContract } from './budget.contract.ts'

let n = 0
const route = (limit: number, windowMs: number): Route => ({ key: `test:${n++}`, limit, windowMs })

whenRedis(await redisTestsEnabled(), () => {
  const redis = testRedis()
  afterAll(async () => {
    await redis.quit()
  })

  /** The processes holding a claim in a route's state (`<paused until>|<grants>|<process>:<order>:<expiry>,…`). */
  async function claimsIn(key: string): Promise<string[]> {
    const state = (await redis.get(key)) ?? '||'
    return (state.split('|')[2] ?? '').split(',').filter((c) => c !== '')
  }

  const prefixes = new Map<EditBudget, string>()
  budgetContract('RedisEditBudget', {
    create() {
      const prefix = testPrefix()
      const budget = new RedisEditBudget({ redis, prefix })
      prefixes.set(budget, prefix)
      return budget
    },
    async destroy(budget) {
      await (budget as RedisEditBudget).close()
      const prefix = prefixes.get(budget) as string
      // Grants and pauses expire with their window; a closed budget withdrew every claim.
      const left = await keysUnder(redis, prefix)
      const claims = await Promise.all(left.map((k) => claimsIn(k)))
      await deleteKeysUnder(redis, prefix)
      expect(left.filter((k) => !k.startsWith(`${prefix}:budget:route:`))).toEqual([])
      expect(claims.flat()).toEqual([])
    },
  })

  /** Two budgets on one fresh prefix, each on its own connection (as two processes), closed after. */
  async function twoProcesses(
    body: (first: RedisEditBudget, second: RedisEditBudget, prefix: string) => Promise<void>,
  ): Promise<void> {
    const prefix = testPrefix()
    const connection = testRedis()
    const first = new RedisEditBudget({ redis, prefix })
    const second = new RedisEditBudget({ redis: connection, prefix })
    try {
      await body(first, second, prefix)
    } finally {
      await first.close()
      await second.close()
      await connection.quit()
      await deleteKeysUnder(redis, prefix)
    }
  }

  describe('RedisEditBudget across processes', () => {
    it('two budgets on one prefix together grant at most `limit` in any window, and leave no keys after it', async () => {
      await twoProcesses(async (a, b, prefix) => {
        const r = route(3, 300)
        const priorities: EditPriority[] = ['progress', 'first', 'final', 'progress', 'final', 'first']
        const times: number[] = []
        const from = new Set<string>()
        const t0 = performance.now()
        const turns = (budget: RedisEditBudget, name: string) =>
          priorities.map((p) =>
            budget.acquire(r, p).granted.then(() => {
              times.push(performance.now() - t0)
              from.add(name)
            }),
          )
        await Promise.all([...turns(a, 'a'), ...turns(b, 'b')])
        expect(times).toHaveLength(12)
        expect(from).toEqual(new Set(['a', 'b']))
        times.sort((x, y) => x - y)
        // Redis decides on its own clock; this process sees each grant a round trip later.
        for (let i = 3; i < times.length; i++)
          expect((times[i] as number) - (times[i - 3] as number)).toBeGreaterThanOrEqual(280)
        expect(times[11]).toBeGreaterThanOrEqual(3 * 280)
        expect(await keysUnder(redis, prefix)).not.toEqual([])
        await sleep(r.windowMs + 100)
        expect(await keysUnder(redis, prefix)).toEqual([])
      })
    })

    /** Three rounds on fresh routes: one turn waits in `earlier`, then one in `later`; the order they are served. */
    async function servedAcross(
      earlier: [RedisEditBudget, EditPriority],
      later: [RedisEditBudget, EditPriority],
    ): Promise<string[][]> {
      const rounds: string[][] = []
      for (let round = 0; round < 3; round++) {
        const r = route(1, 150)
        await earlier[0].acquire(r, 'final').granted
        const order: string[] = []
        const first = earlier[0].acquire(r, earlier[1]).granted.then(() => order.push('earlier'))
        await sleep(20)
        const second = later[0].acquire(r, later[1]).granted.then(() => order.push('later'))
        await Promise.all([first, second])
        rounds.push(order)
      }
      return rounds
    }

    it('a final waiting in one process goes before progress that waited longer in another', async () => {
      await twoProcesses(async (a, b) => {
        const rounds = await servedAcross([a, 'progress'], [b, 'final'])
        expect(rounds).toEqual(Array(3).fill(['later', 'earlier']))
      })
    })

    it('within one priority, the turn that arrived first goes first, whichever process it waits in', async () => {
      await twoProcesses(async (a, b) => {
        const rounds = await servedAcross([b, 'first'], [a, 'first'])
        expect(rounds).toEqual(Array(3).fill(['earlier', 'later']))
      })
    })

    it("a killed process's claim holds others back only until it lapses (its window and a second)", async () => {
      const prefix = testPrefix()
      const dying = testRedis()
      const survivor = new RedisEditBudget({ redis, prefix })
      const killed = new RedisEditBudget({ redis: dying, prefix })
      try {
        const r = route(1, 100)
        await survivor.acquire(r, 'final').granted
        const lost = killed.acquire(r, 'final').granted
        const lostRejects = expect(lost).rejects.toBeInstanceOf(BudgetUnavailableError)
        // Its claim is in Redis before it dies (its connection was new: that can take a moment).
        const key = `${prefix}:budget:route:${r.key}`
        for (let i = 0; i < 100 && (await claimsIn(key)).length === 0; i++) await sleep(10)
        expect(await claimsIn(key)).toHaveLength(1)
        const t0 = performance.now()
        const progress = survivor.acquire(r, 'progress').granted
        dying.disconnect()
        await lostRejects
        await progress
        const waited = performance.now() - t0
        expect(waited).toBeGreaterThanOrEqual(900)
        expect(waited).toBeLessThan(3_000)
      } finally {
        await survivor.close()
        await killed.close().catch(() => undefined)
        await deleteKeysUnder(redis, prefix)
      }
    })
  })

  /** A budget on a connection of its own that counts its script calls; `done` closes both and clears the keys. */
  async function countedBudget(): Promise<{
    budget: RedisEditBudget
    scripts: () => number
    done: () => Promise<void>
  }> {
    const prefix = testPrefix()
    const client = testRedis()
    // Connected first: a command queued while connecting is sent (through sendCommand) twice.
    await client.ping()
    let scripts = 0
    const send = client.sendCommand.bind(client)
    client.sendCommand = (command) => {
      if (/^eval/.test(command.name)) scripts++
      return send(command)
    }
    const budget = new RedisEditBudget({ redis: client, prefix })
    return {
      budget,
      scripts: () => scripts,
      async done() {
        await budget.close()
        await client.quit()
        await deleteKeysUnder(redis, prefix)
      },
    }
  }

  describe('RedisEditBudget', () => {
    it('progress the window would refuse waits without asking Redis, and goes once the window lets it', async () => {
      const { budget, scripts, done } = await countedBudget()
      try {
        // Two turns a window: progress leaves the second to a first result or a final.
        const r = route(2, 300)
        await budget.acquire(r, 'first').granted
        const t0 = performance.now()
        await budget.acquire(r, 'progress').granted
        expect(performance.now() - t0).toBeGreaterThanOrEqual(250)
        // The first turn's answer said when progress could go: no refused question in between.
        expect(scripts()).toBe(2)
      } finally {
        await done()
      }
    })

    it("reads Redis' clock (TIME) once or twice for many calls, and its grants stay on Redis' clock", async () => {
      // A server of the test's own: INFO commandstats counts only this budget's commands.
      const own = await startOwnRedis()
      const client = new Redis(own.url)
      const prefix = testPrefix()
      const budget = new RedisEditBudget({ redis: client, prefix })
      try {
        const r = route(100, 60_000)
        for (let i = 0; i < 20; i++) await budget.acquire(r, i % 2 === 0 ? 'final' : 'progress').granted
        const stats = await client.info('commandstats')
        const calls = (name: string) =>
          Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0)
        expect(calls('evalsha') + calls('eval')).toBe(20)
        // Once, or twice when the first call (connecting, loading the script) was too slow to reckon from.
        expect(calls('time')).toBeLessThanOrEqual(2)
        // Every grant was recorded within a few ms of Redis' own clock, oldest first.
        const [sec, micro] = await client.time()
        const redisNow = Number(sec) * 1000 + Math.floor(Number(micro) / 1000)
        const state = (await client.get(`${prefix}:budget:route:${r.key}`)) ?? ''
        const grants = (state.split('|')[1] ?? '').split(',').map(Number)
        expect(grants).toHaveLength(20)
        expect(grants).toEqual([...grants].sort((a, b) => a - b))
        for (const at of grants) expect(Math.abs(redisNow - at)).toBeLessThan(2_000)
      } finally {
        await budget.close()
        client.disconnect()
        await own.remove()
      }
    })

    it('asks about every route of one turn of the event loop in one script call, each on its own window', async () => {
      const { budget, scripts, done } = await countedBudget()
      try {
        const routes = Array.from({ length: 5 }, () => route(1, 60_000))
        await Promise.all(routes.map((r) => budget.acquire(r, 'final').granted))
        expect(scripts()).toBe(1)
        // Each route's one turn is spent: a second waits on its own route only.
        const second = budget.acquire(routes[0] as Route, 'final').granted
        const other = budget.acquire(route(1, 60_000), 'final').granted
        await other
        expect(await Promise.race([second.then(() => 'granted'), sleep(100).then(() => 'waiting')])).toBe(
          'waiting',
        )
      } finally {
        await done()
      }
    })

    it('rejects waiting turns with BudgetUnavailableError when Redis does not answer, instead of hanging', async () => {
      // A socket that does not exist: every connection attempt fails at once.
      const unreachable = new Redis({
        path: join(tmpdir(), `chorus-no-redis-${randomUUID()}.sock`),
        maxRetriesPerRequest: 1,
        retryStrategy: () => null,
      })
      unreachable.on('error', () => {})
      const budget = new RedisEditBudget({ redis: unreachable, prefix: testPrefix() })
      try {
        const turn = budget.acquire(route(3, 1_000), 'final')
        await expect(turn.granted).rejects.toBeInstanceOf(BudgetUnavailableError)
        await expect(turn.granted).rejects.toThrow(/could not reach Redis/)
        expect(budget.waiting).toBe(0)
      } finally {
        await budget.close()
        unreachable.disconnect()
      }
    })

    it('close rejects waiting turns and withdraws its claims', async () => {
      const prefix = testPrefix()
      const budget = new RedisEditBudget({ redis, prefix })
      try {
        const r = route(1, 5_000)
        await budget.acquire(r, 'final').granted
        // A first result waiting claims its place (progress that Redis would refuse waits unasked).
        const waiting = budget.acquire(r, 'first')
        await sleep(30)
        const key = `${prefix}:budget:route:${r.key}`
        expect(await claimsIn(key)).toHaveLength(1)
        const rejects = expect(waiting.granted).rejects.toBeInstanceOf(BudgetClosedError)
        await budget.close()
        await rejects
        await expect(budget.acquire(r, 'final').granted).rejects.toBeInstanceOf(BudgetClosedError)
        expect(budget.waiting).toBe(0)
        expect(await keysUnder(redis, prefix)).toEqual([key])
        expect(await claimsIn(key)).toEqual([])
      } finally {
        await deleteKeysUnder(redis, prefix)
      }
    })
  })
})
