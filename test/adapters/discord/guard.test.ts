import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { guardInteractions, INCOMPLETE_TEXT } from '../../../adapters/discord/guard.ts'
import { startDiscord } from '../../../adapters/discord/index.ts'
import { Bot, loadConfig } from '../../../src/bot/index.ts'
import { OpenAIModel } from '../../../src/llm/index.ts'
import { APP_ID, type FakeDiscord, startFakeDiscord, TOKEN } from '../../fakes/discord.ts'
import { startFakeOpenAI } from '../../fakes/openai.ts'
import { watchEscapes } from '../escapes.ts'

const cleanup: Array<() => Promise<void>> = []
const escaped = watchEscapes()
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function setup() {
  const discord = await startFakeDiscord()
  cleanup.push(() => discord.close())
  const openai = await startFakeOpenAI({ handler: () => ({ text: '- **idea**' }) })
  cleanup.push(() => openai.close())
  const config = loadConfig({ DISCORD_TOKEN: TOKEN, DISCORD_APP_ID: APP_ID, DISCORD_API_URL: discord.api })
  const model = new OpenAIModel({ apiKey: 'sk-test', baseURL: openai.url, model: 'fake', timeoutMs: 10_000 })
  const lines: Array<Record<string, unknown>> = []
  const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) })
  const bot = await Bot.create({ config, model, logger: log })
  const handle = await startDiscord(bot, config)
  cleanup.push(() => handle.stop())
  // Twice, as startDiscord may already guard its client: the second call is a no-op.
  guardInteractions(handle.client, log)
  guardInteractions(handle.client, log)
  await discord.ready()
  return { discord, lines }
}

const embedText = (body: unknown) => JSON.stringify((body as { embeds?: unknown })?.embeds ?? [])

/** A normal /brainstorm is deferred and reaches its final result. */
async function answers(discord: FakeDiscord) {
  const { token } = discord.command('brainstorm', [
    { name: 'topic', type: 3, value: 'lunch' },
    { name: 'angles', type: 4, value: 2 },
  ])
  await expect.poll(() => discord.callsFor(token)[0]?.status, { timeout: 3_000 }).toBe(204)
  await expect.poll(() => embedText(discord.original(token)), { timeout: 5_000 }).toContain('✅')
}

type Mutate = (d: Record<string, unknown>) => void
const malformed: Array<[string, Mutate]> = [
  [
    'options that are not an array',
    (d) => {
      ;(d.data as Record<string, unknown>).options = { name: 'topic', type: 3, value: 'lunch' }
    },
  ],
  [
    'neither member nor user',
    (d) => {
      delete d.member
      delete d.user
    },
  ],
  ['no entitlements', (d) => delete d.entitlements],
  ['no authorizing_integration_owners', (d) => delete d.authorizing_integration_owners],
  ['no data', (d) => delete d.data],
]

describe('INTERACTION_CREATE frames that would throw inside discord.js', () => {
  it.each(malformed)(
    '%s: explained ephemerally, logged without the token, and the next command is answered',
    async (_, mutate) => {
      const { discord, lines } = await setup()
      const { id, token } = discord.rawInteraction(mutate)
      await answers(discord)
      expect(escaped).toEqual([])
      expect(discord.callsFor(token)).toEqual([
        expect.objectContaining({
          method: 'POST',
          path: `/interactions/${id}/${token}/callback`,
          status: 204,
          body: {
            type: 4,
            data: { content: INCOMPLETE_TEXT, flags: 64, allowed_mentions: { parse: [] } },
          },
        }),
      ])
      expect(lines.find((l) => l.msg === 'discord.interaction_malformed')).toMatchObject({ id, type: 2 })
      expect(JSON.stringify(lines)).not.toContain(token)
    },
  )

  it('logs a malformed frame without id and token, answers nothing for it, and keeps serving', async () => {
    const { discord, lines } = await setup()
    const { token } = discord.rawInteraction((d) => {
      delete d.id
      delete d.token
      delete d.data
    })
    await expect.poll(() => lines.some((l) => l.msg === 'discord.interaction_malformed')).toBe(true)
    await answers(discord)
    expect(escaped).toEqual([])
    expect(discord.calls.filter((c) => c.path.endsWith('/callback'))).toHaveLength(1)
    expect(discord.callsFor(token)).toHaveLength(0)
  })
})
