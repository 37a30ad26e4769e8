import { LogLevel, SocketModeReceiver } from '@slack/bolt'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { startSlack } from '../../../adapters/slack/index.ts'
import { Bot, loadConfig } from '../../../src/bot/index.ts'
import { OpenAIModel } from '../../../src/llm/index.ts'
import { startFakeOpenAI } from '../../fakes/openai.ts'
import { APP_TOKEN, BOT_TOKEN, startFakeSlack } from '../../fakes/slack.ts'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

const RUNS = 200
/** Slack's Tier 3 at 60x speed: 50 calls per second per workspace and method. */
const TIER = { limit: 50, windowMs: 1_000 }
/** Chorus spends 90% of it: 45 a second. */
const WRITES_PER_MIN = String(45 * 60)

describe('200 concurrent Slack runs in one workspace against an enforced Tier 3', () => {
  it('stay inside it, and every user gets the first result and then the final', {
    timeout: 60_000,
  }, async () => {
    const slack = await startFakeSlack({ tier3: TIER })
    cleanup.push(() => slack.close())
    // Angles take 1-2 s (spread so first results do not all land at once); the synthesis 1 s.
    const openai = await startFakeOpenAI({
      handler: (body) => {
        const prompt = body.messages.at(-1)?.content ?? ''
        const angle = /Angle: (.+?)\./.test(prompt)
        return { text: '- **idea**', latencyMs: angle ? 1_000 + Math.random() * 1_000 : 1_000 }
      },
    })
    cleanup.push(() => openai.close())
    const config = loadConfig({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_API_URL: slack.apiUrl,
      CHORUS_SLACK_WRITES_PER_MIN: WRITES_PER_MIN,
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
    const receiver = new SocketModeReceiver({
      appToken: APP_TOKEN,
      logLevel: LogLevel.ERROR,
      installerOptions: { clientOptions: { slackApiUrl: slack.apiUrl } },
    })
    const handle = await startSlack(bot, config, { receiver, clientOptions: { retryConfig: { retries: 0 } } })
    cleanup.push(() => handle.stop())
    await slack.connected()

    await Promise.all(
      Array.from({ length: RUNS }, (_, i) =>
        slack.send('slash_commands', slack.slashPayload('/brainstorm', `topic ${i} --angles 2`)),
      ),
    )
    await expect
      .poll(() => slack.posted().filter((m) => m.text.includes('done')).length, {
        timeout: 45_000,
        interval: 200,
      })
      .toBe(RUNS)

    const writes = slack.calls.filter((c) => c.method === 'chat.update' || c.method === 'chat.postMessage')
    const limited = writes.filter((c) => c.rateLimited)
    expect(limited.length).toBeLessThanOrEqual(2)
    const posted = slack.posted()
    expect(posted).toHaveLength(RUNS)
    for (const message of posted) {
      const statuses = message.history.map((h) =>
        h.text.includes('done') ? 'done' : h.text.includes('first result') ? 'first' : 'working',
      )
      const first = statuses.indexOf('first')
      expect(first, JSON.stringify(statuses)).toBeGreaterThanOrEqual(0)
      expect(statuses.lastIndexOf('done')).toBe(statuses.length - 1)
      expect(first).toBeLessThan(statuses.length - 1)
    }
    // Under load the budget spends on finals and first results, not on progress.
    const updates = writes.filter((c) => c.method === 'chat.update' && !c.rateLimited).length
    expect(updates).toBeLessThan(RUNS * 4)
  })
})
