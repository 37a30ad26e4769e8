import { afterEach, describe, expect, it } from 'vitest'
import { APP_ID, startFakeDiscord, TOKEN } from '../fakes/discord.ts'
import { startFakeOpenAI } from '../fakes/openai.ts'
import {
  APP_TOKEN,
  BOT_TOKEN,
  FAST_TIER,
  FAST_WRITES_PER_MIN,
  type FakeSlack,
  startFakeSlack,
} from '../fakes/slack.ts'
import { type ChorusProcess, killAll, scratchDir, startChorus } from '../support/chorus.ts'
import { redisTestsEnabled, testPrefix, whenRedis } from '../support/redis.ts'
import { freePort, type OwnRedis, startOwnRedis } from '../support/redis-server.ts'
import { expectOneFirstAndOneFinal, gatedAngles, promptCounts, sleep, statusOf } from './helpers.ts'

/** Long enough for every run's worker lock (2 s here) to expire on Redis' clock while it is away. */
const OUTAGE_MS = 6_000

whenRedis(await redisTestsEnabled(), () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn()
  })

  /** A redis-server of the test's own, one `npm start` (with ops on a port) and one `npm run worker`. */
  async function deployment(platformEnv: Record<string, string>) {
    const redis = await startOwnRedis()
    const scratch = scratchDir()
    const procs: ChorusProcess[] = []
    cleanup.push(async () => {
      await killAll(procs)
      redis.signal('SIGCONT')
      await redis.remove()
      scratch.remove()
    })
    const opsPort = await freePort()
    const env = {
      REDIS_URL: redis.url,
      CHORUS_REDIS_PREFIX: testPrefix(),
      CHORUS_WORKER_LOCK_MS: '2000',
      CHORUS_WORKER_STALLED_MS: '1000',
      CHORUS_CONCURRENCY: '256',
      OPENAI_API_KEY: 'sk-test',
      CHORUS_MODEL: 'fake',
      ...platformEnv,
    }
    const receiver = await startChorus({ ...env, CHORUS_HTTP_PORT: String(opsPort) }, scratch.dir, 'start')
    procs.push(receiver)
    const worker = await startChorus(env, scratch.dir, 'worker')
    procs.push(worker)
    const ops = (path: string) => fetch(`http://127.0.0.1:${opsPort}${path}`)
    return { redis, receiver, worker, ops }
  }

  const done = (slack: FakeSlack) => slack.posted().filter((m) => statusOf(m.text) === 'done').length

  /** Sends `n` commands while Redis is away: each must be answered, inside 3 s, with a clear refusal. */
  async function commandsDuringOutage(slack: FakeSlack, n: number) {
    for (let i = 0; i < n; i++) {
      const ack = await slack.send('slash_commands', slack.slashPayload('/brainstorm', `during outage ${i}`))
      expect(ack.ms).toBeLessThan(3_000)
      expect(JSON.stringify(ack.payload)).toMatch(/cannot take commands right now.*try again in a minute/)
      expect((ack.payload as { response_type?: string }).response_type).toBe('ephemeral')
    }
  }

  async function outage(how: 'kill -9' | 'SIGSTOP', redis: OwnRedis, during: () => Promise<void>) {
    if (how === 'kill -9') await redis.kill()
    else redis.signal('SIGSTOP')
    const t0 = performance.now()
    await during()
    await sleep(OUTAGE_MS - (performance.now() - t0))
    if (how === 'kill -9') await redis.start()
    else redis.signal('SIGCONT')
  }

  /** What an operator sees: one warning when the outage starts, one with its length when it ends, no stack traces on stderr. */
  function expectOutageLogged(proc: ChorusProcess) {
    const down = proc.logs.filter((l) => l.msg === 'redis.down')
    const up = proc.logs.filter((l) => l.msg === 'redis.up')
    expect(down).toHaveLength(1)
    expect(up).toHaveLength(1)
    expect(down[0]?.level).toBe(40)
    expect(up[0]?.downMs as number).toBeGreaterThan(2_000)
    const stderr = proc.stderr.join('')
    expect(stderr).not.toMatch(/Unhandled error event|ECONNREFUSED/)
    expect(proc.logs.filter((l) => l.msg === 'journal.write_failed')).toEqual([])
  }

  for (const how of ['kill -9', 'SIGSTOP'] as const) {
    describe(`a Redis outage (${how}) of ${OUTAGE_MS / 1000} s with runs in flight`, () => {
      it('every run in flight finishes with one first result and one final, no step is asked twice, and commands during it are refused clearly inside 3 s', async () => {
        const runs = how === 'kill -9' ? 20 : 10
        // The synthesis takes 2 s once Redis is back: runs are still working when the stall checks
        // move their jobs (whose locks expired during the outage) back to the queue.
        const model = gatedAngles(undefined, { synthesisMs: 2_000 })
        const slack = await startFakeSlack({ tier3: FAST_TIER })
        const openai = await startFakeOpenAI({ handler: model.handler })
        cleanup.push(
          () => slack.close(),
          () => openai.close(),
        )
        const { redis, receiver, worker, ops } = await deployment({
          OPENAI_BASE_URL: openai.url,
          SLACK_BOT_TOKEN: BOT_TOKEN,
          SLACK_APP_TOKEN: APP_TOKEN,
          SLACK_API_URL: slack.apiUrl,
          CHORUS_SLACK_WRITES_PER_MIN: FAST_WRITES_PER_MIN,
        })
        for (let i = 0; i < runs; i++) {
          const ack = await slack.send('slash_commands', slack.slashPayload('/brainstorm', `topic ${i}`))
          expect(ack.ms).toBeLessThan(3_000)
        }
        await expect
          .poll(() => slack.posted().filter((m) => statusOf(m.text) === 'first result').length, {
            timeout: 20_000,
          })
          .toBe(runs)
        expect((await ops('/readyz')).status).toBe(200)

        await outage(how, redis, async () => {
          // The slow angles answer while Redis is away: their steps are journaled once it is back.
          model.release()
          await receiver.waitForLog((l) => l.msg === 'redis.down', 5_000)
          await commandsDuringOutage(slack, how === 'kill -9' ? 5 : 2)
          const ready = await ops('/readyz')
          expect(ready.status).toBe(503)
          expect(await ready.text()).toMatch(/Redis is unreachable/)
          expect(await (await ops('/metrics')).text()).toMatch(/^chorus_redis_up 0$/m)
        })

        await expect.poll(() => done(slack), { timeout: 40_000 }).toBe(runs)
        // Nothing of the refused commands was posted or run.
        expect(slack.posted()).toHaveLength(runs)
        for (const message of slack.posted()) expectOneFirstAndOneFinal(message)
        for (const [prompt, count] of promptCounts(openai.requests)) expect(count, prompt).toBe(1)
        expect(openai.requests.some((r) => r.prompt.includes('during outage'))).toBe(false)

        await expect.poll(async () => (await ops('/readyz')).status, { timeout: 5_000 }).toBe(200)
        const metrics = await (await ops('/metrics')).text()
        expect(metrics).toMatch(/^chorus_redis_up 1$/m)
        expect(metrics).toMatch(/^chorus_redis_outages_total 1$/m)
        await worker.waitForLog((l) => l.msg === 'redis.up', 5_000)
        expectOutageLogged(receiver)
        expectOutageLogged(worker)
        if (how === 'kill -9') {
          // The locks expired on Redis' clock: jobs were moved back while their runs still went on,
          // and the live owner kept them (the one first and one final above show it).
          const logs = [...receiver.logs, ...worker.logs]
          expect(logs.some((l) => l.msg === 'queue.stalled')).toBe(true)
          expect(logs.some((l) => l.msg === 'queue.owned_elsewhere')).toBe(true)
        }
      }, 120_000)
    })
  }

  it('Discord: runs in flight finish after a kill -9 of Redis, and a command during it is answered ephemerally inside 3 s, never left on "thinking"', async () => {
    const model = gatedAngles(undefined, { synthesisMs: 1_000 })
    const discord = await startFakeDiscord()
    const openai = await startFakeOpenAI({ handler: model.handler })
    cleanup.push(
      () => discord.close(),
      () => openai.close(),
    )
    const { redis, receiver } = await deployment({
      OPENAI_BASE_URL: openai.url,
      DISCORD_TOKEN: TOKEN,
      DISCORD_APP_ID: APP_ID,
      DISCORD_API_URL: discord.api,
    })
    const topic = (value: string) => [{ name: 'topic', type: 3, value }]
    const tokens = [0, 1, 2, 3, 4].map((i) => discord.command('brainstorm', topic(`topic ${i}`)).token)
    const shows = (t: string, mark: string) => JSON.stringify(discord.original(t) ?? {}).includes(mark)
    await expect.poll(() => tokens.filter((t) => shows(t, '⚡')).length, { timeout: 20_000 }).toBe(5)
    const refusedTokens: string[] = []
    await outage('kill -9', redis, async () => {
      model.release()
      await receiver.waitForLog((l) => l.msg === 'redis.down', 5_000)
      for (let i = 0; i < 2; i++)
        refusedTokens.push(discord.command('brainstorm', topic(`during ${i}`)).token)
      await sleep(3_000)
      for (const token of refusedTokens) {
        const [callback, ...rest] = discord.callsFor(token)
        expect(callback?.status).toBe(204)
        expect(callback?.body).toMatchObject({ type: 4, data: { flags: 64 } })
        expect(JSON.stringify(callback?.body)).toMatch(/cannot take commands right now/)
        expect(rest).toEqual([])
      }
    })
    await expect.poll(() => tokens.filter((t) => shows(t, '✅')).length, { timeout: 30_000 }).toBe(5)
    for (const token of tokens) {
      const finals = discord
        .callsFor(token)
        .filter((c) => c.method === 'PATCH' && JSON.stringify(c.body).includes('✅'))
      expect(finals).toHaveLength(1)
    }
    for (const [prompt, count] of promptCounts(openai.requests)) expect(count, prompt).toBe(1)
    for (const token of refusedTokens) expect(discord.callsFor(token)).toHaveLength(1)
    expectOutageLogged(receiver)
  }, 90_000)
})
