import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { Bot, loadConfig, type ReplyView } from '../../src/bot/index.ts'
import { OpenAIModel } from '../../src/llm/index.ts'
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai.ts'

let fake: FakeOpenAI | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

describe('a hung model call', () => {
  it('with one of five brainstorm calls hanging, the final answer reaches the user within about 30 s', async () => {
    fake = await startFakeOpenAI({
      handler: (body) => {
        const prompt = body.messages.at(-1)?.content ?? ''
        if (prompt.includes('Angle: Moonshot')) return { hang: true }
        return { text: prompt.includes('Angle:') ? '- **idea**: one' : '1. **Ranked** idea', latencyMs: 20 }
      },
    })
    // The SDK's default 60 s request timeout, and the bot's own defaults: nothing shortened for the test.
    const model = new OpenAIModel({ apiKey: 'sk-test', baseURL: fake.url, model: 'fake' })
    const bot = await Bot.create({ config: loadConfig({}), model, logger: pino({ level: 'silent' }) })
    const command = bot.command('brainstorm')
    if (command === undefined) throw new Error('no brainstorm')
    const views: Array<ReplyView & { at: number }> = []
    const t0 = performance.now()
    const run = bot.start({
      command,
      input: { topic: 'lunch', angles: 5 },
      user: 'U1',
      platform: 'console',
      minIntervalMs: 0,
      sink: { show: async (v) => void views.push({ ...v, at: performance.now() - t0 }) },
    })
    const result = await run.done
    const final = views.at(-1)
    expect(result.status).toBe('completed')
    expect(final?.status).toBe('final')
    expect(final?.at).toBeLessThan(30_000)
    expect(final?.final?.markdown).toContain('4 of 5 angles answered')
    expect(final?.failures).toEqual([{ step: 'angle-moonshot', message: 'the model took too long' }])
    // The straggler's request was closed, not left running behind the answer.
    await expect.poll(() => fake?.requests.find((r) => r.prompt.includes('Moonshot'))?.aborted).toBe(true)
  }, 45_000)
})
