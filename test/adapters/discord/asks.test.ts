import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  CANNOT_POST_TEXT,
  INTERACTIONS_PATH,
  startDiscord,
  startDiscordHttp,
  type TokenClock,
} from '../../../adapters/discord/index.ts'
import { Bot, loadConfig } from '../../../src/bot/index.ts'
import {
  APP_ID,
  CHANNEL_ID,
  type FakeDiscord,
  type FakeDiscordOptions,
  type FakeMessage,
  startFakeDiscord,
  TOKEN,
  userIdOf,
} from '../../fakes/discord.ts'
import { ScriptedModel } from '../../fakes/model.ts'

const silent = pino({ level: 'silent' })
const ASKS = fileURLToPath(new URL('./fixtures/asks/', import.meta.url))
const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** How the fake Discord delivers interactions: the gateway, or HTTP POSTs to the interactions endpoint. */
type Delivery = 'gateway' | 'http'
let delivery: Delivery = 'gateway'

async function setup(
  options: {
    fake?: FakeDiscordOptions
    clock?: TokenClock
    runBudgetMs?: number
    flowsDir?: string
    model?: ScriptedModel
  } = {},
): Promise<{ discord: FakeDiscord; bot: Bot }> {
  const discord = await startFakeDiscord(options.fake)
  cleanup.push(() => discord.close())
  const config = loadConfig({
    DISCORD_TOKEN: TOKEN,
    DISCORD_APP_ID: APP_ID,
    DISCORD_API_URL: discord.api,
    ...(delivery === 'http' ? { DISCORD_PUBLIC_KEY: discord.publicKey } : {}),
  })
  const model = options.model ?? new ScriptedModel(() => ({ text: 'unused' }))
  const bot = await Bot.create({
    config,
    model,
    logger: silent,
    flowsDir: options.flowsDir ?? ASKS,
  })
  cleanup.push(async () => {
    await bot.shutdown(0)
  })
  const adapterOptions = {
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.runBudgetMs === undefined ? {} : { runBudgetMs: options.runBudgetMs }),
  }
  if (delivery === 'http') {
    const handle = await startDiscordHttp(bot, config, { ...adapterOptions, port: 0 })
    cleanup.push(() => handle.stop())
    discord.deliverTo(`http://127.0.0.1:${handle.port}${INTERACTIONS_PATH}`)
    // Every interaction was answered as Discord wants, and every broken signature refused.
    cleanup.push(async () => {
      expect(discord.deliveries.filter((d) => d.problem !== undefined)).toEqual([])
    })
    return { discord, bot }
  }
  const handle = await startDiscord(bot, config, adapterOptions)
  cleanup.push(() => handle.stop())
  await discord.ready()
  return { discord, bot }
}

const topic = (value: string) => ({ name: 'topic', type: 3, value })

/** Polls `read` until it gives a value. */
async function until<T>(read: () => T | undefined, timeout = 5_000): Promise<T> {
  await expect.poll(read, { timeout }).toBeDefined()
  return read() as T
}

const content = (m: FakeMessage | undefined) => String(m?.body.content ?? '')
const componentsOf = (m: FakeMessage | undefined) =>
  ((m?.body.components as Array<{ components: Array<Record<string, unknown>> }> | undefined) ?? []).flatMap(
    (row) => row.components,
  )
const idsOf = (m: FakeMessage | undefined) => componentsOf(m).map((c) => String(c.custom_id))
const replyText = (discord: FakeDiscord, token: string) =>
  JSON.stringify(discord.original(token)?.embeds ?? [])
/** The first response to an interaction: its callback's body. */
const responseOf = (discord: FakeDiscord, token: string) =>
  discord.callsFor(token)[0]?.body as { type: number; data?: Record<string, unknown> } | undefined
/** Counts per choice in a question's live tally ("`██░░░` **pizza** 2"). */
const tallyOf = (m: FakeMessage | undefined) =>
  Object.fromEntries(
    [...content(m).matchAll(/^`[█░]{5}` \*\*(\w+)\*\* (\d+)$/gm)].map((x) => [x[1], Number(x[2])]),
  )

describe.each<Delivery>(['gateway', 'http'])(
  'people in the flow, on Discord (interactions by %s)',
  (mode) => {
    beforeEach(() => {
      delivery = mode
    })

    it("the requester's click decides: the question is edited in place without buttons, the reply goes on; others are told why not", async () => {
      const { discord } = await setup()
      const { token } = discord.command('ship', [topic('v2')], 'alice')
      const question = await until(() => discord.followUps(token)[0])
      expect(content(question)).toContain('Ship **v2**?')
      expect(content(question)).toContain(`For <@${userIdOf('alice')}> to answer.`)
      expect(content(question)).toMatch(/closes <t:\d+:R>/)
      const post = discord.callsFor(token).find((c) => c.method === 'POST' && c.path.startsWith('/webhooks/'))
      expect(post?.body).toMatchObject({ allowed_mentions: { parse: [] } })
      const [yes, no] = idsOf(question)
      expect(yes).toMatch(/^ask:[0-9a-f-]{36}:[\w-]{8}:0$/)
      expect(no).toMatch(/:1$/)

      const bob = discord.click(yes as string, question.id, 'bob')
      await expect
        .poll(() => discord.ephemerals(bob.token))
        .toEqual([`Only <@${userIdOf('alice')}> can answer this.`])
      expect(responseOf(discord, bob.token)).toMatchObject({ type: 4, data: { flags: 64 } })
      expect(idsOf(discord.message(question.id))).toEqual([yes, no])

      const alice = discord.click(yes as string, question.id, 'alice')
      await expect.poll(() => responseOf(discord, alice.token)?.type).toBe(7)
      const decided = discord.message(question.id)
      expect(decided?.body.components).toEqual([])
      expect(content(decided)).toContain('Decided: **yes**, by alice.')
      await expect
        .poll(() => replyText(discord, token), { timeout: 5_000 })
        .toContain('The answer: yes by alice')

      // A click from a client that had not seen the edit yet.
      const carol = discord.click(no as string, question.id, 'carol')
      await expect.poll(() => discord.ephemerals(carol.token)).toEqual(['Already decided by alice.'])
      expect(responseOf(discord, carol.token)?.type).toBe(7)
      expect(discord.calls.every((c) => c.status < 400)).toBe(true)
    })

    it('a vote of five: each click updates the live tally in place, one voter changes their mind, three agreeing decide it', async () => {
      const { discord } = await setup()
      const { token } = discord.command('vote3', [topic('friday')], 'alice')
      const question = await until(() => discord.followUps(token)[0])
      expect(content(question)).toContain('Anyone here can answer.')
      expect(content(question)).toContain('Closes when 3 agree, or at the deadline.')
      const [pizza, sushi, tacos] = idsOf(question) as [string, string, string]
      const votes: Array<[string, string, Record<string, number>]> = [
        ['v1', pizza, { pizza: 1, sushi: 0, tacos: 0 }],
        ['v2', sushi, { pizza: 1, sushi: 1, tacos: 0 }],
        ['v3', tacos, { pizza: 1, sushi: 1, tacos: 1 }],
        ['v4', sushi, { pizza: 1, sushi: 2, tacos: 1 }],
        ['v2', tacos, { pizza: 1, sushi: 1, tacos: 2 }],
      ]
      for (const [voter, choice, tally] of votes) {
        const click = discord.click(choice, question.id, voter)
        await expect.poll(() => responseOf(discord, click.token)?.type).toBe(7)
        expect(tallyOf(discord.message(question.id))).toEqual(tally)
        await expect
          .poll(() => discord.ephemerals(click.token)[0])
          .toMatch(/^Your vote for \w+ is counted; you can change it until the vote closes\.$/)
        expect(idsOf(discord.message(question.id))).toEqual([pizza, sushi, tacos])
      }
      const last = discord.click(tacos, question.id, 'v5')
      await expect.poll(() => responseOf(discord, last.token)?.type).toBe(7)
      const decided = discord.message(question.id)
      expect(tallyOf(decided)).toEqual({ pizza: 1, sushi: 1, tacos: 3 })
      expect(content(decided)).toContain('Decided: **tacos** (3 of 5 votes), by v5.')
      expect(decided?.body.components).toEqual([])
      await expect
        .poll(() => replyText(discord, token), { timeout: 5_000 })
        .toContain('The vote: tacos (5 votes)')
      const after = discord.click(pizza, question.id, 'v6')
      await expect.poll(() => discord.ephemerals(after.token)).toEqual(['Already decided by v5.'])
    })

    it('a vote whose journal answers slowly is deferred inside 3 s, then the message edited and the voter told', async () => {
      const { discord, bot } = await setup()
      const { token } = discord.command('vote3', [topic('friday')], 'alice')
      const question = await until(() => discord.followUps(token)[0])
      const questions = bot.store.questions.bind(bot.store)
      bot.store.questions = async (runId) => {
        await new Promise((r) => setTimeout(r, 2_000))
        return questions(runId)
      }
      const click = discord.click(idsOf(question)[1] as string, question.id, 'bob')
      await expect
        .poll(() => discord.callsFor(click.token).map((c) => [c.method, c.status]), { timeout: 4_000 })
        .toEqual([
          ['POST', 204],
          ['PATCH', 200],
          ['POST', 200],
        ])
      expect(responseOf(discord, click.token)).toEqual({ type: 6 })
      expect(tallyOf(discord.message(question.id))).toEqual({ pizza: 0, sushi: 1, tacos: 0 })
      expect(discord.ephemerals(click.token)).toEqual([
        'Your vote for sushi is counted; you can change it until the vote closes.',
      ])
    })

    it('a form: Answer… opens a modal; an invalid answer is told with its reason and the question stays open; a valid one decides', async () => {
      const { discord } = await setup()
      const { token } = discord.command('release', [topic('x')], 'alice')
      const question = await until(() => discord.followUps(token)[0])
      const [answer] = idsOf(question)
      expect(answer).toMatch(/^askform:/)
      expect(componentsOf(question)[0]).toMatchObject({ type: 2, label: 'Answer…' })

      const bob = discord.click(answer as string, question.id, 'bob')
      await expect
        .poll(() => discord.ephemerals(bob.token))
        .toEqual([`Only <@${userIdOf('alice')}> can answer this.`])

      const open = discord.click(answer as string, question.id, 'alice')
      await expect.poll(() => responseOf(discord, open.token)?.type).toBe(9)
      expect(responseOf(discord, open.token)?.data).toMatchObject({
        custom_id: expect.stringMatching(/^askmodal:/),
        title: 'Name the release',
        components: [
          {
            type: 1,
            components: [
              {
                type: 4,
                custom_id: 'name',
                label: 'Release name',
                style: 1,
                required: true,
                min_length: 3,
                max_length: 20,
              },
            ],
          },
          {
            type: 1,
            components: [{ type: 4, custom_id: 'note', label: 'A note', style: 2, required: false }],
          },
        ],
      })
      // The Discord client checks lengths itself: too short never reaches Chorus.
      expect(() => discord.submitModal(open.token, { name: 'ab' }, 'alice')).toThrow(/shorter than 3/)
      const bad = discord.submitModal(open.token, { name: 'Bad Name' }, 'alice')
      const said = await until(() => discord.ephemerals(bad.token)[0])
      expect(said).toMatch(/^Your answer was not taken:\n• Release name: /)
      expect(said).toContain('press **Answer…** to try again')
      expect(idsOf(discord.message(question.id))).toEqual([answer])

      const again = discord.click(answer as string, question.id, 'alice')
      await expect.poll(() => responseOf(discord, again.token)?.type).toBe(9)
      const good = discord.submitModal(again.token, { name: 'aurora', note: 'the first one' }, 'alice')
      await expect.poll(() => responseOf(discord, good.token)?.type).toBe(7)
      expect(discord.message(question.id)?.body.components).toEqual([])
      expect(content(discord.message(question.id))).toContain('Answered by alice.')
      await expect
        .poll(() => replyText(discord, token), { timeout: 5_000 })
        .toContain('Named: aurora / the first one')
    })

    it('more than five choices come as a select menu; a pick decides', async () => {
      const { discord } = await setup()
      const { token } = discord.command('pick', [topic('x')], 'alice')
      const question = await until(() => discord.followUps(token)[0])
      const [menu] = componentsOf(question)
      expect(menu).toMatchObject({ type: 3, min_values: 1, max_values: 1 })
      const options = menu?.options as Array<{ label: string; value: string }>
      expect(options.map((o) => o.value)).toEqual(['0', '1', '2', '3', '4', '5', '6'])
      expect(options[4]?.label).toBe('friday')
      const pick = discord.select(String(menu?.custom_id), question.id, ['4'], 'alice')
      await expect.poll(() => responseOf(discord, pick.token)?.type).toBe(7)
      expect(content(discord.message(question.id))).toContain('Decided: **friday**, by alice.')
      await expect.poll(() => replyText(discord, token), { timeout: 5_000 }).toContain('The day: friday')
    })

    it("a question open past the token's end: posted by the bot, a click still decides it (type 7), and the reply is edited through the bot", async () => {
      // Tokens that live 3 s, not 15 min; calls within 1 s of the end go through the bot.
      const clock = { lifetimeMs: 3_000, marginMs: 1_000 }
      const { discord } = await setup({ fake: { tokenLifetimeMs: 3_000 }, clock, runBudgetMs: 2_500 })
      const started = Date.now()
      const { token } = discord.command('ship', [topic('late')], 'alice')
      const question = await until(() => discord.channelMessages()[0])
      expect(discord.followUps(token)).toEqual([])
      const posted = discord.channelCalls()[0]
      expect(posted).toMatchObject({ method: 'POST', path: `/channels/${CHANNEL_ID}/messages`, status: 200 })
      expect(posted?.authorization).toBe(`Bot ${TOKEN}`)
      await expect.poll(() => replyText(discord, token)).toContain('Waiting for answers')

      // Past the token: the fake now refuses its webhook (50027).
      await new Promise((r) => setTimeout(r, Math.max(0, started + 3_300 - Date.now())))
      const click = discord.click(idsOf(question)[0] as string, question.id, 'alice')
      await expect.poll(() => responseOf(discord, click.token)?.type).toBe(7)
      expect(content(discord.message(question.id))).toContain('Decided: **yes**, by alice.')
      await expect
        .poll(() => replyText(discord, token), { timeout: 8_000 })
        .toContain('The answer: yes by alice')
      const edits = discord
        .channelCalls()
        .filter(
          (c) =>
            c.method === 'PATCH' &&
            c.path === `/channels/${CHANNEL_ID}/messages/${discord.originalId(token)}`,
        )
      expect(edits.length).toBeGreaterThan(0)
      expect(edits.every((c) => c.status === 200 && c.authorization === `Bot ${TOKEN}`)).toBe(true)
      // Nothing tried the dead webhook.
      expect(discord.callsFor(token).every((c) => c.status < 400)).toBe(true)
    })

    it('a question no one answers closes at its deadline: edited through its webhook while the token lives', async () => {
      const { discord } = await setup()
      const { token } = discord.command(
        'ship',
        [topic('x'), { name: 'timeout', type: 3, value: '2s' }],
        'alice',
      )
      const question = await until(() => discord.followUps(token)[0])
      await expect
        .poll(() => content(discord.message(question.id)), { timeout: 6_000 })
        .toContain('⏹️ Closed: no one answered in time.')
      expect(discord.message(question.id)?.body.components).toEqual([])
      const edit = discord
        .callsFor(token)
        .find((c) => c.method === 'PATCH' && c.path.endsWith(`/messages/${question.id}`))
      expect(edit).toMatchObject({ status: 200, authorization: undefined })
      await expect
        .poll(() => replyText(discord, token), { timeout: 5_000 })
        .toContain('no one answered in time')
      expect(discord.channelCalls()).toEqual([])
    })

    it("a question no one answers past the token's end closes at its deadline through the bot, and so does the reply", async () => {
      const clock = { lifetimeMs: 3_000, marginMs: 1_000 }
      const { discord } = await setup({ fake: { tokenLifetimeMs: 3_000 }, clock, runBudgetMs: 2_500 })
      const { token } = discord.command(
        'ship',
        [topic('x'), { name: 'timeout', type: 3, value: '4s' }],
        'alice',
      )
      const question = await until(() => discord.channelMessages()[0])
      await expect
        .poll(() => content(discord.message(question.id)), { timeout: 8_000 })
        .toContain('⏹️ Closed: no one answered in time.')
      expect(discord.channelCalls()).toContainEqual(
        expect.objectContaining({
          method: 'PATCH',
          path: `/channels/${CHANNEL_ID}/messages/${question.id}`,
          status: 200,
        }),
      )
      await expect
        .poll(() => replyText(discord, token), { timeout: 5_000 })
        .toContain('no one answered in time')
      expect(discord.callsFor(token).every((c) => c.status < 400)).toBe(true)
    })

    it('a question that would outlive the token in a channel the bot cannot post in fails the run with the reason, at once', async () => {
      const { discord } = await setup()
      discord.denyChannel(CHANNEL_ID)
      const { token } = discord.command(
        'ship',
        [topic('x'), { name: 'timeout', type: 3, value: '1h' }],
        'alice',
      )
      await expect.poll(() => replyText(discord, token), { timeout: 5_000 }).toContain(CANNOT_POST_TEXT)
      expect(discord.channelCalls()).toMatchObject([{ method: 'POST', status: 403 }])
      expect(discord.followUps(token)).toEqual([])
      expect(discord.callsFor(token).every((c) => c.status < 400)).toBe(true)
    })

    it('Vote on these under a brainstorm puts its ranked ideas to a /decide vote, for whoever pressed it', async () => {
      const ranked = '1. **Pulse** — live numbers\n2. **Beacon** — alerts first\n3. **Lens** — one clear view'
      const model = new ScriptedModel((prompt) => ({
        text: prompt.includes('Angle') ? '- **an idea**' : ranked,
      }))
      const { discord } = await setup({
        flowsDir: fileURLToPath(new URL('../../../flows/', import.meta.url)),
        model,
      })
      const { token } = discord.command('brainstorm', [
        topic('a name'),
        { name: 'angles', type: 4, value: 2 },
      ])
      await expect.poll(() => replyText(discord, token), { timeout: 5_000 }).toContain('✅')
      const original = discord.originalId(token) as string
      const voteOn = idsOf(discord.message(original)).find((id) => id.startsWith('voteon:'))
      expect(voteOn).toBeDefined()
      const press = discord.click(voteOn as string, original, 'bob')
      await expect.poll(() => responseOf(discord, press.token)?.type).toBe(5)
      const vote = await until(() => discord.followUps(press.token)[0], 8_000)
      expect(componentsOf(vote).map((c) => c.label)).toEqual(['Pulse', 'Beacon', 'Lens'])
      expect(content(vote)).toContain('Anyone here can answer.')
      expect(content(vote)).toContain('Closes when 3 agree, or at the deadline.')
    })
  },
)
