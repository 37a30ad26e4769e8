import { afterEach, describe, expect, it } from 'vitest'
import { APP_ID, type FakeDiscord, type FakeMessage, startFakeDiscord, TOKEN } from '../fakes/discord.ts'
import { brokenHeaders, signedHeaders } from '../fakes/discord-http.ts'
import { type Handler, startFakeOpenAI } from '../fakes/openai.ts'
import { type ChorusProcess, killAll, scratchDir, startChorus } from '../support/chorus.ts'
import { type Forwarder, startForwarder } from '../support/forwarder.ts'
import {
  deleteKeysUnder,
  redisTestsEnabled,
  TEST_REDIS_URL,
  testPrefix,
  testRedis,
  whenRedis,
} from '../support/redis.ts'
import { freePort } from '../support/redis-server.ts'
import { decideModel, decidePrompts, gatedAngles } from './helpers.ts'

const embedText = (body: unknown) => JSON.stringify((body as { embeds?: unknown })?.embeds ?? [])
const isFinal = (discord: FakeDiscord, token: string) => embedText(discord.original(token)).includes('✅')
const topic = (value: string) => ({ name: 'topic', type: 3, value })
/** The receiver that took the interaction `id` (not a broken copy of it, which got 401). */
const takerOf = (balancer: Forwarder, id: string) =>
  balancer.taken.find((t) => t.id === id && t.status !== 401)?.backend

whenRedis(await redisTestsEnabled(), () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn()
  })

  /**
   * Two `npm start` receivers over HTTP (their own PORTs, one Redis prefix, both working runs) behind
   * one round-robin forwarder that the fake Discord delivers to.
   */
  async function deployment(handler: Handler) {
    const discord = await startFakeDiscord()
    const openai = await startFakeOpenAI({ handler })
    const prefix = testPrefix()
    const redis = testRedis()
    const scratch = scratchDir()
    const procs: ChorusProcess[] = []
    cleanup.push(
      () => discord.close(),
      () => openai.close(),
      async () => {
        await killAll(procs)
        await deleteKeysUnder(redis, prefix)
        await redis.quit()
        scratch.remove()
      },
    )
    const ports = [await freePort(), await freePort()]
    const env = {
      DISCORD_PUBLIC_KEY: discord.publicKey,
      DISCORD_TOKEN: TOKEN,
      DISCORD_APP_ID: APP_ID,
      DISCORD_API_URL: discord.api,
      REDIS_URL: TEST_REDIS_URL,
      CHORUS_REDIS_PREFIX: prefix,
      CHORUS_WORKER_LOCK_MS: '2000',
      CHORUS_WORKER_STALLED_MS: '1000',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: openai.url,
      CHORUS_MODEL: 'fake',
    }
    for (const port of ports) procs.push(await startChorus({ ...env, PORT: String(port) }, scratch.dir))
    const balancer = await startForwarder(ports)
    cleanup.push(() => balancer.close())
    discord.deliverTo(`${balancer.url}/discord/interactions`)
    return { discord, openai, procs, balancer }
  }

  describe('Discord over HTTP: two `npm start` receivers behind one load balancer, sharing Redis', () => {
    it('PING, bad signature, stale timestamp, a command, a button and a modal; kill -9 of the receiver that took the command, and the run still finishes', async () => {
      const model = gatedAngles()
      const { discord, procs, balancer } = await deployment(model.handler)
      for (const p of procs) {
        expect(p.logs.some((l) => l.msg === 'discord.http_ready')).toBe(true)
        expect(p.logs.some((l) => l.msg === 'discord.ready')).toBe(false)
      }
      // Neither process opened a gateway connection: HTTP only.
      expect(discord.calls.some((c) => c.path === '/gateway/bot')).toBe(false)

      // PING reaches each receiver in turn; each answers PONG.
      const pings = [await discord.ping(), await discord.ping()]
      expect(pings.map((p) => [p.status, p.problem])).toEqual([
        [200, undefined],
        [200, undefined],
      ])
      expect(new Set(balancer.taken.map((t) => t.backend))).toEqual(new Set([0, 1]))
      // A bad signature and a correctly signed but stale request: 401 from whichever receiver takes it.
      const body = JSON.stringify({ id: '1200000000000000000', application_id: APP_ID, type: 1, version: 1 })
      for (let i = 0; i < 2; i++) {
        expect((await discord.postRaw(body, brokenHeaders(discord.signer, body))).status).toBe(401)
        expect((await discord.postRaw(body, signedHeaders(discord.signer, body, 600))).status).toBe(401)
      }

      // Four commands, spread over both receivers; each is deferred within 3 s.
      const commands = [0, 1, 2, 3].map((i) => discord.command('brainstorm', [topic(`topic ${i}`)]))
      for (const c of commands)
        expect(await discord.delivery(c.id)).toMatchObject({ status: 202, problem: undefined })
      const firstShown = (t: string) => embedText(discord.original(t)).includes('⚡')
      await expect.poll(() => commands.filter((c) => firstShown(c.token)).length, { timeout: 15_000 }).toBe(4)
      // The victim: the receiver working the most runs (it took commands too: the balancer alternates).
      const held = procs.map((p) => p.logs.filter((l) => l.msg === 'run.started').length)
      const victimAt = (held[0] as number) >= (held[1] as number) ? 0 : 1
      const took = commands.filter((c) => takerOf(balancer, c.id) === victimAt)
      expect(took.length).toBeGreaterThan(0)
      expect(held[victimAt]).toBeGreaterThan(0)
      const first = took[0] as { id: string; token: string }
      const victim = procs[victimAt] as ChorusProcess
      const survivor = procs[1 - victimAt] as ChorusProcess
      victim.kill('SIGKILL')
      await victim.exited
      model.release()
      // Every run finishes: those the victim held are taken over by the survivor's worker.
      await expect
        .poll(() => commands.filter((c) => isFinal(discord, c.token)).length, { timeout: 30_000 })
        .toBe(4)
      for (const c of commands) {
        const finals = discord
          .callsFor(c.token)
          .filter(
            (call) => call.method === 'PATCH' && call.status === 200 && embedText(call.body).includes('✅'),
          )
        expect(finals).toHaveLength(1)
        expect(discord.callsFor(c.token).filter((call) => call.path.endsWith('/callback'))).toHaveLength(1)
      }
      expect(survivor.logs.filter((l) => l.msg === 'run.started').length).toBe(4)

      // A button and a modal, after the kill: the balancer sends them to the survivor.
      const json = JSON.stringify(discord.original(first.token))
      const runId = /"custom_id":"chorus:retry:([^"]+)"/.exec(json)?.[1] as string
      const original = discord.originalId(first.token) as string
      const again = discord.click(`chorus:retry:${runId}`, original, 'carol')
      await expect.poll(() => isFinal(discord, again.token), { timeout: 10_000 }).toBe(true)
      expect(embedText(discord.original(again.token))).toContain('Asked by carol')
      const refine = discord.click(`chorus:refine:${runId}`, original, 'dan')
      await expect.poll(() => discord.callsFor(refine.token)[0]?.body).toMatchObject({ type: 9 })
      const submit = discord.submitModal(refine.token, { request: 'make it shorter' }, 'dan')
      await expect.poll(() => isFinal(discord, submit.token), { timeout: 10_000 }).toBe(true)
      expect(embedText(discord.original(submit.token))).toContain('refined: make it shorter')
      for (const t of [again, refine, submit]) expect(takerOf(balancer, t.id)).toBe(1 - victimAt)

      // Discord's own checks (a broken copy every third interaction) were all refused; nothing else went wrong.
      expect(discord.deliveries.filter((d) => d.kind === 'check').length).toBeGreaterThan(0)
      expect(discord.deliveries.filter((d) => d.problem !== undefined)).toEqual([])
    }, 90_000)

    it('a /decide vote whose clicks reach both receivers is counted and decided once', async () => {
      const { discord, openai, balancer } = await deployment(decideModel)
      const { token } = discord.command(
        'decide',
        [
          { name: 'question', type: 3, value: 'Which database for the new service?' },
          { name: 'quorum', type: 4, value: 3 },
        ],
        'alice',
      )
      await expect.poll(() => discord.followUps(token).length, { timeout: 10_000 }).toBe(1)
      const vote = discord.followUps(token)[0] as FakeMessage
      const buttons = (
        vote.body.components as Array<{ components: Array<{ custom_id: string; label?: string }> }>
      ).flatMap((row) => row.components)
      const postgres = buttons.find((b) => b.label === 'Postgres')?.custom_id as string
      const clicks = []
      for (const who of ['bob', 'carol', 'dan']) {
        const click = discord.click(postgres, vote.id, who)
        await discord.delivery(click.id)
        clicks.push(click)
      }
      // The balancer alternates: the three clicks did not all reach one receiver.
      const backends = new Set(clicks.map((c) => takerOf(balancer, c.id)))
      expect(backends).toEqual(new Set([0, 1]))
      await expect.poll(() => isFinal(discord, token), { timeout: 15_000 }).toBe(true)
      expect(String(discord.message(vote.id)?.body.content)).toContain(
        'Decided: **Postgres** (3 of 3 votes), by dan.',
      )
      expect(embedText(discord.original(token))).toContain('(3 of 3 agreed)')
      expect(decidePrompts(openai.requests)).toEqual({ angles: [1, 1, 1], rationale: 1 })
      const finals = discord
        .callsFor(token)
        .filter((c) => c.method === 'PATCH' && c.status === 200 && embedText(c.body).includes('✅'))
      expect(finals).toHaveLength(1)
      expect(discord.deliveries.filter((d) => d.problem !== undefined)).toEqual([])
    }, 60_000)
  })
})
