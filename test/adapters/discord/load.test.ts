import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { startDiscord } from '../../../adapters/discord/index.ts'
import { Bot, loadConfig } from '../../../src/bot/index.ts'
import { OpenAIModel } from '../../../src/llm/index.ts'
import { APP_ID, startFakeDiscord, TOKEN } from '../../fakes/discord.ts'
import { startFakeOpenAI } from '../../fakes/openai.ts'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

const RUNS = 150

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))] as number

describe('150 concurrent Discord runs against per-webhook buckets', () => {
  it('stay inside each bucket, and first results are not held back by the bot-wide global limit', {
    timeout: 60_000,
  }, async () => {
    const discord = await startFakeDiscord()
    cleanup.push(() => discord.close())
    // Angles take 1-2 s; the synthesis 0.5 s.
    const openai = await startFakeOpenAI({
      handler: (body) => {
        const angle = /Angle: (.+?)\./.test(body.messages.at(-1)?.content ?? '')
        return { text: '- **idea**', latencyMs: angle ? 1_000 + Math.random() * 1_000 : 500 }
      },
    })
    cleanup.push(() => openai.close())
    const config = loadConfig({
      DISCORD_TOKEN: TOKEN,
      DISCORD_APP_ID: APP_ID,
      DISCORD_API_URL: discord.api,
      CHORUS_CONCURRENCY: '256',
      CHORUS_WORKER_RUNS: '400',
    })
    const model = new OpenAIModel({
      apiKey: 'sk-test',
      baseURL: openai.url,
      model: 'fake',
      timeoutMs: 30_000,
    })
    const bot = await Bot.create({ config, model, logger: pino({ level: 'silent' }) })
    const handle = await startDiscord(bot, config)
    cleanup.push(() => handle.stop())
    await discord.ready()

    const tokens = Array.from(
      { length: RUNS },
      (_, i) =>
        discord.command('brainstorm', [
          { name: 'topic', type: 3, value: `topic ${i}` },
          { name: 'angles', type: 4, value: 2 },
        ]).token,
    )
    const done = (t: string) => JSON.stringify(discord.original(t) ?? {}).includes('✅')
    await expect.poll(() => tokens.filter(done).length, { timeout: 45_000, interval: 200 }).toBe(RUNS)

    expect(discord.routeLimited()).toBe(0)
    const lags: number[] = []
    for (const token of tokens) {
      const calls = discord.callsFor(token)
      const deferredAt = calls.find((c) => c.path.endsWith('/callback'))?.at as number
      const edits = calls.filter((c) => c.method === 'PATCH' && c.status === 200)
      const first = edits.findIndex((c) => JSON.stringify(c.body).includes('⚡'))
      const final = edits.findIndex((c) => JSON.stringify(c.body).includes('✅'))
      // Every user sees the first result, then the final.
      expect(first).toBeGreaterThanOrEqual(0)
      expect(final).toBeGreaterThan(first)
      lags.push((edits[first]?.at as number) - deferredAt)
    }
    // The fastest angle answers 1-2 s after the command; its edit must follow within well under a
    // second even with 150 runs editing at once (with a 50/s client-side global limit: 8 s at p99).
    expect(quantile(lags, 0.99)).toBeLessThan(4_000)
  })
})
