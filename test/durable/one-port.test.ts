import { afterEach, describe, expect, it } from 'vitest'
import { APP_ID, startFakeDiscord } from '../fakes/discord.ts'
import { brokenHeaders } from '../fakes/discord-http.ts'
import { startFakeOpenAI } from '../fakes/openai.ts'
import { BOT_TOKEN, deliverCommand, SIGNING_SECRET, startFakeSlack } from '../fakes/slack.ts'
import { scratchDir, startChorus } from '../support/chorus.ts'
import { freePort } from '../support/redis-server.ts'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

const embedText = (body: unknown) => JSON.stringify((body as { embeds?: unknown })?.embeds ?? [])

describe('Slack in HTTP mode and Discord over HTTP in one `npm start`', () => {
  it('serves both on PORT: Slack commands at /slack/events, Discord interactions at /discord/interactions', async () => {
    const slack = await startFakeSlack()
    const discord = await startFakeDiscord()
    const openai = await startFakeOpenAI({})
    const scratch = scratchDir()
    const port = await freePort()
    const chorus = await startChorus(
      {
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        DISCORD_PUBLIC_KEY: discord.publicKey,
        DISCORD_APP_ID: APP_ID,
        DISCORD_API_URL: discord.api,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: openai.url,
        CHORUS_MODEL: 'fake',
        PORT: String(port),
      },
      scratch.dir,
    )
    cleanup.push(
      async () => {
        chorus.kill('SIGKILL')
        await chorus.exited
        scratch.remove()
      },
      () => slack.close(),
      () => discord.close(),
      () => openai.close(),
    )
    const base = `http://127.0.0.1:${port}`
    discord.deliverTo(`${base}/discord/interactions`)

    // Discord: PING answered, a broken signature refused, a slash command deferred and finished.
    expect(await discord.ping()).toMatchObject({ status: 200, problem: undefined })
    const body = JSON.stringify({ id: '1200000000000000001', application_id: APP_ID, type: 1, version: 1 })
    expect((await discord.postRaw(body, brokenHeaders(discord.signer, body))).status).toBe(401)
    const command = discord.command('brainstorm', [{ name: 'topic', type: 3, value: 'team offsite' }])
    expect(await discord.delivery(command.id)).toMatchObject({ status: 202, problem: undefined })
    await expect
      .poll(() => embedText(discord.original(command.token)).includes('✅'), { timeout: 20_000 })
      .toBe(true)

    // Slack on the same port: a signed slash command is acknowledged and answered in the channel.
    const ack = await deliverCommand(
      `${base}/slack/events`,
      slack.slashPayload('/brainstorm', 'team offsite'),
    )
    expect(ack.status).toBe(200)
    await expect.poll(() => slack.posted().length, { timeout: 20_000 }).toBeGreaterThan(0)
    // An unsigned Slack request is still refused there, and the Discord path takes no Slack body.
    const unsigned = await deliverCommand(`${base}/slack/events`, slack.slashPayload('/brainstorm', 'x'), {
      omitHeaders: true,
    })
    expect(unsigned.status).toBe(401)
    expect((await fetch(`${base}/discord/interactions`, { method: 'POST', body: '{}' })).status).toBe(401)
    // One listener: no second server was started for Discord, and no gateway was opened.
    expect(chorus.logs.some((l) => l.msg === 'discord.http_listening')).toBe(false)
    expect(chorus.logs.some((l) => l.msg === 'discord.http_ready')).toBe(true)
    expect(discord.calls.some((c) => c.path === '/gateway/bot')).toBe(false)
  })
})
