import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { INACTIVE_COMPONENT, startDiscord } from '../../../adapters/discord/index.ts'
import { Bot, loadConfig } from '../../../src/bot/index.ts'
import { OpenAIModel } from '../../../src/llm/index.ts'
import { APP_ID, type FakeDiscord, startFakeDiscord, TOKEN } from '../../fakes/discord.ts'
import { type FakeOpenAI, startFakeOpenAI } from '../../fakes/openai.ts'

const silent = pino({ level: 'silent' })
const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function setup(env: Record<string, string>): Promise<{ discord: FakeDiscord; openai: FakeOpenAI }> {
  const discord = await startFakeDiscord()
  cleanup.push(() => discord.close())
  const openai = await startFakeOpenAI({ handler: () => ({ text: '- **idea**' }) })
  cleanup.push(() => openai.close())
  const config = loadConfig({
    DISCORD_TOKEN: TOKEN,
    DISCORD_APP_ID: APP_ID,
    DISCORD_API_URL: discord.api,
    ...env,
  })
  const model = new OpenAIModel({ apiKey: 'sk-test', baseURL: openai.url, model: 'fake', timeoutMs: 10_000 })
  const bot = await Bot.create({ config, model, logger: silent })
  const handle = await startDiscord(bot, config)
  cleanup.push(() => handle.stop())
  await discord.ready()
  return { discord, openai }
}

const brand = (value: string) => [{ name: 'brand', type: 3, value }]
const embedText = (body: unknown) => JSON.stringify((body as { embeds?: unknown })?.embeds ?? [])
const isFinal = (discord: FakeDiscord, token: string) => embedText(discord.original(token)).includes('✅')

describe('Discord limits and budgets, end to end', () => {
  it('answers the 11th command in an hour ephemerally with when to try again, and calls no model', async () => {
    const { discord, openai } = await setup({ CHORUS_USER_LIMIT: '10/1h' })
    const tokens = Array.from({ length: 10 }, (_, i) => discord.command('brand', brand(`Acme ${i}`)).token)
    for (const token of tokens)
      await expect.poll(() => isFinal(discord, token), { timeout: 8_000 }).toBe(true)
    const calls = openai.requests.length
    const { token } = discord.command('brand', brand('Acme 11'))
    await expect.poll(() => discord.callsFor(token)[0]?.status, { timeout: 3_000 }).toBe(204)
    const answer = discord.callsFor(token)[0]?.body as {
      type: number
      data: { content: string; flags: number }
    }
    expect(answer.type).toBe(4)
    expect(answer.data.flags & 64).toBe(64)
    expect(answer.data.content).toContain('You have reached your limit of 10 commands in 1 hour')
    expect(answer.data.content).toMatch(/\(in (59|60) minutes\)/)
    await new Promise((r) => setTimeout(r, 200))
    expect(openai.requests).toHaveLength(calls)
    // The usage line is in the footer of a finished run.
    expect(embedText(discord.original(tokens[0] as string))).toMatch(/fake · \d calls · [\d,]+ tokens/)
  })

  it('counts the channel limit per guild', async () => {
    const { discord } = await setup({ CHORUS_CHANNEL_LIMIT: '1/1d' })
    const first = discord.command('brand', brand('Acme'), 'alice')
    await expect.poll(() => isFinal(discord, first.token), { timeout: 5_000 }).toBe(true)
    const { token } = discord.command('brand', brand('Acme'), 'bob')
    await expect.poll(() => discord.callsFor(token)[0]?.status, { timeout: 3_000 }).toBe(204)
    expect(JSON.stringify(discord.callsFor(token)[0]?.body)).toContain(
      'This server has reached its limit of 1 command in 1 day',
    )
  })
})

describe('Discord protocol gaps', () => {
  it('answers an autocomplete interaction with matching choices (none here)', async () => {
    const { discord } = await setup({})
    const { token } = discord.autocomplete('brainstorm', { name: 'topic', type: 3, value: 'lu' })
    await expect.poll(() => discord.callsFor(token)[0]?.status, { timeout: 3_000 }).toBe(204)
    expect(discord.callsFor(token)[0]?.body).toEqual({ type: 8, data: { choices: [] } })
  })

  it('answers a click on a component it does not know: this button is no longer active', async () => {
    const { discord } = await setup({})
    const run = discord.command('brand', brand('Acme'))
    await expect.poll(() => isFinal(discord, run.token), { timeout: 5_000 }).toBe(true)
    const { token } = discord.click('chorus:old-feature:1', discord.originalId(run.token) as string)
    await expect.poll(() => discord.callsFor(token)[0]?.status, { timeout: 3_000 }).toBe(204)
    const answer = discord.callsFor(token)[0]?.body as {
      type: number
      data: { content: string; flags: number }
    }
    expect(answer).toMatchObject({ type: 4, data: { content: INACTIVE_COMPONENT, flags: 64 } })
  })
})
