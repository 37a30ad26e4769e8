import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { BullQueue } from '../../src/queue/index.ts'
import { RedisStore } from '../../src/store/index.ts'
import { startFakeOpenAI } from '../fakes/openai.ts'
import { FAST_TIER, type FakeSlack, type Message, type SlackUser, startFakeSlack } from '../fakes/slack.ts'
import { type ChorusProcess, killAll, scratchDir, socketModeEnv, startChorus } from '../support/chorus.ts'
import {
  deleteKeysUnder,
  redisTestsEnabled,
  TEST_REDIS_URL,
  testPrefix,
  testRedis,
  whenRedis,
} from '../support/redis.ts'
import { answerButton, decideModel, decidePrompts, hasControls, isQuestion, statusOf } from './helpers.ts'

const VOTERS: SlackUser[] = [
  { id: 'U2', name: 'grace' },
  { id: 'U3', name: 'carol' },
  { id: 'U4', name: 'dan' },
]

whenRedis(await redisTestsEnabled(), () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn()
  })

  /**
   * A receiver (`npm start` with CHORUS_WORKER_RUNS=0) and two `npm run worker` on Redis under a
   * fresh prefix, the fake Slack and model; the test's own view of the journal and the queue.
   */
  async function deployment() {
    const slack = await startFakeSlack({ tier3: FAST_TIER })
    const openai = await startFakeOpenAI({ handler: decideModel })
    const prefix = testPrefix()
    const redis = testRedis()
    const scratch = scratchDir()
    const store = new RedisStore({ redis, prefix })
    const queue = new BullQueue({
      url: TEST_REDIS_URL,
      prefix,
      log: pino({ level: 'silent' }),
      lockMs: 2_000,
      stalledMs: 1_000,
    })
    const procs: ChorusProcess[] = []
    cleanup.push(
      () => slack.close(),
      () => openai.close(),
      async () => {
        await killAll(procs)
        await queue.close()
        await store.close()
        await deleteKeysUnder(redis, prefix)
        await redis.quit()
        scratch.remove()
      },
    )
    const env = {
      REDIS_URL: TEST_REDIS_URL,
      CHORUS_REDIS_PREFIX: prefix,
      CHORUS_WORKER_LOCK_MS: '2000',
      CHORUS_WORKER_STALLED_MS: '1000',
      ...socketModeEnv(slack, openai),
      CHORUS_MODEL: 'fake',
    }
    const start = async (entry: 'start' | 'worker', more: Record<string, string> = {}) => {
      const proc = await startChorus({ ...env, ...more }, scratch.dir, entry)
      procs.push(proc)
      return proc
    }
    const receiver = await start('start', { CHORUS_WORKER_RUNS: '0' })
    const workers = [await start('worker'), await start('worker')]
    await slack.connected()
    return { slack, openai, store, queue, receiver, workers }
  }

  /** The processes that logged `msg` for `runId`. */
  const logged = (procs: ChorusProcess[], msg: string, runId: string) =>
    procs.filter((p) => p.logs.some((l) => l.msg === msg && l.runId === runId))

  /** Sends `/decide`; resolves once its vote is posted, a worker parked it and that worker's job ended. */
  async function decideAndPark(
    { slack, workers, queue }: { slack: FakeSlack; workers: ChorusProcess[]; queue: BullQueue },
    text: string,
  ) {
    const before = slack.posted().length
    await slack.send('slash_commands', slack.slashPayload('/decide', text))
    await expect.poll(() => slack.posted().slice(before).some(isQuestion), { timeout: 10_000 }).toBe(true)
    const mine = slack.posted().slice(before)
    const reply = mine.find((m) => !isQuestion(m)) as Message
    const vote = mine.find(isQuestion) as Message
    const runId = /"value":"([0-9a-f-]{36}):/.exec(JSON.stringify(vote.blocks))?.[1] as string
    expect(runId).toBeDefined()
    await expect.poll(() => logged(workers, 'run.parked', runId).length, { timeout: 10_000 }).toBe(1)
    // The worker that parked it lets go of its job once the reply says it waits.
    await expect.poll(() => queue.isActive(runId), { timeout: 5_000 }).toBe(false)
    return { reply, vote, runId, parkedBy: logged(workers, 'run.parked', runId)[0] as ChorusProcess }
  }

  /**
   * Sends `/decide` (the deployment's only run) and kills the worker that parks it with -9 the moment
   * its `run.parked` line is read: usually before that worker's job has ended and the vote's
   * deadline was queued, so the run is left with BullMQ as a stalled job of a dead owner.
   */
  async function decideAndKillAtPark(slack: FakeSlack, workers: ChorusProcess[], text: string) {
    const killed: ChorusProcess[] = []
    for (const w of workers)
      void w
        .waitForLog((l) => l.msg === 'run.parked', 20_000)
        .then(
          () => {
            if (killed.length > 0) return
            killed.push(w)
            w.kill('SIGKILL')
          },
          () => {},
        )
    await slack.send('slash_commands', slack.slashPayload('/decide', text))
    await expect.poll(() => killed.length, { timeout: 10_000 }).toBe(1)
    const victim = killed[0] as ChorusProcess
    await victim.exited
    const reply = slack.posted().find((m) => !isQuestion(m)) as Message
    const vote = slack.posted().find(isQuestion) as Message
    return { reply, vote, survivor: workers.find((w) => w !== victim) as ChorusProcess }
  }

  /** Each voter clicks `label` on the receiver's socket, one after the other as people do. */
  async function voteFor(slack: FakeSlack, vote: Message, label: string) {
    const button = answerButton(vote, label)
    for (const voter of VOTERS) {
      const edits = vote.history.length
      const clicked = await slack.click(vote, button, voter)
      expect(clicked.ms).toBeLessThan(3_000)
      await expect.poll(() => vote.history.length, { timeout: 5_000 }).toBeGreaterThan(edits)
    }
  }

  const blocksOf = (m: Message) => JSON.stringify(m.blocks)
  const finals = (m: Message) => m.history.filter((h) => statusOf(h.text) === 'done').length

  describe('a /decide vote over BullMQ (one receiver and two workers as real processes)', () => {
    it('a parked vote holds no worker; votes on the receiver wake it, one worker finishes it; with the worker that parked a second run killed, the other finishes that one', async () => {
      const d = await deployment()
      const { slack, openai, store, queue, receiver, workers } = d
      const first = await decideAndPark(d, 'Which database for the new service? --quorum 3')
      expect(blocksOf(first.vote)).toContain('Closes when 3 agree, or at the deadline.')
      // Parked: in the journal only; no job active anywhere, its deadline a delayed job.
      expect(await store.get(first.runId)).toMatchObject({ status: 'running', parked: true })
      expect(await queue.isActive(first.runId)).toBe(false)
      const parkedStats = await queue.stats()
      expect(parkedStats).toMatchObject({ active: 0, waiting: 0 })
      expect(parkedStats.delayed).toBeGreaterThanOrEqual(1)
      expect(logged([receiver], 'run.started', first.runId)).toEqual([])

      await voteFor(slack, first.vote, 'Postgres')
      await expect.poll(() => statusOf(first.reply.text), { timeout: 15_000 }).toBe('done')
      expect(hasControls(first.vote)).toBe(false)
      expect(blocksOf(first.vote)).toContain('Decided: *Postgres* (3 of 3 votes), by dan.')
      expect(finals(first.reply)).toBe(1)
      expect(blocksOf(first.reply)).toContain('Decided: Postgres')
      expect(blocksOf(first.reply)).toContain('(3 of 3 agreed)')
      // The receiver took the votes and queued the run; exactly one worker went on with it.
      expect(logged([receiver], 'run.woken', first.runId)).toHaveLength(1)
      expect(logged([receiver], 'run.resumed', first.runId)).toEqual([])
      expect(logged(workers, 'run.resumed', first.runId)).toHaveLength(1)
      expect(decidePrompts(openai.requests)).toEqual({ angles: [1, 1, 1], rationale: 1 })
      await expect.poll(async () => (await store.get(first.runId))?.status).toBe('completed')

      const second = await decideAndPark(d, 'Which queue for the jobs? --quorum 3')
      const survivor = workers.find((w) => w !== second.parkedBy) as ChorusProcess
      second.parkedBy.kill('SIGKILL')
      await second.parkedBy.exited
      expect(await queue.isActive(second.runId)).toBe(false)
      const t0 = performance.now()
      await voteFor(slack, second.vote, 'SQLite')
      await expect.poll(() => statusOf(second.reply.text), { timeout: 15_000 }).toBe('done')
      // No stalled job to wait for: the wake went straight to the worker still alive.
      expect(performance.now() - t0).toBeLessThan(10_000)
      expect(logged([survivor], 'run.resumed', second.runId)).toHaveLength(1)
      expect(hasControls(second.vote)).toBe(false)
      expect(blocksOf(second.vote)).toContain('Decided: *SQLite* (3 of 3 votes), by dan.')
      expect(finals(second.reply)).toBe(1)
      expect(blocksOf(second.reply)).toContain('Decided: SQLite')
      expect(decidePrompts(openai.requests)).toEqual({ angles: [2, 2, 2], rationale: 2 })
      expect(slack.posted()).toHaveLength(4)
      expect(finals(first.reply)).toBe(1)
    }, 60_000)

    it('kill -9 of the worker the moment it parks: votes on the receiver still decide it once, and the other worker finishes it', async () => {
      const { slack, openai, receiver, workers } = await deployment()
      const run = await decideAndKillAtPark(slack, workers, 'Which cache? --quorum 3')
      expect(statusOf(run.reply.text)).not.toBe('done')
      await voteFor(slack, run.vote, 'CockroachDB')
      await expect.poll(() => statusOf(run.reply.text), { timeout: 20_000 }).toBe('done')
      expect(blocksOf(run.vote)).toContain('Decided: *CockroachDB* (3 of 3 votes), by dan.')
      expect(hasControls(run.vote)).toBe(false)
      expect(finals(run.reply)).toBe(1)
      expect(blocksOf(run.reply)).toContain('Decided: CockroachDB')
      expect(run.survivor.logs.some((l) => l.msg === 'run.completed')).toBe(true)
      expect(receiver.logs.some((l) => l.msg === 'run.started')).toBe(false)
      expect(slack.posted()).toHaveLength(2)
      expect(decidePrompts(openai.requests)).toEqual({ angles: [1, 1, 1], rationale: 1 })
    }, 60_000)

    it('kill -9 of the worker the moment it parks a vote nobody answers: it still closes at its deadline, once', async () => {
      const { slack, openai, workers } = await deployment()
      const t0 = Date.now()
      const run = await decideAndKillAtPark(slack, workers, 'Tabs or spaces? --for 10s')
      await expect.poll(() => statusOf(run.reply.text), { timeout: 25_000 }).toBe('done')
      expect(Date.now() - t0).toBeGreaterThanOrEqual(10_000)
      expect(blocksOf(run.reply)).toContain('no one voted within 10s')
      expect(finals(run.reply)).toBe(1)
      expect(hasControls(run.vote)).toBe(false)
      expect(blocksOf(run.vote)).toContain('Closed: no one answered in time.')
      expect(run.survivor.logs.some((l) => l.msg === 'run.completed')).toBe(true)
      expect(slack.posted()).toHaveLength(2)
      expect(decidePrompts(openai.requests)).toEqual({ angles: [1, 1, 1], rationale: 0 })
    }, 60_000)

    it('a vote nobody answers closes at its deadline through the delayed job, no process restarted: "No decision"', async () => {
      const d = await deployment()
      const { openai, store, receiver, workers } = d
      const { reply, vote, runId } = await decideAndPark(d, 'Tabs or spaces? --for 10s')
      const parked = workers.flatMap((w) => w.logs).find((l) => l.msg === 'run.parked' && l.runId === runId)
      const wakeAt = parked?.wakeAt as number
      expect(wakeAt).toBeGreaterThan(Date.now())
      expect(await store.get(runId)).toMatchObject({ parked: true })

      await expect.poll(() => statusOf(reply.text), { timeout: 20_000 }).toBe('done')
      expect(Date.now()).toBeGreaterThanOrEqual(wakeAt)
      expect(blocksOf(reply)).toContain('No decision:')
      expect(blocksOf(reply)).toContain('no one voted within 10s')
      expect(finals(reply)).toBe(1)
      expect(hasControls(vote)).toBe(false)
      expect(blocksOf(vote)).toContain('Closed: no one answered in time.')
      expect(logged(workers, 'run.resumed', runId)).toHaveLength(1)
      // Nobody answered: nothing woke it but its deadline; every process is the one started.
      expect(logged([receiver, ...workers], 'run.woken', runId)).toEqual([])
      for (const p of [receiver, ...workers]) expect(p.child.exitCode).toBeNull()
      expect(decidePrompts(openai.requests)).toEqual({ angles: [1, 1, 1], rationale: 0 })
      await expect.poll(async () => (await store.get(runId))?.status).toBe('completed')
    }, 60_000)
  })
})
