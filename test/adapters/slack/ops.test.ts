import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { startSlack } from '../../../adapters/slack/index.ts'
import { Bot, loadConfig } from '../../../src/bot/index.ts'
import { OpenAIModel } from '../../../src/llm/index.ts'
import { type FakeOpenAI, type Handler, startFakeOpenAI } from '../../fakes/openai.ts'
import {
  BOT_TOKEN,
  deliverCommand,
  type FakeSlack,
  SIGNING_SECRET,
  startFakeSlack,
} from '../../fakes/slack.ts'

const silent = pino({ level: 'silent' })
const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** Chorus in Slack HTTP mode with `env` added, against fake Slack and OpenAI. */
async function setup(env: Record<string, string>, handler: Handler = () => ({ text: '- **idea**' })) {
  const slack: FakeSlack = await startFakeSlack()
  cleanup.push(() => slack.close())
  const openai: FakeOpenAI = await startFakeOpenAI({ handler })
  cleanup.push(() => openai.close())
  const config = loadConfig({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    // These tests are about limits and budgets, not about pacing replies to Slack's rate tier.
    CHORUS_SLACK_WRITES_PER_MIN: '6000',
    ...env,
  })
  const model = new OpenAIModel({ apiKey: 'sk-test', baseURL: openai.url, model: 'fake', timeoutMs: 10_000 })
  const bot = await Bot.create({ config, model, logger: silent })
  const handle = await startSlack(bot, config, { listen: { port: 0, host: '127.0.0.1' } })
  cleanup.push(() => handle.stop())
  const address = handle.server?.address()
  if (address === null || typeof address !== 'object' || address === undefined) throw new Error('no server')
  const url = `http://127.0.0.1:${address.port}/slack/events`
  const send = (command: string, text: string, overrides: Record<string, string> = {}) =>
    deliverCommand(url, slack.slashPayload(command, text, overrides))
  const finals = () => slack.posted().filter((m) => m.text.includes('done')).length
  return { slack, openai, bot, url, send, finals }
}

const ephemeralText = (body: string): string => {
  const parsed = JSON.parse(body) as { response_type?: string; text?: string }
  expect(parsed.response_type).toBe('ephemeral')
  return parsed.text ?? ''
}

describe('Slack limits and budgets, end to end', () => {
  it('answers the 11th command in an hour with when to try again, and calls no model for it', async () => {
    const { openai, send, finals } = await setup({ CHORUS_USER_LIMIT: '10/1h' })
    for (let i = 0; i < 10; i++) expect((await send('/brand', `Acme ${i}`)).body).toBe('')
    await expect.poll(finals, { timeout: 8_000 }).toBe(10)
    const calls = openai.requests.length
    const refused = await send('/brand', 'Acme 11')
    const text = ephemeralText(refused.body)
    expect(text).toContain('You have reached your limit of 10 commands in 1 hour')
    expect(text).toMatch(/Try again at \d\d:\d\d UTC.* \(in (59|60) minutes\)/)
    await new Promise((r) => setTimeout(r, 200))
    expect(openai.requests).toHaveLength(calls)
    // Another user is not limited by ada's count.
    expect((await send('/brand', 'Acme', { user_id: 'U2', user_name: 'grace' })).body).toBe('')
    await expect.poll(finals, { timeout: 5_000 }).toBe(11)
    expect(openai.requests).toHaveLength(calls + calls / 10)
  })

  it('counts a channel limit across users, and a busy channel does not limit another', async () => {
    const { openai, send, finals } = await setup({ CHORUS_CHANNEL_LIMIT: '2/10m' })
    expect((await send('/brand', 'Alpha', { user_id: 'U1' })).body).toBe('')
    expect((await send('/brand', 'Bravo', { user_id: 'U2' })).body).toBe('')
    const refused = ephemeralText((await send('/brand', 'Charlie', { user_id: 'U3' })).body)
    expect(refused).toContain('This channel has reached its limit of 2 commands in 10 minutes')
    expect(refused).toMatch(/\(in (9|10) minutes\)/)
    expect((await send('/brand', 'Delta', { user_id: 'U3', channel_id: 'C2' })).body).toBe('')
    await expect.poll(finals, { timeout: 5_000 }).toBe(3)
    expect(openai.requests.some((r) => r.prompt.includes('Delta'))).toBe(true)
    expect(openai.requests.some((r) => r.prompt.includes('Charlie'))).toBe(false)
  })

  it('cancels the branches still running once the run budget is reached, and says so', async () => {
    const handler: Handler = async (body) => {
      const angle = /Angle: (.+?)\./.exec(body.messages.at(-1)?.content ?? '')?.[1]
      if (angle === undefined) return { text: '1. **Ranked** first' }
      return angle === 'User pain' ? { text: '- **cheap idea**' } : { hang: true }
    }
    const { openai, slack, send } = await setup({ CHORUS_RUN_TOKEN_BUDGET: '5' }, handler)
    await send('/brainstorm', 'lunch --angles 3')
    await expect.poll(() => slack.posted()[0]?.text ?? '', { timeout: 5_000 }).toContain('done')
    const blocks = JSON.stringify(slack.posted()[0]?.blocks)
    expect(blocks).toContain('Token budget of 5 reached: unfinished tasks were stopped')
    expect(blocks).toContain('*Ranked* first')
    const angles = openai.requests.filter((r) => r.prompt.includes('Angle:'))
    expect(angles).toHaveLength(3)
    expect(angles.filter((r) => r.aborted)).toHaveLength(2)
  })

  it("refuses a workspace's commands once its daily token budget is spent", async () => {
    const { openai, send, finals } = await setup({ CHORUS_DAILY_TOKEN_BUDGET: '10' })
    expect((await send('/brand', 'Acme')).body).toBe('')
    await expect.poll(finals, { timeout: 5_000 }).toBe(1)
    const calls = openai.requests.length
    const text = ephemeralText((await send('/brand', 'again', { user_id: 'U9' })).body)
    expect(text).toContain("This workspace has used today's Chorus budget of 10 tokens")
    expect(text).toMatch(/It resets at 00:00 UTC on \d{4}-\d\d-\d\d \(in/)
    // Another workspace has its own budget.
    expect((await send('/brand', 'other', { team_id: 'T2' })).body).toBe('')
    await expect.poll(finals, { timeout: 5_000 }).toBe(2)
    expect(openai.requests.length).toBe(calls * 2)
  })
})

describe('Slack: a model per flow', () => {
  it('sends each flow, and its judge step, to the model named for it, and names them in the usage line', async () => {
    const { openai, slack, send, finals } = await setup({
      CHORUS_MODEL_BRAINSTORM: 'big-model',
      CHORUS_MODEL_BRAINSTORM_JUDGE: 'judge-model',
    })
    await send('/brainstorm', 'lunch --angles 2')
    await send('/brand', 'Acme')
    await expect.poll(finals, { timeout: 5_000 }).toBe(2)
    const byModel = (model: string) => openai.requests.filter((r) => r.body.model === model)
    expect(byModel('big-model').every((r) => r.prompt.includes('Angle:'))).toBe(true)
    expect(byModel('big-model')).toHaveLength(2)
    expect(byModel('judge-model')).toHaveLength(1)
    expect(byModel('judge-model')[0]?.prompt).toContain('Ideas from 2 panel members')
    expect(byModel('fake').length).toBeGreaterThan(0)
    const [brainstorm, brand] = [...slack.posted()].sort((a, b) => (a.text < b.text ? -1 : 1))
    expect(JSON.stringify(brainstorm?.blocks)).toMatch(/big-model, judge-model · 3 calls · [\d,]+ tokens/)
    expect(JSON.stringify(brand?.blocks)).toMatch(/fake · \d calls · [\d,]+ tokens/)
  })
})

describe('Slack protocol gaps', () => {
  it('refuses a request stamped more than five minutes in the future, as it refuses an old one', async () => {
    const { openai, slack, url } = await setup({})
    const now = Math.floor(Date.now() / 1000)
    const future = await deliverCommand(url, slack.slashPayload('/brand', 'Acme'), {
      timestamp: now + 6 * 60,
    })
    const old = await deliverCommand(url, slack.slashPayload('/brand', 'Acme'), { timestamp: now - 6 * 60 })
    expect(future.status).toBe(401)
    expect(old.status).toBe(401)
    const near = await deliverCommand(url, slack.slashPayload('/brand', 'Acme'), { timestamp: now + 4 * 60 })
    expect(near.status).toBe(200)
    await expect.poll(() => openai.requests.length, { timeout: 5_000 }).toBeGreaterThan(0)
    expect(slack.posted()).toHaveLength(1)
  })

  it('answers a slash command with no flow behind it with the list of commands', async () => {
    const { openai, send } = await setup({})
    const answer = await send('/nope', 'hello')
    expect(answer.status).toBe(200)
    expect(answer.ms).toBeLessThan(2_000)
    const text = ephemeralText(answer.body)
    expect(text).toContain('Chorus has no /nope command')
    for (const name of ['brainstorm', 'brand', 'review', 'vote']) expect(text).toContain(`/${name}`)
    expect(openai.requests).toHaveLength(0)
  })
})
