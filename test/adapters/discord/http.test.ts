import { type Logger, pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import {
  discordHttpSettings,
  INACTIVE_COMPONENT,
  INTERACTIONS_PATH,
  startDiscordHttp,
} from '../../../adapters/discord/index.ts'
import { Bot, loadConfig } from '../../../src/bot/index.ts'
import { OpenAIModel } from '../../../src/llm/index.ts'
import { APP_ID, type FakeDiscord, startFakeDiscord, TOKEN } from '../../fakes/discord.ts'
import { brokenHeaders, signedHeaders } from '../../fakes/discord-http.ts'
import { type FakeOpenAI, type Handler, startFakeOpenAI } from '../../fakes/openai.ts'

const silent = pino({ level: 'silent' })
const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** Chorus answering Discord over HTTP only (no gateway), in this process, with the fake delivering to it. */
async function setup(
  handler: Handler,
  options: { botToken?: boolean; securityCheckEvery?: number; logger?: Logger } = {},
): Promise<{ discord: FakeDiscord; openai: FakeOpenAI; url: string }> {
  const discord = await startFakeDiscord(
    options.securityCheckEvery === undefined ? {} : { securityCheckEvery: options.securityCheckEvery },
  )
  cleanup.push(() => discord.close())
  const openai = await startFakeOpenAI({ handler })
  cleanup.push(() => openai.close())
  const config = loadConfig({
    DISCORD_PUBLIC_KEY: discord.publicKey,
    DISCORD_API_URL: discord.api,
    ...(options.botToken === false ? {} : { DISCORD_TOKEN: TOKEN, DISCORD_APP_ID: APP_ID }),
  })
  const model = new OpenAIModel({ apiKey: 'sk-test', baseURL: openai.url, model: 'fake', timeoutMs: 10_000 })
  const bot = await Bot.create({ config, model, logger: options.logger ?? silent })
  cleanup.push(async () => {
    await bot.shutdown(0)
  })
  const handle = await startDiscordHttp(bot, config, { port: 0 })
  cleanup.push(() => handle.stop())
  const url = `http://127.0.0.1:${handle.port}${INTERACTIONS_PATH}`
  discord.deliverTo(url)
  return { discord, openai, url }
}

const topic = (value: string) => ({ name: 'topic', type: 3, value })
const angles = (value: number) => ({ name: 'angles', type: 4, value })
const embedText = (body: unknown) => JSON.stringify((body as { embeds?: unknown })?.embeds ?? [])
const isFinal = (discord: FakeDiscord, token: string) => embedText(discord.original(token)).includes('✅')
const ping = (id = '1200000000000000000') =>
  JSON.stringify({ id, application_id: APP_ID, type: 1, version: 1 })
const quick: Handler = () => ({ text: '- **idea**' })

describe('Discord over HTTP: the interactions endpoint', () => {
  it('answers PING with PONG, and refuses with 401 a bad signature, a tampered body, no headers and a stale or future timestamp', async () => {
    const { discord, url } = await setup(quick)
    const pong = await discord.ping()
    expect(pong).toMatchObject({ status: 200, body: '{"type":1}', problem: undefined })
    expect(pong.contentType).toMatch(/^application\/json/)

    const body = ping()
    const refused = [
      await discord.postRaw(body, brokenHeaders(discord.signer, body)),
      // Signed for another body: the signature covers the exact bytes.
      await discord.postRaw(body, signedHeaders(discord.signer, ping('1200000000000000001'))),
      await discord.postRaw(body, {}),
      await discord.postRaw(body, { ...signedHeaders(discord.signer, body), 'x-signature-ed25519': 'zz' }),
      // Correctly signed, but recorded 10 minutes ago (a replay), or dated 6 minutes ahead.
      await discord.postRaw(body, signedHeaders(discord.signer, body, 600)),
      await discord.postRaw(body, signedHeaders(discord.signer, body, -360)),
    ]
    expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401])
    // Inside the replay window, a correctly signed request is taken.
    expect((await discord.postRaw(body, signedHeaders(discord.signer, body, 240))).status).toBe(200)

    expect((await fetch(url)).status).toBe(405)
    expect((await fetch(url.replace('/interactions', '/other'), { method: 'POST' })).status).toBe(404)
  })

  it('with a broken copy before every interaction (as Discord checks endpoints): each copy gets 401, each real one is answered once', async () => {
    const { discord } = await setup(quick, { securityCheckEvery: 1 })
    const { id, token } = discord.command('brainstorm', [topic('lunch'), angles(2)])
    await expect.poll(() => isFinal(discord, token), { timeout: 5_000 }).toBe(true)
    const checks = discord.deliveries.filter((d) => d.kind === 'check' && d.id === id)
    expect(checks.map((c) => c.status)).toEqual([401])
    expect(await discord.delivery(id)).toMatchObject({ status: 202, body: '', problem: undefined })
    // The endpoint answered through the callback, once, within Discord's 3 s.
    expect(discord.callsFor(token).filter((c) => c.path.endsWith('/callback'))).toMatchObject([
      { status: 204, body: { type: 5 } },
    ])
  })

  it('defers a command, shows the first idea, then the final; Stop, 👍, Again and Refine (a modal) work as on the gateway', async () => {
    const logged: Array<Record<string, unknown>> = []
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) })
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const { discord, openai } = await setup(
      async (body) => {
        const prompt = body.messages.at(-1)?.content ?? ''
        if (prompt.includes('Angle: Moonshot') && prompt.includes('stop me')) await gate
        if (prompt.includes('Earlier answer')) return { text: '- **Shorter idea**' }
        return { text: '- **idea**', latencyMs: 20 }
      },
      { logger },
    )
    const { token } = discord.command('brainstorm', [topic('lunch'), angles(2)])
    await expect.poll(() => isFinal(discord, token), { timeout: 5_000 }).toBe(true)
    const edits = discord.callsFor(token).filter((c) => c.method === 'PATCH' && c.status === 200)
    expect(edits.findIndex((c) => embedText(c.body).includes('⚡'))).toBeLessThan(edits.length - 1)

    // Stop, on a run whose slowest angle waits.
    const slow = discord.command('brainstorm', [topic('stop me'), angles(5)])
    await expect.poll(() => embedText(discord.original(slow.token)), { timeout: 5_000 }).toContain('⚡')
    const stopId = /"custom_id":"(chorus:stop:[^"]+)"/.exec(JSON.stringify(discord.original(slow.token)))?.[1]
    const stop = discord.click(stopId as string, discord.originalId(slow.token) as string, 'erin')
    await expect.poll(() => embedText(discord.original(slow.token)), { timeout: 5_000 }).toContain('⏹️')
    expect(discord.callsFor(stop.token)[0]).toMatchObject({ status: 204, body: { type: 6 } })
    release()

    const json = JSON.stringify(discord.original(token))
    const runId = /"custom_id":"chorus:retry:([^"]+)"/.exec(json)?.[1] as string
    const original = discord.originalId(token) as string
    const up = discord.click(`chorus:feedback:up:${runId}`, original, 'bob')
    await expect.poll(() => discord.ephemerals(up.token)).toEqual(['Thanks, noted.'])
    expect(logged.find((l) => l.event === 'reply.feedback')).toMatchObject({ runId, rating: 'up', by: 'bob' })

    const again = discord.click(`chorus:retry:${runId}`, original, 'carol')
    await expect.poll(() => isFinal(discord, again.token), { timeout: 5_000 }).toBe(true)
    expect(embedText(discord.original(again.token))).toContain('Asked by carol')

    const refine = discord.click(`chorus:refine:${runId}`, original, 'dan')
    await expect.poll(() => discord.callsFor(refine.token)[0]?.body).toMatchObject({ type: 9 })
    const submit = discord.submitModal(refine.token, { request: 'make it shorter' }, 'dan')
    await expect.poll(() => isFinal(discord, submit.token), { timeout: 5_000 }).toBe(true)
    expect(embedText(discord.original(submit.token))).toContain('Shorter idea')
    expect(openai.requests.some((r) => r.prompt.includes('make it shorter'))).toBe(true)
    expect(discord.deliveries.filter((d) => d.problem !== undefined)).toEqual([])
  })

  it('without a bot token: replies go through the interaction webhooks alone', async () => {
    const { discord } = await setup(quick, { botToken: false })
    const { token } = discord.command('brainstorm', [topic('lunch'), angles(2)])
    await expect.poll(() => isFinal(discord, token), { timeout: 5_000 }).toBe(true)
    expect(discord.calls.every((c) => c.authorization === undefined)).toBe(true)
  })

  it('answers autocomplete with its choices and a click on an unknown component with "no longer active"', async () => {
    const { discord } = await setup(quick)
    const typed = discord.autocomplete('brainstorm', { name: 'topic', type: 3, value: 'lu' })
    await expect
      .poll(() => discord.callsFor(typed.token)[0]?.body)
      .toEqual({ type: 8, data: { choices: [] } })
    const run = discord.command('brainstorm', [topic('lunch'), angles(2)])
    await expect.poll(() => isFinal(discord, run.token), { timeout: 5_000 }).toBe(true)
    const old = discord.click('chorus:old-feature:1', discord.originalId(run.token) as string)
    await expect.poll(() => discord.ephemerals(old.token)).toEqual([INACTIVE_COMPONENT])
    expect(discord.deliveries.filter((d) => d.problem !== undefined)).toEqual([])
  })

  it('an interaction Discord sent incomplete is answered inline, to its user only, and logged', async () => {
    const logged: Array<Record<string, unknown>> = []
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) })
    const { discord } = await setup(quick, { logger })
    const mutations: Array<(d: Record<string, unknown>) => void> = [
      (d) => {
        delete d.member
        delete d.user
      },
      (d) => {
        ;(d.data as Record<string, unknown>).options = { name: 'topic', type: 3, value: 'lunch' }
      },
      (d) => delete d.data,
      (d) => {
        d.token = ''
      },
    ]
    for (const mutate of mutations) {
      const bad = discord.rawInteraction(mutate)
      const answer = await discord.delivery(bad.id)
      expect(answer).toMatchObject({ status: 200, problem: undefined })
      expect(JSON.parse(answer.body)).toMatchObject({ type: 4, data: { flags: 64 } })
      expect(logged.find((l) => l.msg === 'discord.interaction_malformed' && l.id === bad.id)).toBeDefined()
    }
    // Still answering: a good command after them runs.
    const { token } = discord.command('brainstorm', [topic('lunch'), angles(2)])
    await expect.poll(() => isFinal(discord, token), { timeout: 5_000 }).toBe(true)
  })

  it('npm run discord:register prints the Interactions Endpoint URL to set, on the --url given', async () => {
    const discord = await startFakeDiscord()
    cleanup.push(() => discord.close())
    const { execFile } = await import('node:child_process')
    const run = (args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) =>
        execFile(
          process.execPath,
          ['scripts/discord-register.ts', '--guild', '222222222222222222', ...args],
          {
            env: {
              ...process.env,
              DISCORD_TOKEN: TOKEN,
              DISCORD_APP_ID: APP_ID,
              DISCORD_API_URL: discord.api,
              DISCORD_PUBLIC_KEY: discord.publicKey,
            },
          },
          (error, out, err) => resolve({ code: error === null ? 0 : 1, out, err }),
        ),
      )
    const ok = await run(['--url', 'https://chorus.example.com/'])
    expect(ok.code).toBe(0)
    expect(ok.out).toContain(
      'Interactions Endpoint URL (Developer Portal → General Information): https://chorus.example.com/discord/interactions',
    )
    expect(ok.out).toContain('PORT 3000')
    expect((await run([])).out).toContain('https://<your public host>/discord/interactions')
    const bad = await run(['--url', 'chorus.example.com'])
    expect([bad.code, bad.err]).toEqual([1, expect.stringContaining('usage: npm run discord:register')])
  })

  it('stops start-up with what to fix', () => {
    const check = (env: Record<string, string>) => () => discordHttpSettings(loadConfig(env))
    expect(check({ DISCORD_PUBLIC_KEY: 'abc' })).toThrow(/64 hex characters.*General Information/)
    const key = 'a'.repeat(64)
    expect(check({ DISCORD_PUBLIC_KEY: key, DISCORD_TOKEN: 'Bot x' })).toThrow(/bare bot token/)
    expect(check({ DISCORD_PUBLIC_KEY: key })().token).toBeUndefined()
  })

  it('a PORT already taken stops start-up with a message that says so', async () => {
    const { url } = await setup(quick)
    const taken = new URL(url).port
    const config = loadConfig({ DISCORD_PUBLIC_KEY: 'a'.repeat(64), PORT: taken })
    const bot = await Bot.create({ config, logger: silent })
    cleanup.push(async () => {
      await bot.shutdown(0)
    })
    await expect(startDiscordHttp(bot, config)).rejects.toThrow(`PORT ${taken} is already in use`)
  })
})
