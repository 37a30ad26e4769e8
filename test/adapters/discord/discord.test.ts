import { type Logger, pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import {
  commandJson,
  discordSettings,
  startDiscord,
  TOKEN_EXPIRED_TEXT,
} from '../../../adapters/discord/index.ts'
import { Bot, type BotObserver, loadConfig } from '../../../src/bot/index.ts'
import { OpenAIModel } from '../../../src/llm/index.ts'
import { APP_ID, CHANNEL_ID, type FakeDiscord, startFakeDiscord, TOKEN } from '../../fakes/discord.ts'
import { type FakeOpenAI, type Handler, startFakeOpenAI } from '../../fakes/openai.ts'

const silent = pino({ level: 'silent' })
const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function setup(
  handler: Handler,
  options: { runBudgetMs?: number; logger?: Logger; observer?: BotObserver } = {},
): Promise<{ discord: FakeDiscord; openai: FakeOpenAI; bot: Bot }> {
  const discord = await startFakeDiscord()
  cleanup.push(() => discord.close())
  const openai = await startFakeOpenAI({ handler })
  cleanup.push(() => openai.close())
  const config = loadConfig({ DISCORD_TOKEN: TOKEN, DISCORD_APP_ID: APP_ID, DISCORD_API_URL: discord.api })
  const model = new OpenAIModel({ apiKey: 'sk-test', baseURL: openai.url, model: 'fake', timeoutMs: 10_000 })
  const bot = await Bot.create({
    config,
    model,
    logger: options.logger ?? silent,
    ...(options.observer === undefined ? {} : { observer: options.observer }),
  })
  const handle = await startDiscord(bot, config, options)
  cleanup.push(() => handle.stop())
  await discord.ready()
  return { discord, openai, bot }
}

const topic = (value: string) => ({ name: 'topic', type: 3, value })
const angles = (value: number) => ({ name: 'angles', type: 4, value })
const embedText = (body: unknown) => JSON.stringify((body as { embeds?: unknown })?.embeds ?? [])
const isFinal = (discord: FakeDiscord, token: string) => embedText(discord.original(token)).includes('✅')

describe('Discord, with the real discord.js', () => {
  it('defers, shows the first idea before the slowest angle finished, then the combined result', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    let slowestDone = false
    const { discord } = await setup(async (body) => {
      const angle = /Angle: (.+?)\./.exec(body.messages.at(-1)?.content ?? '')?.[1]
      if (angle === undefined) return { text: '1. **Merged idea** ranked first' }
      if (angle === 'Moonshot') {
        await gate
        slowestDone = true
      }
      return { text: `- **${angle} idea**`, latencyMs: angle === 'User pain' ? 10 : 60 }
    })
    const { token } = discord.command('brainstorm', [topic('lunch')])
    await expect
      .poll(() => embedText(discord.original(token)), { timeout: 5_000 })
      .toContain('User pain idea')
    expect(slowestDone).toBe(false)
    release()
    await expect.poll(() => isFinal(discord, token), { timeout: 5_000 }).toBe(true)
    const calls = discord.callsFor(token)
    expect(calls[0]).toMatchObject({ method: 'POST', status: 204, body: { type: 5 } })
    const edits = calls.filter((c) => c.method === 'PATCH')
    const firstIdx = edits.findIndex((c) => embedText(c.body).includes('User pain idea'))
    const finalIdx = edits.findIndex((c) => embedText(c.body).includes('Merged idea'))
    expect(firstIdx).toBeGreaterThanOrEqual(0)
    expect(finalIdx).toBeGreaterThan(firstIdx)
    expect(edits.every((c) => c.status === 200)).toBe(true)
    expect(JSON.stringify(edits.at(-1)?.body)).not.toContain('chorus:stop')
  })

  it('streams the leading branch as it is written, before any branch finished; then the first result, then the final', async () => {
    const words = Array.from({ length: 24 }, (_, i) => `word${i}`).join(' ')
    const { discord, openai } = await setup((body) => {
      const angle = /Angle: (.+?)\./.exec(body.messages.at(-1)?.content ?? '')?.[1]
      if (angle === undefined) return { text: '1. **Merged idea** ranked first' }
      return {
        text: `- **${angle} idea** ${words}`,
        latencyMs: angle === 'User pain' ? 20 : 600,
        pieceIntervalMs: 100,
      }
    })
    const { token } = discord.command('brainstorm', [topic('lunch')])
    await expect.poll(() => isFinal(discord, token), { timeout: 10_000 }).toBe(true)
    const edits = discord.callsFor(token).filter((c) => c.method === 'PATCH' && c.status === 200)
    const streamed = edits.filter((c) => embedText(c.body).includes('is writing'))
    expect(streamed.length).toBeGreaterThanOrEqual(2)
    const toFake = performance.now() - discord.now()
    const fastest = Math.min(
      ...openai.requests.filter((r) => r.prompt.includes('Angle')).map((r) => r.finishedAt as number),
    )
    expect((streamed[0]?.at as number) + toFake).toBeLessThan(fastest)
    expect(embedText(streamed[0]?.body)).toMatch(/- \*+User/)
    expect(embedText(streamed.at(-1)?.body)).toContain('User pain idea')
    expect(embedText(streamed[0]?.body)).not.toContain('word23')
    expect(embedText(streamed[0]?.body)).toContain('✎ angle-user-pain · writing')
    const lengths = streamed.map((c) => embedText(c.body).length)
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b))
    for (let i = 1; i < streamed.length; i++)
      expect((streamed[i]?.at as number) - (streamed[i - 1]?.at as number)).toBeGreaterThan(900)
    const firstIdx = edits.findIndex((c) => embedText(c.body).includes('⚡'))
    expect(firstIdx).toBeGreaterThan(edits.indexOf(streamed.at(-1) as (typeof edits)[number]))
    expect(embedText(edits[firstIdx]?.body)).not.toContain('is writing')
    expect(discord.routeLimited()).toBe(0)
  })

  it('defers well inside 3 s even when the model takes 2 s', async () => {
    const { discord } = await setup((body) => ({
      text: '- **slow**',
      latencyMs: body.messages.at(-1)?.content.includes('Angle') ? 2_000 : 0,
    }))
    const t0 = performance.now()
    const { token } = discord.command('brainstorm', [topic('lunch'), angles(2)])
    await expect.poll(() => discord.callsFor(token)[0]?.status, { timeout: 3_000, interval: 10 }).toBe(204)
    // Measured on the test's own clock: an upper bound of the defer's delay (the poll runs every 10 ms).
    expect(performance.now() - t0).toBeLessThan(3_000)
    await expect.poll(() => isFinal(discord, token), { timeout: 6_000 }).toBe(true)
  })

  it("waits out a 429 on an edit and still delivers the result; the wait is counted as the run's, for its trace", async () => {
    const runs = new Set<string>()
    const waits: Array<{ platform: string; runId: string | undefined }> = []
    const observer: BotObserver = {
      event: (run) => runs.add(run.runId),
      rateLimited: (platform, _route, _ms, runId) => waits.push({ platform, runId }),
    }
    const { discord } = await setup(() => ({ text: '- **idea**', latencyMs: 20 }), { observer })
    discord.rateLimitEdits(1)
    const { token } = discord.command('brainstorm', [topic('lunch'), angles(2)])
    await expect.poll(() => isFinal(discord, token), { timeout: 8_000 }).toBe(true)
    const patches = discord.callsFor(token).filter((c) => c.method === 'PATCH')
    const limited = patches.findIndex((c) => c.status === 429)
    expect(limited).toBeGreaterThanOrEqual(0)
    expect((patches[limited + 1]?.at ?? 0) - (patches[limited]?.at ?? 0)).toBeGreaterThanOrEqual(900)
    expect(runs.size).toBe(1)
    expect(waits).toEqual([{ platform: 'discord', runId: [...runs][0] }])
  })

  it('Stop aborts the in-flight model requests and says who stopped it', async () => {
    const { discord, openai } = await setup(() => ({ hang: true }))
    const { token } = discord.command('brainstorm', [topic('lunch'), angles(3)])
    await openai.waitForRequests(3)
    await expect
      .poll(() => JSON.stringify(discord.original(token) ?? {}), { timeout: 3_000 })
      .toContain('chorus:stop:')
    const customId = /"custom_id":"(chorus:stop:[^"]+)"/.exec(
      JSON.stringify(discord.original(token)),
    )?.[1] as string
    const click = discord.click(customId, discord.originalId(token) as string, 'bob')
    await expect.poll(() => discord.callsFor(click.token)[0]?.body).toEqual({ type: 6 })
    await expect.poll(() => openai.requests.every((r) => r.aborted), { timeout: 3_000 }).toBe(true)
    await expect
      .poll(() => embedText(discord.original(token)), { timeout: 3_000 })
      .toContain('Stopped by bob')
  })

  it('after Stop, offers Retry; a second Stop says it already finished; Retry runs it again for the clicker', async () => {
    let hang = true
    const { discord } = await setup((body) => {
      const angle = /Angle: (.+?)\./.exec(body.messages.at(-1)?.content ?? '')?.[1]
      if (hang) return { hang: true }
      return { text: angle === undefined ? '1. **Merged idea**' : `- **${angle} idea**` }
    })
    const { token } = discord.command('brainstorm', [topic('lunch'), angles(2)])
    await expect.poll(() => JSON.stringify(discord.original(token) ?? {})).toContain('chorus:stop:')
    const original = discord.originalId(token) as string
    const stopId = /"custom_id":"(chorus:stop:[^"]+)"/.exec(
      JSON.stringify(discord.original(token)),
    )?.[1] as string
    discord.click(stopId, original, 'bob')
    await expect.poll(() => embedText(discord.original(token))).toContain('Stopped by bob')
    const retryId = /"custom_id":"(chorus:retry:[^"]+)"/.exec(JSON.stringify(discord.original(token)))?.[1]
    expect(retryId).toBe(stopId.replace('stop', 'retry'))
    expect(JSON.stringify(discord.original(token))).not.toContain('chorus:stop:')

    const again = discord.click(stopId, original, 'bob')
    await expect
      .poll(() => discord.callsFor(again.token)[0]?.body)
      .toMatchObject({ type: 4, data: { content: 'That run has already finished.', flags: 64 } })

    hang = false
    const retry = discord.click(retryId as string, original, 'carol')
    await expect.poll(() => discord.callsFor(retry.token)[0]?.body).toMatchObject({ type: 5 })
    await expect.poll(() => isFinal(discord, retry.token), { timeout: 5_000 }).toBe(true)
    expect(embedText(discord.original(retry.token))).toContain('Asked by carol')
    expect(embedText(discord.original(token))).toContain('Stopped by bob')
  })

  it('shows a line per branch for 8 branches within embed limits: ✓ with time, ✗ with reason, … running, ⏹ after Stop', async () => {
    const { discord } = await setup((body) => {
      const angle = /Angle: (.+?)\./.exec(body.messages.at(-1)?.content ?? '')?.[1]
      if (angle === 'Moonshot') return { hang: true }
      if (angle === 'Contrarian') return { status: 400 }
      return { text: `- **${angle} idea**`, latencyMs: 10 }
    })
    const { token } = discord.command('brainstorm', [topic('lunch'), angles(8)])
    const field = () =>
      (
        (discord.original(token) as { embeds?: Array<{ fields?: Array<{ name: string; value: string }> }> })
          ?.embeds?.[0]?.fields ?? []
      ).find((f) => f.name === 'Branches')?.value ?? ''
    await expect
      .poll(
        () =>
          field()
            .split('\n')
            .filter((l) => l.startsWith('✓')).length,
        { timeout: 5_000 },
      )
      .toBe(6)
    const lines = field().split('\n')
    expect(lines).toHaveLength(8)
    expect(lines).toContain('✗ angle-contrarian · the model provider rejected the request')
    expect(lines).toContain('… angle-moonshot · running')
    expect(lines.find((l) => l.includes('user-pain'))).toMatch(/^✓ angle-user-pain · \d+\.\d s$/)
    const stopId = /"custom_id":"(chorus:stop:[^"]+)"/.exec(
      JSON.stringify(discord.original(token)),
    )?.[1] as string
    discord.click(stopId, discord.originalId(token) as string, 'bob')
    await expect
      .poll(() => embedText(discord.original(token)), { timeout: 3_000 })
      .toContain('Stopped by bob')
    expect(field()).toContain('⏹ angle-moonshot · cancelled')
    // The fake answers 400 to an edit past Discord's embed limits; every edit was accepted.
    const edits = discord.callsFor(token).filter((c) => c.method === 'PATCH')
    expect(edits.length).toBeGreaterThan(1)
    expect(edits.every((c) => c.status === 200)).toBe(true)
  })

  it('a final reply carries on: 👍 is logged with the run id, Again runs it anew, Refine opens a modal and answers under it', async () => {
    const logged: Array<Record<string, unknown>> = []
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) })
    const { discord, openai } = await setup(
      (body) => ({
        text: body.messages.at(-1)?.content.includes('Earlier answer') ? 'Shorter line' : 'Long line',
      }),
      { logger },
    )
    const { token } = discord.command('brand', [{ name: 'brand', type: 3, value: 'Acme' }])
    await expect.poll(() => isFinal(discord, token), { timeout: 5_000 }).toBe(true)
    const json = JSON.stringify(discord.original(token))
    const runId = /"custom_id":"chorus:retry:([^"]+)"/.exec(json)?.[1] as string
    expect(json).toContain(`chorus:refine:${runId}`)
    expect(json).toContain(`chorus:feedback:up:${runId}`)
    expect(json).toContain('"label":"Again"')
    const original = discord.originalId(token) as string

    const up = discord.click(`chorus:feedback:up:${runId}`, original, 'bob')
    await expect
      .poll(() => discord.callsFor(up.token)[0]?.body)
      .toMatchObject({ type: 4, data: { flags: 64 } })
    expect(logged.find((l) => l.event === 'reply.feedback')).toMatchObject({ runId, rating: 'up', by: 'bob' })

    const again = discord.click(`chorus:retry:${runId}`, original, 'carol')
    await expect.poll(() => isFinal(discord, again.token), { timeout: 5_000 }).toBe(true)
    expect(embedText(discord.original(again.token))).toContain('Asked by carol')

    const calls = openai.requests.length
    const refine = discord.click(`chorus:refine:${runId}`, original, 'dan')
    await expect.poll(() => discord.callsFor(refine.token)[0]?.body).toMatchObject({ type: 9 })
    expect(discord.callsFor(refine.token)[0]?.status).toBe(204)
    expect(JSON.stringify(discord.callsFor(refine.token)[0]?.body)).toContain('What should change?')
    const submit = discord.submitModal(refine.token, { request: 'make it shorter' }, 'dan')
    await expect.poll(() => discord.callsFor(submit.token)[0]?.body).toMatchObject({ type: 5 })
    await expect.poll(() => isFinal(discord, submit.token), { timeout: 5_000 }).toBe(true)
    const refined = discord.original(submit.token) as { embeds: Array<{ title?: string }> }
    expect(refined.embeds[0]?.title).toBe('Brand: Acme · refined: make it shorter')
    expect(embedText(refined)).toContain('Shorter line')
    expect(embedText(refined)).toContain('Asked by dan')
    const prompts = openai.requests.slice(calls).map((r) => r.body.messages.at(-1)?.content ?? '')
    expect(prompts.length).toBe(2)
    for (const prompt of prompts) expect(prompt).toContain('What the user wants changed: make it shorter')
    expect(() => discord.submitModal(refine.token, { request: 'again' })).toThrow(/no modal/)
  })

  it('sends hostile output with mentions disabled on every message', async () => {
    const { discord } = await setup(() => ({
      text: '@everyone @here <@123456789012345678> <@&987654321098765432> **bold** _it_',
    }))
    const { token } = discord.command('brand', [{ name: 'brand', type: 3, value: 'Acme @everyone' }])
    await expect.poll(() => isFinal(discord, token), { timeout: 5_000 }).toBe(true)
    const messages = discord
      .callsFor(token)
      .filter((c) => c.method !== 'POST' || !c.path.endsWith('/callback'))
    expect(messages.length).toBeGreaterThan(0)
    for (const call of messages) {
      expect((call.body as { allowed_mentions?: unknown }).allowed_mentions).toEqual({ parse: [] })
      const text = JSON.stringify(call.body)
      expect(text).not.toMatch(/@everyone|@here|<@\d|<@&\d/)
    }
    expect(embedText(discord.original(token))).toContain('**bold**')
  })

  it('shows the real target of a model masked link whose text names another site', async () => {
    const { discord } = await setup(() => ({
      text: 'Log in at [https://bank.example/login](https://evil.test/x) or [bank.example](<https://evil.test/y>) — [the docs](https://docs.example/a)',
    }))
    const { token } = discord.command('brand', [{ name: 'brand', type: 3, value: 'Acme' }])
    await expect.poll(() => isFinal(discord, token), { timeout: 5_000 }).toBe(true)
    for (const call of discord.callsFor(token)) {
      expect(JSON.stringify(call.body)).not.toMatch(/\[(https:\/\/)?bank\.example[^\]]*\]\(/)
    }
    const final = embedText(discord.original(token))
    expect(final).toContain('Log in at https://evil.test/x or https://evil.test/y')
    expect(final).toContain('[the docs](https://docs.example/a)')
  })

  it("shows the user's topic as typed in the title, its markdown inert", async () => {
    const { discord, openai } = await setup(() => ({ text: '- **idea**' }))
    const { token } = discord.command('brainstorm', [topic('R&D <b> *x*'), angles(2)])
    await expect.poll(() => isFinal(discord, token), { timeout: 5_000 }).toBe(true)
    expect(openai.requests.some((r) => JSON.stringify(r.body).includes('R&D <b> *x*'))).toBe(true)
    const embeds = (discord.original(token) as { embeds: Array<{ title?: string }> }).embeds
    expect(embeds[0]?.title).toBe('Brainstorm: R&D <b> \\*x\\*')
  })

  it('answers bad input with an ephemeral message and runs nothing', async () => {
    const { discord, openai } = await setup(() => ({ text: 'x' }))
    const bad = discord.command('brainstorm', [topic('lunch'), angles(12)])
    await expect
      .poll(() => discord.callsFor(bad.token)[0]?.body, { timeout: 3_000 })
      .toMatchObject({ type: 4, data: { flags: 64 } })
    const body = discord.callsFor(bad.token)[0]?.body as {
      data: { content: string; allowed_mentions: unknown }
    }
    expect(body.data.content).toMatch(/^--angles must be a whole number from 1 to 8/)
    expect(body.data.allowed_mentions).toEqual({ parse: [] })
    const long = discord.command('brainstorm', [topic('x'.repeat(501))])
    await expect
      .poll(
        () => (discord.callsFor(long.token)[0]?.body as { data?: { content?: string } })?.data?.content ?? '',
      )
      .toMatch(/^The topic is 501 characters/)
    await new Promise((r) => setTimeout(r, 100))
    expect(openai.requests).toHaveLength(0)
  })

  it('cuts off a run that would outlive the interaction token, with a clear message', async () => {
    const { discord } = await setup(() => ({ hang: true }), { runBudgetMs: 300 })
    const { token } = discord.command('brainstorm', [topic('lunch'), angles(2)])
    await expect
      .poll(() => embedText(discord.original(token)), { timeout: 3_000 })
      .toContain('took longer than Chorus allows')
    expect(discord.callsFor(token).every((c) => c.status < 400)).toBe(true)
  })

  it('a command whose token has 10 s left ends with a clear cut-off while the token still works, never on "thinking"', async () => {
    // Each branch writes for about 3.5 s: streamed text would be on its way if the run were not cut off.
    const words = Array.from({ length: 10 }, (_, i) => `word${i}`).join(' ')
    const { discord } = await setup(() => ({
      text: `- **idea** ${words}`,
      latencyMs: 300,
      pieceIntervalMs: 300,
    }))
    const minted = { mintedAgoMs: 14 * 60_000 + 50_000 }
    const { token } = discord.command('brainstorm', [topic('lunch'), angles(2)], 'alice', minted)
    await expect
      .poll(() => embedText(discord.original(token)), { timeout: 9_000 })
      .toContain('took longer than Chorus allows')
    const calls = discord.callsFor(token)
    expect(calls[0]).toMatchObject({ status: 204, body: { type: 5 } })
    // The fake refuses webhook calls once the token is 15 minutes old (50027): each one landed in time.
    expect(calls.every((c) => c.status < 400)).toBe(true)
    expect(JSON.stringify(discord.original(token))).not.toContain('chorus:stop:')
    // Its run time was spent on arrival: cut off at once, no model text shown first.
    expect(calls.some((c) => embedText(c.body).includes('is writing'))).toBe(false)
  })

  it('a command whose token expired before it arrived is answered at once, not left on "thinking"', async () => {
    const { discord, openai } = await setup(() => ({ text: '- **idea**' }))
    const minted = { mintedAgoMs: 15 * 60_000 + 1_000 }
    const { token } = discord.command('brainstorm', [topic('lunch'), angles(2)], 'alice', minted)
    await expect
      .poll(() => discord.callsFor(token)[0]?.body, { timeout: 3_000 })
      .toMatchObject({ type: 4, data: { content: TOKEN_EXPIRED_TEXT, flags: 64 } })
    await new Promise((r) => setTimeout(r, 100))
    expect(discord.callsFor(token)).toHaveLength(1)
    expect(openai.requests).toHaveLength(0)
  })

  it('a resumed run too late to finish is closed with a clear word while its token still works', async () => {
    const discord = await startFakeDiscord()
    cleanup.push(() => discord.close())
    // Dispatched and deferred by a process that then died; the token has 40 s left when Chorus is back.
    const mintedAgoMs = 14 * 60_000 + 20_000
    const { id, token } = discord.command('brainstorm', [topic('lunch')], 'alice', { mintedAgoMs })
    const deferred = await fetch(`${discord.api}/v10/interactions/${id}/${token}/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 5 }),
    })
    expect(deferred.status).toBe(204)
    const config = loadConfig({ DISCORD_TOKEN: TOKEN, DISCORD_APP_ID: APP_ID, DISCORD_API_URL: discord.api })
    const bot = await Bot.create({ config, logger: silent })
    const handle = await startDiscord(bot, config)
    cleanup.push(() => handle.stop())
    const target = { platform: 'discord', applicationId: APP_ID, interactionId: id, token } as const
    await bot.store.create({
      id: 'run-1',
      command: 'brainstorm',
      input: { topic: 'lunch', angles: 2 },
      user: 'alice',
      target: { ...target, createdAt: Date.now() - mintedAgoMs },
      createdAt: Date.now() - 60_000,
    })
    await bot.work('run-1')
    expect(embedText(discord.original(token))).toContain('could not be finished in time')
    expect(discord.callsFor(token).every((c) => c.status < 400)).toBe(true)
    expect((await bot.store.get('run-1'))?.status).toBe('abandoned')
  })

  it('Stop on a run that already finished answers the click with an ephemeral "That run has already finished."', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const { discord } = await setup(async (body) => {
      await gate
      const angle = /Angle: (.+?)\./.exec(body.messages.at(-1)?.content ?? '')?.[1]
      return { text: angle === undefined ? '1. **Merged idea**' : `- **${angle} idea**` }
    })
    const { token } = discord.command('brainstorm', [topic('lunch'), angles(2)])
    await expect.poll(() => JSON.stringify(discord.original(token) ?? {})).toContain('chorus:stop:')
    const stopId = /"custom_id":"(chorus:stop:[^"]+)"/.exec(JSON.stringify(discord.original(token)))?.[1]
    release()
    await expect.poll(() => isFinal(discord, token), { timeout: 5_000 }).toBe(true)
    const final = JSON.stringify(discord.original(token))
    const click = discord.click(stopId as string, discord.originalId(token) as string, 'bob')
    await expect
      .poll(() => discord.callsFor(click.token)[0]?.body, { timeout: 3_000 })
      .toMatchObject({ type: 4, data: { content: 'That run has already finished.', flags: 64 } })
    expect(discord.callsFor(click.token)).toHaveLength(1)
    expect(JSON.stringify(discord.original(token))).toBe(final)
  })

  it('Stop whose journal answers slowly is deferred inside 3 s, then followed up with the ephemeral word', async () => {
    const { discord, bot } = await setup(() => ({ text: '- **idea**' }))
    const { token } = discord.command('brainstorm', [topic('lunch'), angles(2)])
    await expect.poll(() => isFinal(discord, token), { timeout: 5_000 }).toBe(true)
    const runId = /"custom_id":"chorus:retry:([^"]+)"/.exec(JSON.stringify(discord.original(token)))?.[1]
    const get = bot.store.get.bind(bot.store)
    bot.store.get = async (id) => {
      await new Promise((r) => setTimeout(r, 2_000))
      return get(id)
    }
    const click = discord.click(`chorus:stop:${runId}`, discord.originalId(token) as string, 'bob')
    await expect
      .poll(() => discord.callsFor(click.token).map((c) => c.body), { timeout: 4_000 })
      .toEqual([
        { type: 6 },
        expect.objectContaining({ content: 'That run has already finished.', flags: 64 }),
      ])
    expect(discord.callsFor(click.token).every((c) => c.status < 400)).toBe(true)
  })

  it('never answers an interaction twice, even under load', async () => {
    const { discord } = await setup(() => ({ text: '- **idea**', latencyMs: 5 }))
    const tokens = Array.from(
      { length: 25 },
      (_, i) => discord.command('brainstorm', [topic(`topic ${i}`), angles(2)]).token,
    )
    await expect.poll(() => tokens.every((t) => isFinal(discord, t)), { timeout: 15_000 }).toBe(true)
    for (const t of tokens) {
      const callbacks = discord.callsFor(t).filter((c) => c.path.endsWith('/callback'))
      expect(callbacks).toHaveLength(1)
      expect(discord.callsFor(t).every((c) => c.status < 400 || c.status === 429)).toBe(true)
    }
  })
})

describe('the fake Discord enforces the interaction rules', () => {
  it('answers a late first response with 10062, a second one with 40060 and an expired token with 50027', async () => {
    const discord = await startFakeDiscord()
    cleanup.push(() => discord.close())
    const post = (path: string, body: unknown, method = 'POST') =>
      fetch(`${discord.api}/v10${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: r.status === 204 ? undefined : await r.json() }))
    const a = discord.command('brainstorm', [])
    expect(await post(`/interactions/${a.id}/${a.token}/callback`, { type: 5 })).toEqual({
      status: 204,
      body: undefined,
    })
    expect(await post(`/interactions/${a.id}/${a.token}/callback`, { type: 5 })).toMatchObject({
      status: 400,
      body: { code: 40060 },
    })
    expect(
      await post(
        `/webhooks/${APP_ID}/${a.token}/messages/%40original`,
        { content: 'x'.repeat(2_001) },
        'PATCH',
      ),
    ).toMatchObject({
      status: 400,
      body: { code: 50035 },
    })
    discord.age(15 * 60_000 + 1)
    expect(
      await post(`/webhooks/${APP_ID}/${a.token}/messages/%40original`, { content: 'late' }, 'PATCH'),
    ).toMatchObject({
      status: 401,
      body: { code: 50027 },
    })
    const b = discord.command('brainstorm', [])
    await new Promise((r) => setTimeout(r, 3_100))
    expect(await post(`/interactions/${b.id}/${b.token}/callback`, { type: 5 })).toMatchObject({
      status: 404,
      body: { code: 10062 },
    })
  })

  it('takes components, modals, updates and channel messages only as Discord does', async () => {
    const discord = await startFakeDiscord()
    cleanup.push(() => discord.close())
    const call = (path: string, body: unknown, method = 'POST', auth = false) =>
      fetch(`${discord.api}/v10${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bot ${TOKEN}` } : {}) },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: r.status === 204 ? undefined : await r.json() }))
    const row = (...components: unknown[]) => ({ type: 1, components })
    const button = (custom_id: string, label = 'x') => ({ type: 2, style: 1, label, custom_id })
    const invalid = { status: 400, body: { code: 50035 } }
    const a = discord.command('brainstorm', [])
    // A command cannot be answered by editing a message (6, 7): it has none.
    expect(
      await call(`/interactions/${a.id}/${a.token}/callback`, { type: 7, data: { content: 'x' } }),
    ).toMatchObject(invalid)
    const tooMany = {
      content: 'x',
      components: [row(...Array.from({ length: 6 }, (_, i) => button(`b${i}`)))],
    }
    expect(await call(`/interactions/${a.id}/${a.token}/callback`, { type: 4, data: tooMany })).toMatchObject(
      invalid,
    )
    const longId = { content: 'x', components: [row(button('b'.repeat(101)))] }
    expect(await call(`/interactions/${a.id}/${a.token}/callback`, { type: 4, data: longId })).toMatchObject(
      invalid,
    )
    const twice = { content: 'x', components: [row(button('same'), button('same'))] }
    expect(await call(`/interactions/${a.id}/${a.token}/callback`, { type: 4, data: twice })).toMatchObject(
      invalid,
    )
    const options = Array.from({ length: 26 }, (_, i) => ({ label: `o${i}`, value: String(i) }))
    const select = { content: 'x', components: [row({ type: 3, custom_id: 's', options })] }
    expect(await call(`/interactions/${a.id}/${a.token}/callback`, { type: 4, data: select })).toMatchObject(
      invalid,
    )
    const input = (i: number) => row({ type: 4, custom_id: `f${i}`, label: 'Field', style: 1 })
    const modal = { custom_id: 'm', title: 'Form', components: [0, 1, 2, 3, 4, 5].map(input) }
    expect(await call(`/interactions/${a.id}/${a.token}/callback`, { type: 9, data: modal })).toMatchObject(
      invalid,
    )
    const longLabel = {
      ...modal,
      components: [row({ type: 4, custom_id: 'f', label: 'L'.repeat(46), style: 1 })],
    }
    expect(
      await call(`/interactions/${a.id}/${a.token}/callback`, { type: 9, data: longLabel }),
    ).toMatchObject(invalid)
    // Channel messages: the bot's token only, and only where the bot has access.
    const message = { content: 'hello', components: [row(button('ok'))] }
    expect(await call(`/channels/${CHANNEL_ID}/messages`, message)).toMatchObject({ status: 401 })
    const posted = await call(`/channels/${CHANNEL_ID}/messages`, message, 'POST', true)
    expect(posted).toMatchObject({ status: 200, body: { channel_id: CHANNEL_ID, content: 'hello' } })
    const id = (posted.body as { id: string }).id
    expect(
      await call(`/channels/${CHANNEL_ID}/messages/${id}`, { content: 'edited' }, 'PATCH', true),
    ).toMatchObject({
      status: 200,
      body: { content: 'edited' },
    })
    discord.denyChannel(CHANNEL_ID)
    expect(await call(`/channels/${CHANNEL_ID}/messages`, message, 'POST', true)).toMatchObject({
      status: 403,
      body: { code: 50001 },
    })
    discord.denyChannel(CHANNEL_ID, 50013)
    expect(
      await call(`/channels/${CHANNEL_ID}/messages/${id}`, { content: 'x' }, 'PATCH', true),
    ).toMatchObject({
      status: 403,
      body: { code: 50013 },
    })
    // The Discord client sends only what a select offers.
    discord.allowChannel(CHANNEL_ID)
    const menu = {
      content: 'pick',
      components: [row({ type: 3, custom_id: 's', options: options.slice(0, 3) })],
    }
    const withMenu = (await call(`/channels/${CHANNEL_ID}/messages`, menu, 'POST', true)).body as {
      id: string
    }
    expect(() => discord.select('s', withMenu.id, ['7'])).toThrow(/would not send/)
    expect(() => discord.select('nope', withMenu.id, ['1'])).toThrow(/no select/)
  })
})

describe('Discord registration and configuration', () => {
  it('builds typed command JSON for every flow, required options first', async () => {
    const bot = await Bot.create({ config: loadConfig({}), logger: silent })
    const json = commandJson(bot.commands)
    expect(json.map((c) => c.name)).toEqual(bot.commands.map((c) => c.name))
    expect(json.find((c) => c.name === 'brainstorm')).toEqual({
      type: 1,
      name: 'brainstorm',
      description: 'Ideas from several angles in parallel: the first at once, then a merged, ranked list',
      options: [
        { name: 'topic', description: 'What to brainstorm about', required: true, type: 3, max_length: 500 },
        {
          name: 'angles',
          description: 'How many angles to explore at once',
          required: false,
          type: 4,
          min_value: 1,
          max_value: 8,
        },
      ],
    })
    for (const c of json) {
      expect(c.description.length).toBeLessThanOrEqual(100)
      const required = (c.options ?? []).map((o) => o.required === true)
      expect(required).toEqual([...required].sort((a, b) => Number(b) - Number(a)))
    }
  })

  it('npm run discord:register sends that JSON to the guild route, idempotently', async () => {
    const discord = await startFakeDiscord()
    cleanup.push(() => discord.close())
    const { execFile } = await import('node:child_process')
    const run = () =>
      new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          ['scripts/discord-register.ts', '--guild', '222222222222222222'],
          {
            env: {
              ...process.env,
              DISCORD_TOKEN: TOKEN,
              DISCORD_APP_ID: APP_ID,
              DISCORD_API_URL: discord.api,
            },
          },
          (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)),
        ),
      )
    const out = await run()
    await run()
    expect(out).toContain(
      'Registered /brainstorm, /brand, /decide, /review, /standup, /vote in server 222222222222222222.',
    )
    expect(out).toContain(`client_id=${APP_ID}&scope=bot%20applications.commands`)
    expect(discord.registrations).toHaveLength(2)
    expect(discord.registrations[0]?.path).toBe(`/applications/${APP_ID}/guilds/222222222222222222/commands`)
    const bot = await Bot.create({ config: loadConfig({}), logger: silent })
    expect(discord.registrations[0]?.body).toEqual(commandJson(bot.commands))
    expect(discord.registrations[1]?.body).toEqual(discord.registrations[0]?.body)
    expect(
      discord.calls
        .filter((c) => c.path.includes('/commands'))
        .every((c) => c.authorization === `Bot ${TOKEN}`),
    ).toBe(true)
  })

  it('stops start-up with what to fix', () => {
    expect(() => discordSettings(loadConfig({ DISCORD_TOKEN: 'Bot abc', DISCORD_APP_ID: APP_ID }))).toThrow(
      /bare bot token/,
    )
    expect(() => discordSettings(loadConfig({ DISCORD_TOKEN: 'abc' }))).toThrow(
      /DISCORD_APP_ID must be your application id/,
    )
    expect(discordSettings(loadConfig({ DISCORD_TOKEN: 'abc', DISCORD_APP_ID: APP_ID })).api).toBe(
      'https://discord.com/api',
    )
  })
})
