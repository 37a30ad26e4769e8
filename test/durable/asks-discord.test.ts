import { afterEach, describe, expect, it } from 'vitest'
import { SqliteStore } from '../../src/store/index.ts'
import { APP_ID, type FakeDiscord, type FakeMessage, startFakeDiscord, TOKEN } from '../fakes/discord.ts'
import { startFakeOpenAI } from '../fakes/openai.ts'
import { type ChorusProcess, killAll, scratchDir, startChorus } from '../support/chorus.ts'
import { decideModel, decidePrompts, sleep } from './helpers.ts'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** The footer of the reply's last embed says its state: ✅ once it is final. */
const isFinal = (body: unknown): boolean => {
  const embeds = (body as { embeds?: Array<{ footer?: { text: string } }> } | undefined)?.embeds ?? []
  return (embeds.at(-1)?.footer?.text ?? '').includes('✅')
}
const content = (m: FakeMessage | undefined) => String(m?.body.content ?? '')
const buttonsOf = (m: FakeMessage | undefined) =>
  (
    (m?.body.components as Array<{ components: Array<{ custom_id: string; label?: string }> }> | undefined) ??
    []
  ).flatMap((row) => row.components)
/** The first response to an interaction: its callback's type (7: the clicked message updated). */
const responseType = (discord: FakeDiscord, token: string) =>
  (discord.callsFor(token)[0]?.body as { type?: number } | undefined)?.type

describe('a /decide vote survives the process (real child processes, SQLite journal, Discord gateway)', () => {
  it('kill -9 while the vote is open: two clicks on the new process decide it once, the proposers are not asked again', async () => {
    const discord = await startFakeDiscord()
    const openai = await startFakeOpenAI({ handler: decideModel })
    const scratch = scratchDir()
    const procs: ChorusProcess[] = []
    cleanup.push(
      () => discord.close(),
      () => openai.close(),
      () => scratch.remove(),
      () => killAll(procs),
    )
    const env = {
      DISCORD_TOKEN: TOKEN,
      DISCORD_APP_ID: APP_ID,
      DISCORD_API_URL: discord.api,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: openai.url,
      CHORUS_MODEL: 'fake',
    }
    const start = async () => {
      const proc = await startChorus(env, scratch.dir)
      procs.push(proc)
      return proc
    }
    const first = await start()
    const { token } = discord.command(
      'decide',
      [
        { name: 'question', type: 3, value: 'Which database for the new service?' },
        { name: 'quorum', type: 4, value: 2 },
        { name: 'for', type: 3, value: '10m' },
      ],
      'alice',
    )
    await expect.poll(() => discord.followUps(token).length, { timeout: 10_000 }).toBe(1)
    const parked = await first.waitForLog((l) => l.msg === 'run.parked', 10_000)
    const vote = discord.followUps(token)[0] as FakeMessage
    expect(content(vote)).toContain('Anyone here can answer.')
    expect(content(vote)).toContain('Closes when 2 agree, or at the deadline.')
    const postgres = buttonsOf(vote).find((b) => b.label === 'Postgres')?.custom_id as string
    expect(postgres).toMatch(/^ask:/)
    expect(isFinal(discord.original(token))).toBe(false)
    expect(decidePrompts(openai.requests)).toEqual({ angles: [1, 1, 1], rationale: 0 })

    first.kill('SIGKILL')
    await first.exited
    const journal = new SqliteStore(`${scratch.dir}/.chorus/chorus.db`)
    expect(await journal.get(parked.runId as string)).toMatchObject({ status: 'running', parked: true })
    await journal.close()
    const second = await start()
    expect(second.logs.find((l) => l.msg === 'journal.parked')).toMatchObject({ runs: 1 })

    const one = discord.click(postgres, vote.id, 'bob')
    await expect.poll(() => responseType(discord, one.token), { timeout: 5_000 }).toBe(7)
    await expect
      .poll(() => discord.ephemerals(one.token), { timeout: 5_000 })
      .toEqual(['Your vote for Postgres is counted; you can change it until the vote closes.'])
    expect(content(discord.message(vote.id))).toMatch(/\*\*Postgres\*\* 1$/m)
    const two = discord.click(postgres, vote.id, 'carol')
    await expect.poll(() => responseType(discord, two.token), { timeout: 5_000 }).toBe(7)

    await expect.poll(() => isFinal(discord.original(token)), { timeout: 15_000 }).toBe(true)
    // The vote's own message, edited in place by the deciding click: no buttons, who decided.
    const decided = discord.message(vote.id)
    expect(decided?.body.components).toEqual([])
    expect(content(decided)).toContain('Decided: **Postgres** (2 of 2 votes), by carol.')
    expect(discord.followUps(token)).toHaveLength(1)
    const reply = JSON.stringify(discord.original(token)?.embeds)
    expect(reply).toContain('Decided: Postgres')
    expect(reply).toContain('(2 of 2 agreed)')
    // One final edit of the reply, and one deferral: nothing was posted twice.
    const edits = discord.callsFor(token).filter((c) => c.method === 'PATCH' && c.status === 200)
    expect(edits.filter((c) => isFinal(c.body))).toHaveLength(1)
    expect(
      discord.callsFor(token).filter((c) => c.method === 'POST' && c.path.startsWith('/interactions/')),
    ).toHaveLength(1)
    expect(decidePrompts(openai.requests)).toEqual({ angles: [1, 1, 1], rationale: 1 })
    await sleep(300)
    expect(edits.length).toBe(
      discord.callsFor(token).filter((c) => c.method === 'PATCH' && c.status === 200).length,
    )
    // Nothing refused; a 429 is the new process meeting the webhook bucket its predecessor spent,
    // answered with Retry-After and sent again (the one final edit above).
    expect(discord.calls.filter((c) => c.status >= 400 && c.status !== 429)).toEqual([])
  }, 60_000)
})
