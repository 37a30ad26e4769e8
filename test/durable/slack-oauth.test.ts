import { afterEach, describe, expect, it } from 'vitest'
import { startFakeOpenAI } from '../fakes/openai.ts'
import { deliverCommand, FAST_TIER, startFakeSlack } from '../fakes/slack.ts'
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
import { freePort } from '../support/redis-server.ts'
import { install, oauthEnv } from '../support/slack-oauth.ts'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

whenRedis(await redisTestsEnabled(), () =>
  describe('Slack installed in many workspaces, with receivers and workers as processes (Redis)', () => {
    it('a receive-only npm start and an npm run worker: the worker posts each workspace’s replies with its token from the store', async () => {
      const slack = await startFakeSlack({ tier3: FAST_TIER })
      const openai = await startFakeOpenAI({ handler: () => ({ text: 'A good line' }) })
      const scratch = scratchDir()
      const prefix = testPrefix()
      const redis = testRedis()
      const procs: ChorusProcess[] = []
      cleanup.push(
        () => slack.close(),
        () => openai.close(),
        () => scratch.remove(),
        async () => {
          await deleteKeysUnder(redis, prefix)
          await redis.quit()
        },
        () => killAll(procs),
      )
      const port = await freePort()
      const base = `http://127.0.0.1:${port}`
      const env = {
        ...oauthEnv(slack),
        PORT: String(port),
        REDIS_URL: TEST_REDIS_URL,
        CHORUS_REDIS_PREFIX: prefix,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: openai.url,
        CHORUS_MODEL: 'fake',
      }
      const receiver = await startChorus({ ...env, CHORUS_WORKER_RUNS: '0' }, scratch.dir)
      procs.push(receiver)
      const worker = await startChorus(env, scratch.dir, 'worker')
      procs.push(worker)
      slack.oauth.redirectUrl = `${base}/slack/oauth_redirect`
      // Rotating tokens: the worker must read the current one from the store.
      slack.oauth.rotation = true
      for (const teamId of ['T100', 'T200'])
        expect((await install({ slack, base }, { teamId })).status).toBe(200)
      for (const [team, channel] of [
        ['T100', 'C100'],
        ['T200', 'C200'],
      ] as const) {
        const payload = slack.slashPayload('/brand', `Acme ${team}`, { team_id: team, channel_id: channel })
        expect((await deliverCommand(`${base}/slack/events`, payload)).status).toBe(200)
      }
      for (const channel of ['C100', 'C200'])
        await expect
          .poll(() => slack.posted().find((m) => m.channel === channel)?.text ?? '', { timeout: 15_000 })
          .toContain('done')
      for (const [team, channel] of [
        ['T100', 'C100'],
        ['T200', 'C200'],
      ] as const) {
        const writes = slack.calls.filter((c) => c.method.startsWith('chat.') && c.args.channel === channel)
        expect(new Set(writes.map((c) => c.token))).toEqual(
          new Set([slack.oauth.tokenOf({ teamId: team })?.token]),
        )
      }
      // The worker ran both; the receiver ran none, and no token is in either's log or in the queue's jobs.
      // The final is on screen a moment before the worker's log line about it arrives.
      await expect
        .poll(() => worker.logs.filter((l) => l.msg === 'run.completed').length, { timeout: 5_000 })
        .toBe(2)
      expect(receiver.logs.filter((l) => l.msg === 'run.completed')).toHaveLength(0)
      const everything = JSON.stringify([receiver.logs, worker.logs, receiver.stderr, worker.stderr])
      const keys = await keysUnder(redis, prefix)
      const values = await Promise.all(
        keys.map(async (k) => {
          const type = await redis.type(k)
          if (type === 'string') return redis.get(k)
          if (type === 'hash') return JSON.stringify(await redis.hgetall(k))
          if (type === 'list') return JSON.stringify(await redis.lrange(k, 0, -1))
          return ''
        }),
      )
      for (const t of slack.oauth.tokens) {
        expect(everything).not.toContain(t.token)
        expect(values.join('\n')).not.toContain(t.token)
      }
    })
  }),
)
