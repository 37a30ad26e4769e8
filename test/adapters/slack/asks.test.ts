import { fileURLToPath } from 'node:url'
import { App, LogLevel, SocketModeReceiver } from '@slack/bolt'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { slackPlatform, slackWebClient, startSlack } from '../../../adapters/slack/index.ts'
import { SlackQuestions } from '../../../adapters/slack/questions.ts'
import { Bot, CannotAskError, type Config, loadConfig, type QuestionView } from '../../../src/bot/index.ts'
import { DemoModel } from '../../../src/llm/index.ts'
import {
  APP_TOKEN,
  BOT_TOKEN,
  deliverCommand,
  FAST_TIER,
  FAST_WRITES_PER_MIN,
  type FakeSlack,
  FormRefused,
  type Message,
  SIGNING_SECRET,
  type SlackUser,
  startFakeSlack,
  type Via,
} from '../../fakes/slack.ts'

const silent = pino({ level: 'silent' })
const FIXTURES = fileURLToPath(new URL('./fixtures/flows/', import.meta.url))
const ADA: SlackUser = { id: 'U1', name: 'ada' }
const GRACE: SlackUser = { id: 'U2', name: 'grace' }
const CAROL: SlackUser = { id: 'U3', name: 'carol' }
const DAN: SlackUser = { id: 'U4', name: 'dan' }
const ERIN: SlackUser = { id: 'U5', name: 'erin' }

const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

interface Setup {
  slack: FakeSlack
  bot: Bot
  config: Config
  via: Via
}

/** The real bolt App against the fake Slack, in either mode, with the test flows and a quick demo model. */
async function setup(
  mode: 'socket' | 'http',
  flowsDir: string = FIXTURES,
  fake: { responseUrlMs?: number } = {},
): Promise<Setup> {
  const slack = await startFakeSlack({ tier3: FAST_TIER, ...fake })
  cleanup.push(() => slack.close())
  const env: Record<string, string> = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_API_URL: slack.apiUrl,
    CHORUS_SLACK_WRITES_PER_MIN: FAST_WRITES_PER_MIN,
  }
  if (mode === 'socket') env.SLACK_APP_TOKEN = APP_TOKEN
  else env.SLACK_SIGNING_SECRET = SIGNING_SECRET
  const config = loadConfig(env)
  const model = new DemoModel({ latency: { minMs: 5, maxMs: 20 } })
  const bot = await Bot.create({ config, model, logger: silent, flowsDir })
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
    cleanup.push(() => bot.shutdown(0))
    await slack.connected()
    return { slack, bot, config, via: 'socket' }
  }
  const handle = await startSlack(bot, config, { clientOptions, listen: { port: 0, host: '127.0.0.1' } })
  cleanup.push(() => handle.stop())
  cleanup.push(() => bot.shutdown(0))
  const address = handle.server?.address()
  if (address === null || typeof address !== 'object') throw new Error('no HTTP server')
  return { slack, bot, config, via: { url: `http://127.0.0.1:${address.port}/slack/events` } }
}

/** Runs a slash command as ada (U1) over the setup's transport. */
async function command(s: Setup, name: string, text: string, overrides: Record<string, string> = {}) {
  const payload = s.slack.slashPayload(`/${name}`, text, overrides)
  if (s.via === 'socket') await s.slack.send('slash_commands', payload)
  else expect((await deliverCommand(s.via.url, payload)).status).toBe(200)
  return payload
}

const json = (x: unknown): string => JSON.stringify(x)
const isQuestion = (m: Message): boolean => m.history[0]?.text.startsWith('Question:') === true

/** The question message, once posted (the live object: it follows every edit). */
async function questionIn(slack: FakeSlack): Promise<Message> {
  await expect.poll(() => slack.posted().some(isQuestion), { timeout: 5_000 }).toBe(true)
  return slack.posted().find(isQuestion) as Message
}

/** The run's reply message (the first one that is not a question). */
const replyIn = (slack: FakeSlack): Message | undefined => slack.posted().find((m) => !isQuestion(m))

const hasControls = (m: Message): boolean => m.blocks.some((b) => (b as { type: string }).type === 'actions')

/** Waits for the reply to be final and returns its blocks as text. */
async function finalReply(slack: FakeSlack): Promise<string> {
  await expect.poll(() => replyIn(slack)?.text ?? '', { timeout: 5_000 }).toMatch(/: (done|failed)$/)
  return json(replyIn(slack)?.blocks)
}

describe.each(['socket', 'http'] as const)(
  'questions on Slack over %s, with the real @slack/bolt',
  (mode) => {
    it('a button answer by the requester decides: the question loses its buttons and the reply shows the answer', async () => {
      const s = await setup(mode)
      await command(s, 'confirm', 'lunch')
      const q = await questionIn(s.slack)
      expect(json(q.blocks)).toContain('For <@U1> to answer.')
      // The flow's prompt tried to ping the channel.
      expect(json(q.blocks)).toContain('Go ahead with _lunch_? &lt;!channel&gt;')
      expect(hasControls(q)).toBe(true)
      const clicked = await s.slack.click(q, 'chorus_answer_0', ADA, { via: s.via })
      expect(clicked.ms).toBeLessThan(3_000)
      await expect.poll(() => hasControls(q), { timeout: 5_000 }).toBe(false)
      expect(json(q.blocks)).toContain(':white_check_mark: Decided: *Yes*, by ada.')
      expect(await finalReply(s.slack)).toContain('Answer: yes by ada')
      expect(s.slack.notes(ADA.id)).toEqual([])
    })

    it("someone else's click is told who may answer, privately, and changes nothing", async () => {
      const s = await setup(mode)
      await command(s, 'confirm', 'lunch')
      const q = await questionIn(s.slack)
      await s.slack.click(q, 'chorus_answer_1', GRACE, { via: s.via })
      await expect
        .poll(() => s.slack.notes(GRACE.id), { timeout: 5_000 })
        .toEqual(['Only <@U1> can answer this.'])
      expect(q.history).toHaveLength(1)
      expect(hasControls(q)).toBe(true)
      expect(replyIn(s.slack)?.text).not.toMatch(/done$/)
      await s.slack.click(q, 'chorus_answer_1', ADA, { via: s.via })
      expect(await finalReply(s.slack)).toContain('Answer: no by ada')
    })

    it('a vote of anyone: counted votes are told so, a changed vote moves the tally, the 3rd agreeing vote decides, a late click hears who decided', async () => {
      const s = await setup(mode)
      await command(s, 'poll', 'ship friday')
      const q = await questionIn(s.slack)
      expect(json(q.blocks)).toContain(
        'Anyone here can answer. · Closes when 3 agree, or at the deadline. · 0 answered',
      )
      // One at a time, as people click: each waits for its own answer to be taken.
      const vote = async (user: SlackUser, choice: number): Promise<void> => {
        const edits = q.history.length
        await s.slack.click(q, `chorus_answer_${choice}`, user, { via: s.via })
        await expect.poll(() => q.history.length, { timeout: 5_000 }).toBeGreaterThan(edits)
      }
      await vote(ADA, 0)
      await expect
        .poll(() => s.slack.notes(ADA.id))
        .toEqual(['Your vote for Yes is counted; you can change it until the vote closes.'])
      await vote(GRACE, 1)
      await vote(CAROL, 1)
      await vote(CAROL, 0)
      expect(json(q.blocks)).toMatch(/\*Yes\* 2\\n`[█░]{5}` \*No\* 1/)
      expect(json(q.blocks)).toContain('· 3 answered ·')
      expect(hasControls(q)).toBe(true)
      const before = [...q.blocks]
      await vote(DAN, 0)
      expect(hasControls(q)).toBe(false)
      expect(json(q.blocks)).toMatch(/\*Yes\* 3\\n`[█░]{5}` \*No\* 1/)
      expect(json(q.blocks)).toContain('Decided: *Yes* (3 of 4 votes), by dan.')
      expect(await finalReply(s.slack)).toContain('Result: yes (agreed; Yes 3, No 1)')
      // Erin's client still showed the buttons when she clicked.
      await s.slack.click(q, 'chorus_answer_1', ERIN, { via: s.via, seen: before })
      await expect.poll(() => s.slack.notes(ERIN.id), { timeout: 5_000 }).toEqual(['Already decided by dan.'])
      expect(hasControls(q)).toBe(false)
    })

    it('a form question opens a modal for the requester only; an invalid answer keeps it open with a reason, a valid one decides', async () => {
      const s = await setup(mode)
      await command(s, 'ticket', 'the outage')
      const q = await questionIn(s.slack)
      await s.slack.click(q, 'chorus_answer_form', GRACE, { via: s.via })
      await expect
        .poll(() => s.slack.notes(GRACE.id), { timeout: 5_000 })
        .toEqual(['Only <@U1> can answer this.'])
      expect(s.slack.views.size).toBe(0)
      await s.slack.click(q, 'chorus_answer_form', ADA, { via: s.via })
      await expect.poll(() => s.slack.views.size, { timeout: 5_000 }).toBe(1)
      const [viewId, modal] = [...s.slack.views.entries()][0] as [string, Record<string, unknown>]
      expect(json(modal)).toContain('Ticket code')
      // Slack's own client will not send a required field empty.
      await expect(s.slack.submit(viewId, { note: 'hi' }, { via: s.via })).rejects.toBeInstanceOf(FormRefused)
      const invalid = await s.slack.submit(viewId, { code: 'abc' }, { via: s.via })
      expect(invalid.result).toBe('errors')
      expect(invalid.errors).toEqual({ code: 'Use a code like ABC-123' })
      expect(invalid.ms).toBeLessThan(3_000)
      expect(s.slack.views.has(viewId)).toBe(true)
      expect(hasControls(q)).toBe(true)
      const valid = await s.slack.submit(viewId, { code: 'ABC-123', note: 'urgent' }, { via: s.via })
      expect(valid.result).toBe('closed')
      await expect.poll(() => hasControls(q), { timeout: 5_000 }).toBe(false)
      expect(json(q.blocks)).toContain('Answered by ada.')
      expect(await finalReply(s.slack)).toContain('Ticket ABC-123 (urgent)')
      expect(s.slack.modalErrors).toEqual([])
    })

    it('more than 5 choices come as a select, and picking one answers', async () => {
      const s = await setup(mode)
      await command(s, 'pick', 'colour')
      const q = await questionIn(s.slack)
      expect(json(q.blocks)).toContain('"type":"static_select"')
      expect(json(q.blocks)).not.toContain('chorus_answer_0')
      await s.slack.pick(q, 'chorus_answer_select', 'Option F', ADA, { via: s.via })
      await expect.poll(() => hasControls(q), { timeout: 5_000 }).toBe(false)
      expect(json(q.blocks)).toContain('Decided: *Option F*, by ada.')
      expect(await finalReply(s.slack)).toContain('Picked f')
    })
  },
)

/** A yes/no question for anyone, open for a minute. */
function vote(): QuestionView {
  return {
    runId: 'r1',
    key: 'k1',
    prompt: 'Ship?',
    who: { kind: 'anyone' },
    choices: [
      { value: 'yes', label: 'Yes', count: 0 },
      { value: 'no', label: 'No', count: 0 },
    ],
    form: undefined,
    collect: undefined,
    answered: 0,
    deadlineAt: Date.now() + 60_000,
    state: 'open',
  }
}

describe('questions on Slack: where Chorus cannot post, and its platform hooks', () => {
  it('a channel the bot is not in: the run ends saying how to invite it, and no question is posted', async () => {
    const s = await setup('socket')
    await command(s, 'confirm', 'lunch', { channel_id: 'CPRIVATE' })
    await expect
      .poll(() => json(s.slack.responses.map((r) => r.body)), { timeout: 5_000 })
      .toContain("Chorus can't post a question in this channel: invite it with /invite @Chorus")
    // Nothing posted with the bot token: the only message is the reply, through the response_url.
    expect(s.slack.posted().filter((m) => m.responseUrl === undefined)).toEqual([])
  })

  it('posts with the bot token, refuses a reply that only has its response_url, and waits out one 429 on an edit', async () => {
    const slack = await startFakeSlack()
    cleanup.push(() => slack.close())
    const config = loadConfig({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: slack.apiUrl,
      SLACK_APP_TOKEN: APP_TOKEN,
    })
    const platform = slackPlatform(slackWebClient(config), 50)
    const view = vote()
    const ctx = { log: silent }
    const target = { platform: 'slack', channel: 'C1', threadTs: '1700000000.000001' } as const
    const where = (await platform.postQuestion?.(target, view, ctx)) as { channel: string; ts: string }
    expect(where.channel).toBe('C1')
    expect(slack.messages.get(where.ts)?.threadTs).toBe('1700000000.000001')
    expect(slack.calls.find((c) => c.method === 'chat.postMessage')?.token).toBe(BOT_TOKEN)

    const viaUrl = { ...target, responseUrl: 'http://x', viaResponseUrl: true }
    await expect(platform.postQuestion?.(viaUrl, view, ctx)).rejects.toThrow(CannotAskError)
    await expect(platform.postQuestion?.({ ...target, channel: 'CPRIVATE' }, view, ctx)).rejects.toThrow(
      /invite it with \/invite @Chorus/,
    )
    expect(platform.lateEdits?.(target)).toBe(true)
    expect(platform.lateEdits?.(viaUrl)).toBe(false)

    slack.rateLimit('chat.update', 1)
    const t0 = performance.now()
    await platform.editQuestion?.(
      target,
      where,
      { ...view, state: 'decided', outcome: 'Decided: **Yes**.' },
      ctx,
    )
    expect(performance.now() - t0).toBeGreaterThanOrEqual(900)
    const updates = slack.calls.filter((c) => c.method === 'chat.update')
    expect(updates.map((c) => c.rateLimited === true)).toEqual([true, false])
    expect(json(slack.messages.get(where.ts)?.blocks)).toContain('Decided: *Yes*.')
    await expect(platform.editQuestion?.(target, { channel: 'C1', ts: '1.2' }, view, ctx)).rejects.toThrow(
      CannotAskError,
    )
  })

  it('edits one message in order: a tally that lost the race to the outcome never brings the buttons back', async () => {
    const slack = await startFakeSlack()
    cleanup.push(() => slack.close())
    const config = loadConfig({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: slack.apiUrl,
      SLACK_APP_TOKEN: APP_TOKEN,
    })
    const questions = new SlackQuestions(slackWebClient(config))
    const view = vote()
    const where = await questions.post({ platform: 'slack', channel: 'C1' }, view, silent)
    const decided = { ...view, state: 'decided', outcome: 'Decided: **Yes**.' } as const
    await Promise.all([
      questions.edit(where, { ...view, answered: 1 }, silent),
      questions.edit(where, decided, silent),
      questions.edit(where, { ...view, answered: 2 }, silent),
    ])
    await questions.edit(where, { ...view, answered: 3 }, silent)
    expect(slack.calls.filter((c) => c.method === 'chat.update')).toHaveLength(1)
    expect(json(slack.messages.get(where.ts)?.blocks)).toContain('Decided: *Yes*.')
    expect(json(slack.messages.get(where.ts)?.blocks)).not.toContain('"actions"')
  })

  it('the fake Slack shows its generic error for errors under a block that is no input, or no ack within 3 s', async () => {
    const slack = await startFakeSlack()
    cleanup.push(() => slack.close())
    const app = new App({
      token: BOT_TOKEN,
      appToken: APP_TOKEN,
      socketMode: true,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
    })
    app.view('stray', async ({ ack }) => {
      await ack({ response_action: 'errors', errors: { nope: 'no such block' } })
    })
    app.view('slow', async ({ ack }) => {
      await new Promise((r) => setTimeout(r, 3_200))
      await ack()
    })
    await app.start()
    cleanup.push(() => app.stop())
    await slack.connected()
    const open = async (callback_id: string): Promise<string> => {
      const input = { type: 'plain_text_input', action_id: 'a' }
      const blocks = [
        { type: 'input', block_id: 'a', label: { type: 'plain_text', text: 'A' }, element: input },
      ]
      const view = { type: 'modal', callback_id, title: { type: 'plain_text', text: 'T' }, blocks }
      const opened = await app.client.views.open({ trigger_id: slack.triggerId(), view: view as never })
      return opened.view?.id as string
    }
    const stray = await open('stray')
    expect((await slack.submit(stray, { a: 'x' }, { user: ADA })).result).toBe('failed')
    expect(slack.views.has(stray)).toBe(true)
    const slow = await open('slow')
    expect((await slack.submit(slow, { a: 'x' }, { user: ADA })).result).toBe('failed')
    expect(slack.modalErrors.map((e) => e.viewId)).toEqual([stray, slow])
    expect(slack.modalErrors[1]?.reason).toContain('within 3 s')
    // Let the slow listener's late ack go out before the app stops.
    await new Promise((r) => setTimeout(r, 400))
  })

  it('Vote on these under a brainstorm puts its ideas to the channel in the reply’s thread', async () => {
    const s = await setup('socket', fileURLToPath(new URL('../../../flows/', import.meta.url)))
    await command(s, 'brainstorm', 'team lunch')
    await expect.poll(() => s.slack.posted()[0]?.text ?? '', { timeout: 10_000 }).toMatch(/done$/)
    const reply = s.slack.posted()[0] as Message
    expect(json(reply.blocks)).toContain('"action_id":"chorus_vote_on"')
    await s.slack.click(reply, 'chorus_vote_on', GRACE)
    const q = await questionIn(s.slack)
    expect(q.threadTs).toBe(reply.ts)
    expect(json(q.blocks)).toContain('Anyone here can answer.')
    const decide = s.slack.posted().find((m) => m !== reply && !isQuestion(m))
    expect(decide?.threadTs).toBe(reply.ts)
    expect(s.slack.notes(GRACE.id)).toEqual([])
  })
})

describe("a question open past Slack's response_url window", () => {
  it("is still answered, edited in place and followed by the final reply: bot-token edits, and each click's own response_url", async () => {
    // Slack's 30 minutes, shortened: the command's response_url is dead by the time anyone answers.
    const s = await setup('socket', FIXTURES, { responseUrlMs: 1_000 })
    const payload = await command(s, 'confirm', 'the launch')
    const q = await questionIn(s.slack)
    await new Promise((r) => setTimeout(r, 1_300))
    const late = await fetch(payload.response_url as string, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'too late' }),
    })
    expect(late.status).toBe(410)
    // A click's response_url is new: the refusal still reaches the one who clicked.
    const other = await s.slack.click(q, 'chorus_answer_0', GRACE, { via: s.via })
    expect(other.ms).toBeLessThan(3_000)
    await expect
      .poll(() => s.slack.notes(GRACE.id), { timeout: 5_000 })
      .toEqual(['Only <@U1> can answer this.'])
    await s.slack.click(q, 'chorus_answer_0', ADA, { via: s.via })
    await expect.poll(() => hasControls(q), { timeout: 5_000 }).toBe(false)
    expect(json(q.blocks)).toContain('Decided: *Yes*, by ada.')
    expect(await finalReply(s.slack)).toContain('Answer: yes by ada')
    const edits = s.slack.calls.filter((c) => c.method === 'chat.update')
    expect(edits.length).toBeGreaterThanOrEqual(2)
  })
})
