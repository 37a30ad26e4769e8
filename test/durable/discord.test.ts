import { afterEach, describe, expect, it } from 'vitest'
import { APP_ID, type FakeDiscord, startFakeDiscord, TOKEN } from '../fakes/discord.ts'
import { startFakeOpenAI } from '../fakes/openai.ts'
import { type ChorusProcess, killAll, scratchDir, startChorus } from '../support/chorus.ts'
import { promptCounts, sleep, slowAngles } from './helpers.ts'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** What one edit of the reply says: its footer starts with who asked, then the status. */
function statusOf(body: unknown): string | undefined {
  const embeds = (body as { embeds?: Array<{ footer?: { text: string } }> } | undefined)?.embeds ?? []
  const footer = embeds.at(-1)?.footer?.text ?? ''
  if (footer.includes('✅')) return 'done'
  if (footer.includes('⚡')) return 'first'
  if (footer.includes('⏳')) return 'working'
  if (footer.includes('⚠️')) return 'failed'
  if (footer.includes('⏹️')) return 'stopped'
  return undefined
}

function edits(discord: FakeDiscord, token: string): unknown[] {
  return discord
    .callsFor(token)
    .filter((c) => c.method === 'PATCH' && c.status === 200)
    .map((c) => c.body)
}

describe('Discord runs survive the process (real child processes, SQLite journal)', () => {
  it('kill -9 with 20 runs in flight: after a restart each gets one first and one final, no step is called twice', async () => {
    const model = slowAngles()
    const discord = await startFakeDiscord()
    const openai = await startFakeOpenAI({ handler: model.handler })
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
      CHORUS_CONCURRENCY: '128',
    }
    const chorus = await startChorus(env, scratch.dir)
    procs.push(chorus)
    const tokens: string[] = []
    for (let i = 0; i < 20; i++) {
      tokens.push(discord.command('brainstorm', [{ name: 'topic', type: 3, value: `topic ${i}` }]).token)
    }
    await expect.poll(() => openai.requests.filter((r) => r.answered).length, { timeout: 10_000 }).toBe(40)
    await sleep(300)
    const answeredBefore = new Set(openai.requests.filter((r) => r.answered).map((r) => r.prompt))
    chorus.kill('SIGKILL')
    await chorus.exited
    expect(tokens.some((t) => statusOf(discord.original(t)) === 'first')).toBe(true)
    expect(tokens.every((t) => statusOf(discord.original(t)) !== 'done')).toBe(true)

    model.release()
    const again = await startChorus(env, scratch.dir)
    procs.push(again)
    expect(again.logs.find((l) => l.msg === 'journal.resumed')?.resumed).toBe(20)
    await expect
      .poll(() => tokens.filter((t) => statusOf(discord.original(t)) === 'done').length, { timeout: 20_000 })
      .toBe(20)
    for (const token of tokens) {
      const statuses = edits(discord, token).map(statusOf)
      expect(statuses.filter((s) => s === 'done')).toHaveLength(1)
      const order = ['working', 'first', 'done']
      const ranks = statuses.map((s) => order.indexOf(s ?? ''))
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b))
      const firsts = new Set(
        edits(discord, token)
          .filter((b) => statusOf(b) === 'first')
          .map((b) => (b as { embeds: Array<{ description?: string }> }).embeds[0]?.description),
      )
      expect(firsts.size).toBeLessThanOrEqual(1)
      // One deferral per interaction; no follow-up messages for a short result.
      expect(discord.callsFor(token).filter((c) => c.method === 'POST')).toHaveLength(1)
    }
    const counts = promptCounts(openai.requests)
    for (const prompt of answeredBefore) expect(counts.get(prompt), prompt).toBe(1)
  }, 60_000)

  it('five malformed INTERACTION_CREATE frames, then a command: the process is alive and answers', async () => {
    const discord = await startFakeDiscord()
    const openai = await startFakeOpenAI({ handler: () => ({ text: '- **idea**' }) })
    const scratch = scratchDir()
    cleanup.push(
      () => discord.close(),
      () => openai.close(),
      () => scratch.remove(),
    )
    const chorus = await startChorus(
      {
        DISCORD_TOKEN: TOKEN,
        DISCORD_APP_ID: APP_ID,
        DISCORD_API_URL: discord.api,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: openai.url,
        CHORUS_MODEL: 'fake',
      },
      scratch.dir,
    )
    cleanup.push(() => chorus.kill('SIGKILL'))
    const mutations: Array<(d: Record<string, unknown>) => void> = [
      (d) => {
        ;(d.data as Record<string, unknown>).options = { name: 'topic', type: 3, value: 'lunch' }
      },
      (d) => {
        delete d.member
        delete d.user
      },
      (d) => delete d.entitlements,
      (d) => delete d.authorizing_integration_owners,
      (d) => delete d.data,
    ]
    const bad = mutations.map((m) => discord.rawInteraction(m))
    const { token } = discord.command('brainstorm', [
      { name: 'topic', type: 3, value: 'lunch' },
      { name: 'angles', type: 4, value: 2 },
    ])
    await expect.poll(() => statusOf(discord.original(token)), { timeout: 10_000 }).toBe('done')
    expect(chorus.child.exitCode).toBeNull()
    for (const b of bad) {
      // Each malformed command got its one ephemeral explanation.
      await expect.poll(() => discord.callsFor(b.token).length).toBe(1)
    }
  }, 30_000)
})
