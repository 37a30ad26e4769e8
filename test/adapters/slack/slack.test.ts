import { LogLevel, SocketModeReceiver, verifySlackRequest } from '@slack/bolt'
import { WebClient } from '@slack/web-api'
import { type Logger, pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { slackManifest, slackMode, startSlack } from '../../../adapters/slack/index.ts'
import { Bot, type Config, loadConfig } from '../../../src/bot/index.ts'
import { OpenAIModel } from '../../../src/llm/index.ts'
import { type FakeOpenAI, type Handler, startFakeOpenAI } from '../../fakes/openai.ts'
import {
  APP_TOKEN,
  BOT_TOKEN,
  deliverCommand,
  type FakeSlack,
  SIGNING_SECRET,
  sign,
  startFakeSlack,
} from '../../fakes/slack.ts'

const silent = pino({ level: 'silent' })
const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

interface Setup {
  slack: FakeSlack
  openai: FakeOpenAI
  bot: Bot
  url?: string
}

async function setup(
  handler: Handler,
  mode: 'socket' | 'http' = 'socket',
  logger: Logger = silent,
): Promise<Setup> {
  const slack = await startFakeSlack()
  cleanup.push(() => slack.close())
  const openai = await startFakeOpenAI({ handler })
  cleanup.push(() => openai.close())
  const env: Record<string, string> = { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_API_URL: slack.apiUrl }
  if (mode === 'socket') env.SLACK_APP_TOKEN = APP_TOKEN
  else env.SLACK_SIGNING_SECRET = SIGNING_SECRET
  const config: Config = loadConfig(env)
  const model = new OpenAIModel({ apiKey: 'sk-test', baseURL: openai.url, model: 'fake', timeoutMs: 10_000 })
  const bot = await Bot.create({ config, model, logger })
  const clientOptions = { retryConfig: { retries: 3, factor: 1, minTimeout: 10, maxTimeout: 50 } }
  if (mode === 'socket') {
    const receiver = new SocketModeReceiver({
      appToken: APP_TOKEN,
      logLevel: LogLevel.ERROR,
      clientPingTimeout: 2_000,
      installerOptions: { clientOptions: { slackApiUrl: slack.apiUrl } },
    })
    const handle = await startSlack(bot, config, { receiver, clientOptions })
    cleanup.push(() => handle.stop())
    await slack.connected()
    return { slack, openai, bot }
  }
  const handle = await startSlack(bot, config, { clientOptions, listen: { port: 0, host: '127.0.0.1' } })
  cleanup.push(() => handle.stop())
  const address = handle.server?.address()
  if (address === null || typeof address !== 'object') throw new Error('no HTTP server')
  return { slack, openai, bot, url: `http://127.0.0.1:${address.port}/slack/events` }
}

/** Angles answer at once except Moonshot, which waits for `release`; the synthesis answers at once. */
function staggered() {
  let release!: () => void
  const gate = new Promise<void>((r) => {
    release = r
  })
  let moonshotAnswered = false
  const handler: Handler = async (body) => {
    const prompt = body.messages.at(-1)?.content ?? ''
    const angle = /Angle: (.+?)\./.exec(prompt)?.[1]
    if (angle === undefined) return { text: '1. **Merged idea** ranked first' }
    if (angle === 'Moonshot') {
      await gate
      moonshotAnswered = true
    }
    return { text: `- **${angle} idea**`, latencyMs: angle === 'User pain' ? 10 : 80 }
  }
  return { handler, release: () => release(), moonshotAnswered: () => moonshotAnswered }
}

const text = (blocks: unknown[]): string => JSON.stringify(blocks)

/** A button click on `message`, as Slack delivers it over Socket Mode. */
function click(
  slack: FakeSlack,
  message: { ts: string; text: string },
  actionId: string,
  value: string,
  responseUrl: string,
  user = 'grace',
) {
  return slack.send('interactive', slack.blockAction(message, { actionId, value }, { user, responseUrl }))
}

/** The value of the button `actionId` in a message's blocks. */
const buttonValue = (blocks: unknown[], actionId: string): string | undefined =>
  new RegExp(`"action_id":"${actionId}","value":"([^"]+)"`).exec(text(blocks))?.[1]
const only = (slack: FakeSlack) => {
  const posted = slack.posted()
  expect(posted).toHaveLength(1)
  return posted[0] as NonNullable<ReturnType<FakeSlack['posted']>[number]>
}

describe('Slack over Socket Mode, with the real @slack/bolt', () => {
  it('acks, posts a placeholder, shows the first idea before the slowest finished, then the combined result', async () => {
    const s = staggered()
    const { slack } = await setup(s.handler)
    const ack = await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'lunch ideas'))
    expect(ack.ms).toBeLessThan(3_000)
    await expect
      .poll(() => slack.posted()[0]?.history.some((h) => h.text.includes('first result')), { timeout: 5_000 })
      .toBe(true)
    expect(s.moonshotAnswered()).toBe(false)
    s.release()
    await expect.poll(() => only(slack).text, { timeout: 5_000 }).toContain('done')
    const history = only(slack).history
    expect(history[0]?.text).toContain('working')
    expect(text(history[0]?.blocks ?? [])).toContain('chorus_stop')
    const firstAt = history.findIndex((h) => h.text.includes('first result'))
    expect(text(history[firstAt]?.blocks ?? [])).toContain('User pain idea')
    expect(history.at(-1)?.text).toContain('done')
    expect(text(history.at(-1)?.blocks ?? [])).toContain('*Merged idea* ranked first')
    expect(text(history.at(-1)?.blocks ?? [])).not.toContain('chorus_stop')
    expect(history.map((h) => h.at)).toEqual([...history.map((h) => h.at)].sort((a, b) => a - b))
  })

  it('streams the leading branch as it is written, before any branch finished; then the first result, then the final', async () => {
    // Every angle writes for about 2 s, a piece every 100 ms; User pain starts writing first.
    const words = Array.from({ length: 24 }, (_, i) => `word${i}`).join(' ')
    const { slack, openai } = await setup((body) => {
      const prompt = body.messages.at(-1)?.content ?? ''
      const angle = /Angle: (.+?)\./.exec(prompt)?.[1]
      if (angle === undefined) return { text: '1. **Merged idea** ranked first' }
      return {
        text: `- **${angle} idea** ${words}`,
        latencyMs: angle === 'User pain' ? 20 : 600,
        pieceIntervalMs: 100,
      }
    })
    await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'lunch ideas'))
    await expect.poll(() => slack.posted()[0]?.text ?? '', { timeout: 10_000 }).toContain('done')
    const history = only(slack).history
    const streamed = history.filter((h) => text(h.blocks).includes('is writing'))
    expect(streamed.length).toBeGreaterThanOrEqual(2)
    // The first streamed text reached Slack before the fastest branch had finished writing.
    const toFake = performance.now() - slack.now()
    const fastest = Math.min(
      ...openai.requests.filter((r) => r.prompt.includes('Angle')).map((r) => r.finishedAt as number),
    )
    expect((streamed[0]?.at as number) + toFake).toBeLessThan(fastest)
    // Unfinished markdown is closed, so the half-written bold shows as bold, not as asterisks.
    expect(text(streamed[0]?.blocks ?? [])).toMatch(/• \*User[^*"]*\* ▍/)
    expect(text(streamed.at(-1)?.blocks ?? [])).toContain('User pain idea')
    expect(text(streamed[0]?.blocks ?? [])).not.toContain('word23')
    expect(text(streamed[0]?.blocks ?? [])).toMatch(/✎ angle-user-pain · writing/)
    // It grows, at most one edit a second; then the first result and the final replace it.
    const lengths = streamed.map((h) => text(h.blocks).length)
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b))
    for (let i = 1; i < streamed.length; i++)
      expect((streamed[i]?.at as number) - (streamed[i - 1]?.at as number)).toBeGreaterThan(900)
    const firstAt = history.findIndex((h) => h.text.includes('first result'))
    expect(firstAt).toBeGreaterThan(history.indexOf(streamed.at(-1) as (typeof history)[number]))
    expect(text(history[firstAt]?.blocks ?? [])).not.toContain('is writing')
    expect(history.at(-1)?.text).toContain('done')
    expect(slack.calls.filter((c) => c.rateLimited)).toHaveLength(0)
  })

  it('acks well inside 3 s even when the model takes 2 s', async () => {
    const { slack } = await setup((body) => ({
      text: '- **slow idea**',
      latencyMs: body.messages.at(-1)?.content.includes('Angle') ? 2_000 : 0,
    }))
    const ack = await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'lunch --angles 2'))
    expect(ack.ms).toBeLessThan(1_000)
    await expect.poll(() => slack.posted().length, { timeout: 1_000 }).toBe(1)
    await expect.poll(() => only(slack).text, { timeout: 6_000 }).toContain('done')
  })

  it('waits out a 429 on chat.update and still delivers every result', async () => {
    const { slack } = await setup(() => ({ text: '- **idea**', latencyMs: 20 }))
    slack.rateLimit('chat.update', 1)
    await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'lunch --angles 2'))
    await expect.poll(() => only(slack).text, { timeout: 8_000 }).toContain('done')
    const updates = slack.calls.filter((c) => c.method === 'chat.update')
    const limited = updates.findIndex((c) => c.rateLimited)
    expect(limited).toBeGreaterThanOrEqual(0)
    const retried = updates[limited + 1]
    expect(retried?.rateLimited).toBeUndefined()
    expect((retried?.at ?? 0) - (updates[limited]?.at ?? 0)).toBeGreaterThanOrEqual(900)
  })

  it('Stop aborts the in-flight model requests and says who stopped it', async () => {
    const { slack, openai } = await setup(() => ({ hang: true }))
    const payload = slack.slashPayload('/brainstorm', 'lunch --angles 3')
    await slack.send('slash_commands', payload)
    await openai.waitForRequests(3)
    await expect.poll(() => slack.posted().length).toBe(1)
    const message = only(slack)
    const runId = /"action_id":"chorus_stop","value":"([^"]+)"/.exec(text(message.blocks))?.[1]
    expect(runId).toBeDefined()
    await click(slack, message, 'chorus_stop', runId as string, payload.response_url as string)
    await expect.poll(() => openai.requests.every((r) => r.aborted), { timeout: 3_000 }).toBe(true)
    await expect.poll(() => only(slack).text).toContain('stopped')
    expect(text(only(slack).blocks)).toContain('Stopped by grace')
  })

  it('shows a line per branch for 8 branches within Block Kit limits: ✓ with time, ✗ with reason, … running, ⏹ after Stop', async () => {
    const { slack } = await setup((body) => {
      const angle = /Angle: (.+?)\./.exec(body.messages.at(-1)?.content ?? '')?.[1]
      if (angle === 'Moonshot') return { hang: true }
      if (angle === 'Contrarian') return { status: 400 }
      return { text: `- **${angle} idea**`, latencyMs: 10 }
    })
    const payload = slack.slashPayload('/brainstorm', 'lunch --angles 8')
    await slack.send('slash_commands', payload)
    const branchText = () => {
      const blocks = slack.posted()[0]?.blocks ?? []
      const lines = blocks.find((b) => text([b]).includes('angle-moonshot')) as
        | { elements: Array<{ text: string }> }
        | undefined
      return lines?.elements[0]?.text ?? ''
    }
    await expect
      .poll(
        () =>
          branchText()
            .split('\n')
            .filter((l) => l.startsWith('✓')).length,
        { timeout: 5_000 },
      )
      .toBe(6)
    const lines = branchText().split('\n')
    expect(lines).toHaveLength(8)
    expect(lines).toContain('✗ angle-contrarian · the model provider rejected the request')
    expect(lines).toContain('… angle-moonshot · running')
    expect(lines.find((l) => l.includes('angle-user-pain'))).toMatch(/^✓ angle-user-pain · \d+\.\d s$/)
    const message = only(slack)
    expect(message.blocks.length).toBeLessThanOrEqual(50)
    await click(
      slack,
      message,
      'chorus_stop',
      buttonValue(message.blocks, 'chorus_stop') as string,
      payload.response_url as string,
    )
    await expect.poll(() => only(slack).text, { timeout: 3_000 }).toContain('stopped')
    expect(branchText()).toContain('⏹ angle-moonshot · cancelled')
    expect(branchText()).toContain('✗ angle-contrarian')
    // Every version reached the fake, which rejects blocks past Block Kit's limits.
    expect(slack.calls.filter((c) => c.method.startsWith('chat.')).length).toBe(only(slack).history.length)
  })

  it('a final reply carries on: 👍 is logged with the run id, Again runs it anew, Refine opens a modal and answers in the thread', async () => {
    const logged: Array<Record<string, unknown>> = []
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) })
    const { slack, openai } = await setup(
      (body) => ({
        text: body.messages.at(-1)?.content.includes('Earlier answer') ? 'Shorter line' : 'Long line',
      }),
      'socket',
      logger,
    )
    const payload = slack.slashPayload('/brand', 'Acme')
    await slack.send('slash_commands', payload)
    await expect.poll(() => slack.posted()[0]?.text ?? '', { timeout: 5_000 }).toContain('done')
    const reply = only(slack)
    const runId = buttonValue(reply.blocks, 'chorus_retry') as string
    for (const id of ['chorus_refine', 'chorus_feedback_up', 'chorus_feedback_down'])
      expect(buttonValue(reply.blocks, id)).toBe(runId)
    expect(text(reply.blocks)).toContain('"text":"Again"')
    const responseUrl = payload.response_url as string

    await click(slack, reply, 'chorus_feedback_up', runId, responseUrl)
    await expect
      .poll(() => logged.find((l) => l.event === 'reply.feedback'))
      .toMatchObject({ runId, rating: 'up', by: 'grace' })
    await expect.poll(() => slack.responses.at(-1)?.body.text).toBe('Thanks, noted.')

    await click(slack, reply, 'chorus_retry', runId, responseUrl, 'carol')
    await expect.poll(() => slack.posted()[1]?.text ?? '', { timeout: 5_000 }).toContain('done')
    expect(text(slack.posted()[1]?.blocks ?? [])).toContain('Asked by carol')

    const calls = openai.requests.length
    await click(slack, reply, 'chorus_refine', runId, responseUrl, 'dan')
    await expect.poll(() => slack.views.size).toBe(1)
    const [viewId, view] = [...slack.views.entries()][0] as [string, Record<string, unknown>]
    expect(JSON.stringify(view)).toContain('What should change?')
    const submitted = await slack.submitView(viewId, { request: { request: 'make it shorter' } }, 'dan')
    expect(submitted.ms).toBeLessThan(3_000)
    await expect.poll(() => slack.posted()[2]?.text ?? '', { timeout: 5_000 }).toContain('done')
    const refined = slack.posted()[2] as NonNullable<ReturnType<FakeSlack['posted']>[number]>
    expect(refined.threadTs).toBe(reply.ts)
    expect(refined.blocks[0]).toMatchObject({ text: { text: 'Brand: Acme · refined: make it shorter' } })
    expect(text(refined.blocks)).toContain('Shorter line')
    expect(text(refined.blocks)).toContain('Asked by dan')
    const prompts = openai.requests.slice(calls).map((r) => r.body.messages.at(-1)?.content ?? '')
    expect(prompts.length).toBe(2)
    for (const prompt of prompts) {
      expect(prompt).toContain('*Slogan:* Long line')
      expect(prompt).toContain('What the user wants changed: make it shorter')
    }
  })

  it("an app mention in a Chorus reply's thread refines that reply there; elsewhere it explains", async () => {
    const { slack, openai } = await setup((body) => ({
      text: body.messages.at(-1)?.content.includes('Earlier answer') ? 'Shorter line' : 'Long line',
    }))
    await slack.send('slash_commands', slack.slashPayload('/brand', 'Acme'))
    await expect.poll(() => slack.posted()[0]?.text ?? '', { timeout: 5_000 }).toContain('done')
    const reply = only(slack)
    const mention = (text: string, threadTs: string, id: string) =>
      slack.send('events_api', {
        type: 'event_callback',
        team_id: 'T1',
        api_app_id: 'A1',
        event: {
          type: 'app_mention',
          user: 'U9',
          text,
          ts: `1700000099.00000${id}`,
          thread_ts: threadTs,
          channel: 'C1',
          event_ts: '1',
        },
        event_id: `Ev${id}`,
        event_time: 1700000000,
        authorizations: [{ team_id: 'T1', user_id: 'UBOT', is_bot: true }],
      })
    const calls = openai.requests.length
    await mention('<@UBOT> make it &lt;shorter&gt;', reply.ts, '1')
    await expect.poll(() => slack.posted()[1]?.text ?? '', { timeout: 5_000 }).toContain('done')
    const refined = slack.posted()[1] as NonNullable<ReturnType<FakeSlack['posted']>[number]>
    expect(refined.threadTs).toBe(reply.ts)
    expect(refined.blocks[0]).toMatchObject({ text: { text: 'Brand: Acme · refined: make it <shorter>' } })
    expect(text(refined.blocks)).toContain('Shorter line')
    expect(openai.requests.slice(calls).every((r) => JSON.stringify(r.body).includes('Long line'))).toBe(true)
    expect(slack.calls.some((c) => c.method === 'conversations.replies')).toBe(true)
    // A thread with no Chorus reply in it: the usage hint, nothing run.
    await mention('<@UBOT> make it shorter', '1600000000.000001', '2')
    await expect.poll(() => slack.ephemeral.length).toBe(1)
    expect(String(slack.ephemeral[0]?.args.text)).toContain('Try `@Chorus')
    expect(slack.posted()).toHaveLength(2)
  })

  it('the fake Slack takes a trigger_id for one views.open only', async () => {
    const { slack } = await setup(() => ({ text: 'x' }))
    const client = new WebClient(BOT_TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } })
    const view = {
      type: 'modal' as const,
      title: { type: 'plain_text' as const, text: 'T' },
      blocks: [{ type: 'divider' as const }],
    }
    await expect(client.views.open({ trigger_id: 'made.up', view })).rejects.toThrow(/invalid_trigger_id/)
    const trigger = slack.triggerId()
    await expect(client.views.open({ trigger_id: trigger, view })).resolves.toMatchObject({ ok: true })
    await expect(client.views.open({ trigger_id: trigger, view })).rejects.toThrow(/invalid_trigger_id/)
  })

  it('runs a redelivered command once', async () => {
    const { slack, openai } = await setup(() => ({ text: '- **idea**' }))
    const payload = slack.slashPayload('/brainstorm', 'lunch --angles 2')
    await slack.send('slash_commands', payload)
    await slack.send('slash_commands', payload, { retry_attempt: 1, retry_reason: 'timeout' })
    await expect.poll(() => slack.posted()[0]?.text ?? '', { timeout: 5_000 }).toContain('done')
    expect(slack.posted()).toHaveLength(1)
    expect(openai.requests).toHaveLength(3) // 2 angles + synthesis
  })

  it('posts hostile model output harmlessly', async () => {
    const hostile =
      'Ping <!channel> <!here> <!everyone> and <@U123>, *bold* & **strong** <https://evil.test|x>'
    const { slack } = await setup(() => ({ text: hostile }))
    await slack.send('slash_commands', slack.slashPayload('/brand', 'Acme'))
    await expect.poll(() => slack.posted()[0]?.text ?? '', { timeout: 5_000 }).toContain('done')
    const posted = slack.calls.filter((c) => c.method.startsWith('chat.')).map((c) => JSON.stringify(c.args))
    for (const body of posted) {
      expect(body).not.toMatch(/<[!@]/)
      expect(body).not.toContain('<https://evil')
    }
    expect(text(only(slack).blocks)).toContain('&lt;!channel&gt;')
    expect(text(only(slack).blocks)).toContain('&amp;')
  })

  it('shows the real target of a model link whose text names another site', async () => {
    const { slack } = await setup(() => ({
      text: 'Log in at [https://bank.example/login](https://evil.test/x) or [bank.example](https://bank.example.evil.test/) — [the docs](https://docs.example/a)',
    }))
    await slack.send('slash_commands', slack.slashPayload('/brand', 'Acme'))
    await expect.poll(() => slack.posted()[0]?.text ?? '', { timeout: 5_000 }).toContain('done')
    const updates = slack.calls.filter((c) => c.method.startsWith('chat.')).map((c) => JSON.stringify(c.args))
    for (const body of updates) {
      expect(body).not.toMatch(/\|https:\/\/bank\.example|\|bank\.example/)
    }
    const final = text(only(slack).blocks)
    expect(final).toContain('<https://evil.test/x>')
    expect(final).toContain('<https://bank.example.evil.test/>')
    expect(final).toContain('<https://docs.example/a|the docs>')
  })

  it("shows the user's topic as typed: Slack's &amp; &lt; &gt; decoded once, *x* kept", async () => {
    const { slack, openai } = await setup(() => ({ text: '- **idea**' }))
    // Slack sends `R&D <b> *x*` typed by the user like this.
    await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'R&amp;D &lt;b&gt; *x* --angles 2'))
    await expect.poll(() => slack.posted()[0]?.text ?? '', { timeout: 5_000 }).toContain('done')
    expect(openai.requests.some((r) => JSON.stringify(r.body).includes('R&D <b> *x*'))).toBe(true)
    const message = only(slack)
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Brainstorm: R&D <b> *x*' },
    })
    expect(message.text).toBe('Brainstorm: R&amp;D &lt;b&gt; *x*: done')
    expect(JSON.stringify(slack.calls.map((c) => c.args))).not.toContain('&amp;amp;')
  })

  it('answers bad input with an ephemeral usage message and runs nothing', async () => {
    const { slack, openai } = await setup(() => ({ text: 'x' }))
    const empty = await slack.send('slash_commands', slack.slashPayload('/brainstorm', '  '))
    expect(empty.payload).toEqual({
      response_type: 'ephemeral',
      text: 'Please give the topic.\nUsage: `/brainstorm <topic> [--angles 1-8]`',
    })
    const options = await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'x --angles 99'))
    expect((options.payload as { text: string }).text).toMatch(/^--angles must be a whole number from 1 to 8/)
    const long = await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'x'.repeat(600)))
    expect((long.payload as { text: string }).text).toMatch(/^The topic is 600 characters; the most is 500/)
    await new Promise((r) => setTimeout(r, 100))
    expect(slack.posted()).toHaveLength(0)
    expect(openai.requests).toHaveLength(0)
  })

  it('reconnects after Slack asks for a refresh and keeps answering', async () => {
    const { slack } = await setup(() => ({ text: '- **idea**' }))
    const opened = () => slack.calls.filter((c) => c.method === 'apps.connections.open').length
    expect(opened()).toBe(1)
    slack.disconnect('refresh_requested')
    await expect.poll(opened, { timeout: 5_000 }).toBe(2)
    await slack.connected()
    await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'lunch --angles 2'))
    await expect.poll(() => slack.posted()[0]?.text ?? '', { timeout: 5_000 }).toContain('done')
  })

  it('answers an app mention in its thread', async () => {
    const { slack } = await setup(() => ({ text: '- **idea**' }))
    const event = {
      type: 'app_mention',
      user: 'U1',
      text: '<@UBOT> brainstorm lunch --angles 2',
      ts: '1700000000.999999',
      channel: 'C1',
      event_ts: '1700000000.999999',
    }
    await slack.send('events_api', {
      type: 'event_callback',
      team_id: 'T1',
      api_app_id: 'A1',
      event,
      event_id: 'Ev1',
      event_time: 1700000000,
      authorizations: [{ team_id: 'T1', user_id: 'UBOT', is_bot: true }],
    })
    await expect.poll(() => slack.posted()[0]?.text ?? '', { timeout: 5_000 }).toContain('done')
    expect(only(slack).threadTs).toBe('1700000000.999999')
  })

  it('falls back to the response_url where the bot may not post', async () => {
    const { slack } = await setup(() => ({ text: '- **idea**', latencyMs: 10 }))
    await slack.send(
      'slash_commands',
      slack.slashPayload('/brainstorm', 'lunch --angles 2', { channel_id: 'CPRIVATE' }),
    )
    await expect.poll(() => slack.responses.at(-1)?.body.text ?? '', { timeout: 5_000 }).toContain('done')
    expect(slack.responses.length).toBeLessThanOrEqual(5)
    expect(slack.responses.every((r) => r.status === 200)).toBe(true)
    expect(slack.responses[0]?.body).toMatchObject({ response_type: 'in_channel', replace_original: false })
  })
})

describe('Slack failures reach the user', () => {
  it('explains ephemerally when the reply cannot be posted at all', async () => {
    const { slack } = await setup(() => ({ text: '- **idea**' }))
    await slack.send(
      'slash_commands',
      slack.slashPayload('/brainstorm', 'lunch --angles 2', { channel_id: 'CARCHIVED' }),
    )
    await expect
      .poll(() => slack.responses[0]?.body, { timeout: 5_000 })
      .toEqual({
        response_type: 'ephemeral',
        replace_original: false,
        text: 'Chorus could not post its reply here (is_archived); the details are in its log.',
      })
  })
})

describe('Slack over HTTP, with the real @slack/bolt', () => {
  it('the fake signs as Slack documents; bolt accepts the documented example', () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c'
    const signature = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503'
    expect(sign(SIGNING_SECRET, 1531420618, body)).toBe(signature)
    expect(() =>
      verifySlackRequest({
        signingSecret: SIGNING_SECRET,
        body,
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': 1531420618 },
        nowMilliseconds: 1531420618_000,
      }),
    ).not.toThrow()
  })

  it('runs a correctly signed command', async () => {
    const { slack, url } = await setup(() => ({ text: '- **idea**' }), 'http')
    const res = await deliverCommand(url as string, slack.slashPayload('/brainstorm', 'lunch --angles 2'))
    expect(res.status).toBe(200)
    expect(res.ms).toBeLessThan(3_000)
    await expect.poll(() => slack.posted()[0]?.text ?? '', { timeout: 5_000 }).toContain('done')
  })

  it('rejects a wrong signature, a missing header and a stale timestamp with 401, running nothing', async () => {
    const { slack, openai, url } = await setup(() => ({ text: 'x' }), 'http')
    const fields = () => slack.slashPayload('/brainstorm', 'lunch')
    expect((await deliverCommand(url as string, fields(), { signature: 'v0=deadbeef' })).status).toBe(401)
    expect((await deliverCommand(url as string, fields(), { secret: 'not-the-secret' })).status).toBe(401)
    expect((await deliverCommand(url as string, fields(), { omitHeaders: true })).status).toBe(401)
    const stale = Math.floor(Date.now() / 1000) - 6 * 60
    expect((await deliverCommand(url as string, fields(), { timestamp: stale })).status).toBe(401)
    await new Promise((r) => setTimeout(r, 100))
    expect(slack.posted()).toHaveLength(0)
    expect(openai.requests).toHaveLength(0)
  })
})

describe('Slack configuration and manifest', () => {
  it('stops start-up with what to fix', () => {
    expect(() => slackMode(loadConfig({ SLACK_BOT_TOKEN: 'xoxp-user', SLACK_APP_TOKEN: APP_TOKEN }))).toThrow(
      /must start with "xoxb-"/,
    )
    expect(() =>
      slackMode(loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: 'xoxb-wrong' })),
    ).toThrow(
      /SLACK_APP_TOKEN must start with "xapp-"; create one under Basic Information → App-Level Tokens/,
    )
    expect(() => slackMode(loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN }))).toThrow(
      /Set SLACK_APP_TOKEN .* or SLACK_SIGNING_SECRET/,
    )
    expect(slackMode(loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: 's' })).kind).toBe('http')
  })

  it('lists one slash command per flow, the scopes and Socket Mode', async () => {
    const bot = await Bot.create({ config: loadConfig({}), logger: silent })
    const yaml = slackManifest(bot.commands)
    for (const c of bot.commands) expect(yaml).toContain(`    - command: /${c.name}\n`)
    for (const scope of ['commands', 'chat:write', 'app_mentions:read'])
      expect(yaml).toContain(`      - ${scope} `)
    expect(yaml).toContain('  socket_mode_enabled: true')
    expect(yaml).toContain('      - app_mention')
  })
})
