import { LogLevel, SocketModeReceiver } from '@slack/bolt'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { guardSocketMode, startSlack } from '../../../adapters/slack/index.ts'
import { Bot, loadConfig } from '../../../src/bot/index.ts'
import { OpenAIModel } from '../../../src/llm/index.ts'
import { startFakeOpenAI } from '../../fakes/openai.ts'
import {
  APP_TOKEN,
  BOT_TOKEN,
  type FakeSlack,
  type FakeSlackOptions,
  startFakeSlack,
} from '../../fakes/slack.ts'
import { watchEscapes } from '../escapes.ts'

const cleanup: Array<() => Promise<void>> = []
const escaped = watchEscapes()
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** Log lines at warn and above, parsed. */
function capture() {
  const lines: Array<Record<string, unknown>> = []
  const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) })
  return { log, lines }
}

async function setup(options: FakeSlackOptions = {}) {
  const slack = await startFakeSlack(options)
  cleanup.push(() => slack.close())
  const openai = await startFakeOpenAI({ handler: () => ({ text: '- **idea**' }) })
  cleanup.push(() => openai.close())
  const config = loadConfig({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: slack.apiUrl,
  })
  const model = new OpenAIModel({ apiKey: 'sk-test', baseURL: openai.url, model: 'fake', timeoutMs: 10_000 })
  const { log, lines } = capture()
  const bot = await Bot.create({ config, model, logger: log })
  // The client's defaults (5 s ping timeout, so a 5 s reconnect delay), as in production.
  const receiver = new SocketModeReceiver({
    appToken: APP_TOKEN,
    logLevel: LogLevel.ERROR,
    installerOptions: { clientOptions: { slackApiUrl: slack.apiUrl } },
  })
  // Twice, as a test receiver may be guarded here and again by the app: the second call is a no-op.
  guardSocketMode(receiver.client, log)
  guardSocketMode(receiver.client, log)
  const clientOptions = { retryConfig: { retries: 3, factor: 1, minTimeout: 10, maxTimeout: 50 } }
  const handle = await startSlack(bot, config, { receiver, clientOptions })
  cleanup.push(() => handle.stop())
  await slack.connected()
  return { slack, lines, stop: () => handle.stop() }
}

/** A normal command: acknowledged in time and answered to the end. */
async function answers(slack: FakeSlack, topic = 'lunch') {
  const before = slack.posted().length
  const ack = await slack.send('slash_commands', slack.slashPayload('/brainstorm', `${topic} --angles 2`))
  expect(ack.ms).toBeLessThan(3_000)
  await expect.poll(() => slack.posted()[before]?.text ?? '', { timeout: 5_000 }).toContain('done')
}

/** The longest stretch after `from` with no open Socket Mode connection. */
function longestGap(slack: FakeSlack, from: number): number {
  const until = slack.now()
  let gap = 0
  let covered = from
  for (const link of [...slack.links].sort((a, b) => a.openedAt - b.openedAt)) {
    const closed = link.closedAt ?? until
    if (closed < covered) continue
    gap = Math.max(gap, link.openedAt - covered)
    covered = Math.max(covered, closed)
  }
  return Math.max(gap, until - covered)
}

describe('Socket Mode frames that would throw inside @slack/socket-mode', () => {
  const malformed: Array<[string, (id: string) => unknown]> = [
    ['an events_api envelope without payload', (id) => ({ envelope_id: id, type: 'events_api' })],
    [
      'an events_api envelope whose payload has no event',
      (id) => ({
        envelope_id: id,
        type: 'events_api',
        accepts_response_payload: false,
        payload: { type: 'event_callback', team_id: 'T1', token: 'legacy-secret', event_id: 'Ev9' },
      }),
    ],
    ['a frame that is JSON null', () => null],
  ]

  it.each(malformed)(
    '%s is logged, acknowledged when it has an envelope id, and the next command is answered',
    async (_, frame) => {
      const { slack, lines } = await setup()
      const raw = frame('env-malformed')
      const ack = await slack.sendRaw(raw)
      if (raw === null) expect(ack).toBeUndefined()
      else expect(ack).toMatchObject({ envelopeId: 'env-malformed' })
      await answers(slack)
      expect(escaped).toEqual([])
      const warning = lines.find((l) => l.msg === 'slack.frame_malformed')
      expect(warning).toBeDefined()
      expect(String(warning?.frame)).toBe(
        raw === null ? 'null' : JSON.stringify(raw).replace('legacy-secret', '[redacted]'),
      )
      expect(JSON.stringify(lines)).not.toContain('legacy-secret')
      expect(slack.late).toEqual([])
    },
  )

  it('truncates the logged copy of a large malformed frame', async () => {
    const { slack, lines } = await setup()
    await slack.sendRaw({ envelope_id: 'env-big', type: 'events_api', payload: { junk: 'x'.repeat(50_000) } })
    await expect.poll(() => lines.find((l) => l.msg === 'slack.frame_malformed')).toBeDefined()
    const frame = String(lines.find((l) => l.msg === 'slack.frame_malformed')?.frame)
    expect(frame.length).toBeLessThanOrEqual(1_000)
    expect(frame.startsWith('{"envelope_id":"env-big"')).toBe(true)
    await answers(slack)
    expect(escaped).toEqual([])
  })
})

describe('Socket Mode disconnects', () => {
  it('acknowledges and answers a command sent right behind a warning, with no gap in the connection', async () => {
    const { slack } = await setup({ warningGraceMs: 2_000 })
    const warnedAt = slack.now()
    slack.disconnect('warning')
    await answers(slack, 'behind the warning')
    // The old socket is closed once its replacement is connected, before Slack would close it.
    await expect
      .poll(() => slack.links.filter((l) => l.closedAt === undefined).length, { timeout: 3_000 })
      .toBe(1)
    expect(slack.links).toHaveLength(2)
    expect(slack.links[0]?.closedAt ?? Number.POSITIVE_INFINITY).toBeLessThan(warnedAt + 2_000)
    expect(longestGap(slack, warnedAt)).toBeLessThan(1_000)
    await answers(slack, 'on the new socket')
    // One reconnect, not two loops: still one connection well after the old one's grace.
    await new Promise((r) => setTimeout(r, 2_500))
    expect(slack.links.filter((l) => l.closedAt === undefined)).toHaveLength(1)
    expect(slack.calls.filter((c) => c.method === 'apps.connections.open')).toHaveLength(2)
    expect(escaped).toEqual([])
  })

  it('reconnects at once after refresh_requested and keeps answering', async () => {
    const { slack } = await setup()
    const askedAt = slack.now()
    slack.disconnect('refresh_requested')
    await slack.connected()
    expect(longestGap(slack, askedAt)).toBeLessThan(1_000)
    await answers(slack)
    await new Promise((r) => setTimeout(r, 500))
    expect(slack.links.filter((l) => l.closedAt === undefined)).toHaveLength(1)
    expect(slack.calls.filter((c) => c.method === 'apps.connections.open')).toHaveLength(2)
    expect(escaped).toEqual([])
  })

  it.each<[string, FakeSlackOptions, (slack: FakeSlack) => Promise<unknown>]>([
    [
      'while the replacement is being asked for',
      { openDelayMs: 400 },
      (slack) =>
        expect.poll(() => slack.calls.filter((c) => c.method === 'apps.connections.open').length).toBe(2),
    ],
    [
      'while the replacement waits for hello',
      { helloDelayMs: 400 },
      (slack) => expect.poll(() => slack.links.length).toBe(2),
    ],
  ])('leaves no socket open when stopped %s', async (_, options, until) => {
    const { slack, lines, stop } = await setup(options)
    slack.disconnect('warning')
    await until(slack)
    await stop()
    await new Promise((r) => setTimeout(r, 1_500))
    expect(slack.links.filter((l) => l.closedAt === undefined)).toHaveLength(0)
    expect(lines.filter((l) => l.msg === 'slack.socket_replace_failed')).toEqual([])
    expect(escaped).toEqual([])
  })

  it('does not reconnect after link_disabled before the client would', async () => {
    const { slack } = await setup()
    slack.disconnect('link_disabled')
    await new Promise((r) => setTimeout(r, 1_000))
    expect(slack.calls.filter((c) => c.method === 'apps.connections.open')).toHaveLength(1)
    expect(slack.links.filter((l) => l.closedAt === undefined)).toHaveLength(0)
    expect(escaped).toEqual([])
  })
})
