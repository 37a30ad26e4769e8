import { afterEach, describe, expect, it } from 'vitest'
import { APP_ID, startFakeDiscord, TOKEN } from '../fakes/discord.ts'
import { startFakeOpenAI } from '../fakes/openai.ts'
import {
  APP_TOKEN,
  BOT_TOKEN,
  FAST_TIER,
  FAST_WRITES_PER_MIN,
  type FakeSlack,
  type Message,
  startFakeSlack,
} from '../fakes/slack.ts'
import { type ChorusProcess, killAll, scratchDir, startChorus } from '../support/chorus.ts'
import {
  deleteKeysUnder,
  keysUnder,
  redisTestsEnabled,
  TEST_REDIS_URL,
  testPrefix,
  testRedis,
  whenRedis,
} from '../support/redis.ts'
import { click, expectOneFirstAndOneFinal, gatedAngles, promptCounts, statusOf } from './helpers.ts'

whenRedis(await redisTestsEnabled(), () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn()
  })

  /** Redis under a fresh prefix, removed afterwards; lock and stall check short so a kill shows quickly. */
  async function deployment(extra: Record<string, string>) {
    const prefix = testPrefix()
    const redis = testRedis()
    const scratch = scratchDir()
    const procs: ChorusProcess[] = []
    cleanup.push(async () => {
      await killAll(procs)
      await deleteKeysUnder(redis, prefix)
      await redis.quit()
      scratch.remove()
    })
    const env = {
      ...extra,
      REDIS_URL: TEST_REDIS_URL,
      CHORUS_REDIS_PREFIX: prefix,
      CHORUS_WORKER_LOCK_MS: '2000',
      CHORUS_WORKER_STALLED_MS: '1000',
      CHORUS_CONCURRENCY: '256',
      OPENAI_API_KEY: 'sk-test',
      CHORUS_MODEL: 'fake',
    }
    const start = async (entry: 'start' | 'worker', more: Record<string, string> = {}) => {
      const proc = await startChorus({ ...env, ...more }, scratch.dir, entry)
      procs.push(proc)
      return proc
    }
    return { prefix, redis, start }
  }

  /** Run ids a process started working, from its `run.started` log lines. */
  const runsOf = (proc: ChorusProcess) =>
    new Set(proc.logs.filter((l) => l.msg === 'run.started').map((l) => l.runId as string))

  function slackEnv(slack: FakeSlack, openaiUrl: string) {
    return {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_API_URL: slack.apiUrl,
      CHORUS_SLACK_WRITES_PER_MIN: FAST_WRITES_PER_MIN,
      OPENAI_BASE_URL: openaiUrl,
    }
  }

  describe('scale-out on BullMQ over Redis (one receiver and two workers as real processes)', () => {
    it('Slack: 50 commands, kill -9 a worker mid-run: 50 of 50 get one first and one final, no finished step runs twice', async () => {
      const model = gatedAngles()
      const slack = await startFakeSlack({ tier3: FAST_TIER })
      const openai = await startFakeOpenAI({ handler: model.handler })
      cleanup.push(
        () => slack.close(),
        () => openai.close(),
      )
      const { start, redis, prefix } = await deployment(slackEnv(slack, openai.url))
      const receiver = await start('start')
      const workers = [await start('worker'), await start('worker')]
      for (let i = 0; i < 50; i++) {
        const ack = await slack.send('slash_commands', slack.slashPayload('/brainstorm', `topic ${i}`))
        expect(ack.ms).toBeLessThan(3_000)
      }
      // Every run's fast angles are answered (and journaled); the slow ones hang at the model.
      await expect.poll(() => openai.requests.filter((r) => r.answered).length, { timeout: 20_000 }).toBe(100)
      await expect
        .poll(() => slack.posted().filter((m) => statusOf(m.text) === 'first result').length, {
          timeout: 10_000,
        })
        .toBe(50)
      const answeredBefore = new Set(openai.requests.filter((r) => r.answered).map((r) => r.prompt))
      const [victim, survivor] = [...workers].sort((a, b) => runsOf(b).size - runsOf(a).size) as [
        ChorusProcess,
        ChorusProcess,
      ]
      const orphaned = runsOf(victim)
      expect(orphaned.size).toBeGreaterThan(0)
      victim.kill('SIGKILL')
      await victim.exited
      model.release()

      await expect
        .poll(() => slack.posted().filter((m) => statusOf(m.text) === 'done').length, { timeout: 40_000 })
        .toBe(50)
      expect(slack.posted()).toHaveLength(50)
      expect(slack.calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(50)
      for (const message of slack.posted()) expectOneFirstAndOneFinal(message)
      const counts = promptCounts(openai.requests)
      for (const prompt of answeredBefore) expect(counts.get(prompt), prompt).toBe(1)
      // The victim's runs were resumed by the processes still alive.
      const resumed = new Set(
        [receiver, survivor].flatMap((p) =>
          p.logs.filter((l) => l.msg === 'run.resumed').map((l) => l.runId),
        ),
      )
      for (const runId of orphaned) expect(resumed.has(runId)).toBe(true)
      expect((await keysUnder(redis, prefix)).every((k) => k.startsWith(`${prefix}:`))).toBe(true)
    }, 90_000)

    it('Discord: 10 commands, kill -9 a worker mid-run: each gets one first and one final', async () => {
      const model = gatedAngles()
      const discord = await startFakeDiscord()
      const openai = await startFakeOpenAI({ handler: model.handler })
      cleanup.push(
        () => discord.close(),
        () => openai.close(),
      )
      const { start } = await deployment({
        DISCORD_TOKEN: TOKEN,
        DISCORD_APP_ID: APP_ID,
        DISCORD_API_URL: discord.api,
        OPENAI_BASE_URL: openai.url,
      })
      await start('start', { CHORUS_WORKER_RUNS: '0' })
      const workers = [await start('worker'), await start('worker')]
      const tokens: string[] = []
      for (let i = 0; i < 10; i++) {
        tokens.push(discord.command('brainstorm', [{ name: 'topic', type: 3, value: `topic ${i}` }]).token)
      }
      await expect.poll(() => openai.requests.filter((r) => r.answered).length, { timeout: 20_000 }).toBe(20)
      const firstShown = (t: string) => JSON.stringify(discord.original(t) ?? {}).includes('⚡')
      await expect.poll(() => tokens.filter(firstShown).length, { timeout: 10_000 }).toBe(10)
      const answeredBefore = new Set(openai.requests.filter((r) => r.answered).map((r) => r.prompt))
      const victim = [...workers].sort((a, b) => runsOf(b).size - runsOf(a).size)[0] as ChorusProcess
      expect(runsOf(victim).size).toBeGreaterThan(0)
      victim.kill('SIGKILL')
      await victim.exited
      model.release()
      const done = (t: string) => JSON.stringify(discord.original(t) ?? {}).includes('✅')
      await expect.poll(() => tokens.filter(done).length, { timeout: 40_000 }).toBe(10)
      for (const token of tokens) {
        const edits = discord.callsFor(token).filter((c) => c.method === 'PATCH' && c.status === 200)
        expect(edits.filter((c) => JSON.stringify(c.body).includes('✅'))).toHaveLength(1)
        expect(discord.callsFor(token).filter((c) => c.method === 'POST')).toHaveLength(1)
      }
      const counts = promptCounts(openai.requests)
      for (const prompt of answeredBefore) expect(counts.get(prompt), prompt).toBe(1)
    }, 90_000)

    it('SIGTERM on a worker hands its unfinished runs back to the queue; another worker finishes them at once', async () => {
      const model = gatedAngles()
      const slack = await startFakeSlack({ tier3: FAST_TIER })
      const openai = await startFakeOpenAI({ handler: model.handler })
      cleanup.push(
        () => slack.close(),
        () => openai.close(),
      )
      // A long lock: only the hand-back, not stall recovery, can move the runs within the test.
      const { start } = await deployment({ ...slackEnv(slack, openai.url), CHORUS_WORKER_LOCK_MS: '60000' })
      await start('start', { CHORUS_WORKER_RUNS: '0' })
      const leaving = await start('worker', { CHORUS_SHUTDOWN_GRACE_MS: '300' })
      for (let i = 0; i < 5; i++)
        await slack.send('slash_commands', slack.slashPayload('/brainstorm', `deploy ${i}`))
      await expect
        .poll(() => slack.posted().filter((m) => statusOf(m.text) === 'first result').length, {
          timeout: 10_000,
        })
        .toBe(5)
      expect(runsOf(leaving).size).toBe(5)
      const staying = await start('worker')
      const t0 = performance.now()
      leaving.kill('SIGTERM')
      expect((await leaving.exited).code).toBe(0)
      expect(leaving.logs.find((l) => l.msg === 'shutdown.drained')).toMatchObject({ suspended: 5 })
      model.release()
      await expect
        .poll(() => slack.posted().filter((m) => statusOf(m.text) === 'done').length, { timeout: 15_000 })
        .toBe(5)
      expect(performance.now() - t0).toBeLessThan(10_000)
      expect(runsOf(staying).size).toBe(5)
      for (const message of slack.posted()) expectOneFirstAndOneFinal(message)
    }, 60_000)

    it('Stop pressed on the receiver aborts the model requests on the worker that holds the run', async () => {
      const slack = await startFakeSlack({ tier3: FAST_TIER })
      const openai = await startFakeOpenAI({
        handler: (body) =>
          /Angle: User pain/.test(body.messages.at(-1)?.content ?? '')
            ? { text: '- **idea**' }
            : { hang: true },
      })
      cleanup.push(
        () => slack.close(),
        () => openai.close(),
      )
      const { start } = await deployment(slackEnv(slack, openai.url))
      const receiver = await start('start', { CHORUS_WORKER_RUNS: '0' })
      const worker = await start('worker')
      const command = slack.slashPayload('/brainstorm', 'stop me --angles 3')
      await slack.send('slash_commands', command)
      await expect
        .poll(() => statusOf(slack.posted()[0]?.text ?? ''), { timeout: 10_000 })
        .toBe('first result')
      await expect.poll(() => openai.requests.length).toBe(3)
      const message = slack.posted()[0] as Message
      const runId = /"action_id":"chorus_stop","value":"([^"]+)"/.exec(JSON.stringify(message.blocks))?.[1]
      expect(runsOf(worker).has(runId as string)).toBe(true)
      expect(runsOf(receiver).size).toBe(0)
      await click(slack, message, 'chorus_stop')
      await expect
        .poll(() => openai.requests.filter((r) => !r.answered).every((r) => r.aborted), { timeout: 5_000 })
        .toBe(true)
      await expect.poll(() => statusOf(message.text), { timeout: 5_000 }).toBe('stopped')
      expect(JSON.stringify(message.blocks)).toContain('Stopped by grace')
    }, 60_000)
  })

  describe('npm run worker', () => {
    it('without REDIS_URL, or without a platform token, stops with a message that says what to set', async () => {
      const { spawnSync } = await import('node:child_process')
      const worker = new URL('../../src/worker.ts', import.meta.url).pathname
      const scratch = scratchDir()
      cleanup.push(() => scratch.remove())
      const run = (env: Record<string, string>) =>
        spawnSync(process.execPath, [worker], {
          cwd: scratch.dir,
          env: { PATH: process.env.PATH ?? '', ...env },
          encoding: 'utf8',
          timeout: 15_000,
        })
      const noRedis = run({ SLACK_BOT_TOKEN: BOT_TOKEN })
      expect(noRedis.status).toBe(1)
      expect(noRedis.stderr).toContain('npm run worker needs REDIS_URL')
      const noToken = run({ REDIS_URL: TEST_REDIS_URL })
      expect(noToken.status).toBe(1)
      expect(noToken.stderr).toContain('SLACK_BOT_TOKEN')
    })
  })
})
