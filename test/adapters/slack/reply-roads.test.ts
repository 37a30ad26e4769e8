/**
 * The two roads of a Slack reply, with the real @slack/bolt against the fake Slack at Slack's own
 * limits (Tier 3 per workspace and method, about one message a second per channel, 5 posts within
 * 30 minutes per response_url): a slash command answers through its own response_url while the
 * workspace's chat.update budget serves another live reply, and the bot token takes over once the
 * response_url is spent or expired.
 */
import { LogLevel, SocketModeReceiver } from '@slack/bolt'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { startSlack } from '../../../adapters/slack/index.ts'
import { Bot, loadConfig } from '../../../src/bot/index.ts'
import { OpenAIModel } from '../../../src/llm/index.ts'
import { type Handler, startFakeOpenAI } from '../../fakes/openai.ts'
import {
  APP_TOKEN,
  BOT_TOKEN,
  type FakeSlack,
  type FakeSlackOptions,
  type Message,
  startFakeSlack,
} from '../../fakes/slack.ts'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** Chorus in this process with its default budgets (45 chat.update a minute), over Socket Mode. */
async function setup(handler: Handler, options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const slack = await startFakeSlack(options)
  cleanup.push(() => slack.close())
  const openai = await startFakeOpenAI({ handler })
  cleanup.push(() => openai.close())
  const config = loadConfig({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_API_URL: slack.apiUrl,
    SLACK_APP_TOKEN: APP_TOKEN,
  })
  const model = new OpenAIModel({ apiKey: 'sk-test', baseURL: openai.url, model: 'fake', timeoutMs: 10_000 })
  const bot = await Bot.create({ config, model, logger: pino({ level: 'silent' }) })
  const receiver = new SocketModeReceiver({
    appToken: APP_TOKEN,
    logLevel: LogLevel.ERROR,
    installerOptions: { clientOptions: { slackApiUrl: slack.apiUrl } },
  })
  const clientOptions = { retryConfig: { retries: 3, factor: 1, minTimeout: 10, maxTimeout: 50 } }
  const handle = await startSlack(bot, config, { receiver, clientOptions })
  cleanup.push(() => handle.stop())
  await slack.connected()
  return slack
}

/** A model whose prompts naming `held` wait for `release()`; the rest stream their answer at once. */
function heldModel(held: string) {
  let release!: () => void
  const gate = new Promise<void>((r) => {
    release = r
  })
  const words = Array.from({ length: 12 }, (_, i) => `word${i}`).join(' ')
  const handler: Handler = async (body) => {
    const prompt = body.messages.at(-1)?.content ?? ''
    if (prompt.includes(held)) await gate
    const angle = /Angle: (.+?)\./.exec(prompt)?.[1]
    if (angle === undefined) return { text: '1. **Merged idea** ranked first' }
    return { text: `- **${angle} idea** ${words}`, latencyMs: 40, pieceIntervalMs: 30 }
  }
  return { handler, release: () => release() }
}

/** `@Chorus <text>` in `channel`, as Slack delivers an app_mention; the reply goes in its thread. */
async function mention(slack: FakeSlack, text: string, channel: string, ts: string): Promise<void> {
  await slack.send('events_api', {
    type: 'event_callback',
    team_id: 'T1',
    api_app_id: 'A1',
    event: { type: 'app_mention', user: 'U1', text: `<@UBOT> ${text}`, ts, channel, event_ts: ts },
    event_id: `Ev${ts}`,
    event_time: 1700000000,
    authorizations: [{ team_id: 'T1', user_id: 'UBOT', is_bot: true }],
  })
}

const blocksOf = (m: { blocks: unknown[] }): string => JSON.stringify(m.blocks)
/** The message as the fake holds it now. */
const now = (slack: FakeSlack, m: Message): Message => slack.messages.get(m.ts) as Message
const viaUrl = (slack: FakeSlack): Message[] => slack.posted().filter((m) => m.responseUrl !== undefined)
const updatedTs = (slack: FakeSlack): Set<string> =>
  new Set(slack.calls.filter((c) => c.method === 'chat.update').map((c) => String(c.args.ts)))

/** Makes the workspace busy: a mention whose reply (on the bot token) waits for the model. */
async function busyWorkspace(slack: FakeSlack, held: string): Promise<Message> {
  await mention(slack, `brainstorm ${held} --angles 2`, 'C0', '1699999999.000001')
  await expect.poll(() => slack.posted().length, { timeout: 5_000 }).toBe(1)
  return slack.posted()[0] as Message
}

describe('a busy workspace: slash commands answer through their own response_url', () => {
  it('each reply takes at most 5 posts with the end always landing, spends no chat.update, and a mention still answers on the bot token', async () => {
    const model = heldModel('held topic')
    const slack = await setup(model.handler)
    const held = await busyWorkspace(slack, 'held topic')
    expect(held.responseUrl).toBeUndefined()
    const n = 8
    for (let i = 0; i < n; i++) {
      const payload = slack.slashPayload('/brainstorm', `busy ${i} --angles 3`, { channel_id: `C${i + 1}` })
      await slack.send('slash_commands', payload)
    }
    await expect
      .poll(() => viaUrl(slack).filter((m) => m.text.endsWith(': done')).length, { timeout: 10_000 })
      .toBe(n)
    for (const reply of viaUrl(slack)) {
      const posts = slack.responses.filter((r) => r.id === reply.responseUrl)
      expect(posts.length).toBeLessThanOrEqual(5)
      expect(posts.every((r) => r.status === 200)).toBe(true)
      // One message per command, replaced in place: placeholder (with Stop), first result, the end.
      expect(reply.history.length).toBe(posts.length)
      expect(reply.history[0]?.text).toContain('working')
      expect(blocksOf(reply.history[0] ?? { blocks: [] })).toContain('chorus_stop')
      expect(reply.history.some((h) => h.text.endsWith(': first result'))).toBe(true)
      expect(blocksOf(reply)).toContain('*Merged idea* ranked first')
      expect(blocksOf(reply)).toContain('chorus_retry')
      expect(posts[0]?.body).toMatchObject({ response_type: 'in_channel', replace_original: false })
    }
    // The shared Tier 3 was spent on none of them.
    const updated = updatedTs(slack)
    for (const reply of viaUrl(slack)) expect(updated.has(reply.ts)).toBe(false)
    // The mention's reply is on the bot token, in its thread, and finishes with chat.update.
    model.release()
    await expect.poll(() => now(slack, held).text, { timeout: 10_000 }).toContain('done')
    expect(held.threadTs).toBe('1699999999.000001')
    expect(updatedTs(slack).has(held.ts)).toBe(true)
  })

  it('Stop works on a reply that lives on its response_url, and the stopped view takes its use', async () => {
    const model = heldModel('held')
    const slack = await setup(model.handler)
    await busyWorkspace(slack, 'held mention')
    await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'held command --angles 2'))
    await expect.poll(() => viaUrl(slack).length, { timeout: 5_000 }).toBe(1)
    const reply = viaUrl(slack)[0] as Message
    await slack.click(reply, 'chorus_stop', { id: 'U2', name: 'grace' })
    await expect.poll(() => now(slack, reply).text, { timeout: 5_000 }).toContain('stopped')
    expect(blocksOf(now(slack, reply))).toContain('Stopped by grace')
    const posts = slack.responses.filter((r) => r.id === reply.responseUrl)
    expect(posts.length).toBeLessThanOrEqual(5)
    expect(posts.at(-1)).toMatchObject({ status: 200, body: { replace_original: true } })
    model.release()
  })

  it('once the response_url stops taking posts, the bot token finds the message and finishes it with chat.update', async () => {
    const model = heldModel('held mention')
    // Slack's 30 minutes, shortened: the first result comes after the URL closed.
    const slack = await setup(
      async (body, request) => {
        const prompt = body.messages.at(-1)?.content ?? ''
        if (prompt.includes('slow topic')) await new Promise((r) => setTimeout(r, 1_200))
        return model.handler(body, request)
      },
      { responseUrlMs: 600 },
    )
    await busyWorkspace(slack, 'held mention')
    await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'slow topic --angles 2'))
    await expect.poll(() => viaUrl(slack).length, { timeout: 5_000 }).toBe(1)
    const reply = viaUrl(slack)[0] as Message
    await expect.poll(() => now(slack, reply).text, { timeout: 10_000 }).toContain('done')
    expect(slack.calls.some((c) => c.method === 'conversations.history')).toBe(true)
    expect(updatedTs(slack).has(reply.ts)).toBe(true)
    expect(now(slack, reply).history.some((h) => h.text.endsWith(': first result'))).toBe(true)
    // Still one message for the command: the reply was edited, not posted again.
    expect(slack.posted().filter((m) => m.text.startsWith('Brainstorm: slow topic'))).toHaveLength(1)
    const statuses = slack.responses.filter((r) => r.id === reply.responseUrl).map((r) => r.status)
    expect(statuses[0]).toBe(200)
    expect(statuses.slice(1).every((s) => s === 410)).toBe(true)
    model.release()
  })
})
