/**
 * The example, flows/standup.yaml, end to end on every platform: the console as a child
 * process (`npm start -- standup …`), Slack through the real @slack/bolt over Socket Mode against the
 * fake Slack, Discord through the real discord.js against the fake Discord; and /review, a file flow
 * now, on Slack.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { LogLevel, SocketModeReceiver } from '@slack/bolt'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { startDiscord } from '../../adapters/discord/index.ts'
import { startSlack } from '../../adapters/slack/index.ts'
import { Bot, loadConfig } from '../../src/bot/index.ts'
import { OpenAIModel } from '../../src/llm/index.ts'
import { channelReplies as replies } from '../durable/helpers.ts'
import { APP_ID, startFakeDiscord, TOKEN } from '../fakes/discord.ts'
import { type FakeOpenAI, type Handler, startFakeOpenAI } from '../fakes/openai.ts'
import { APP_TOKEN, BOT_TOKEN, type Message, startFakeSlack } from '../fakes/slack.ts'

const root = resolve(import.meta.dirname, '../..')
const silent = pino({ level: 'silent' })
const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

const NOTES = 'Shipped the login page. CI is flaky on Windows. Next: release notes for 2.1'

/** `npm start -- <args>` in an empty folder (no .env), with exactly `env`; resolves when it exits. */
function chorus(args: string[], env: Record<string, string> = {}) {
  const cwd = mkdtempSync(join(tmpdir(), 'chorus-e2e-'))
  cleanup.push(() => rmSync(cwd, { recursive: true, force: true }))
  const child = spawn(process.execPath, [join(root, 'src/main.ts'), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', USER: 'tester', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  cleanup.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d))
  child.stderr.on('data', (d: Buffer) => (stderr += d))
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
    child.on('error', fail)
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

/** The `step.started` / `step.completed` events of a pretty console log, in order, as `started:wins`. */
function stepEvents(log: string): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: pino-pretty colours its output
  const plain = log.replace(/\x1b\[[0-9;]*m/g, '')
  return [...plain.matchAll(/: step\.(started|completed)\n(?:\s+\w+: .*\n)*?\s+step: "(\w+)"/g)].map(
    (m) => `${m[1]}:${m[2]}`,
  )
}

/** The fake model: each standup list names its kind; the summary names every list it was given. */
const standupModel: Handler = (body) => {
  const prompt = body.messages.at(-1)?.content ?? ''
  const kind = /^List the (wins|blockers|next steps)/.exec(prompt)?.[1]
  const latency: Record<string, number> = { wins: 20, blockers: 150, 'next steps': 300 }
  if (kind !== undefined) return { text: `- the ${kind} list`, latencyMs: latency[kind] ?? 0 }
  if (prompt.startsWith('Write a short standup summary.')) {
    const seen = ['wins', 'blockers', 'next steps'].filter((k) => prompt.includes(`- the ${k} list`))
    return { text: `Standup summary from ${seen.join(', ')}.` }
  }
  return { text: `unexpected prompt: ${prompt}` }
}
const SUMMARY = 'Standup summary from wins, blockers, next steps.'

const fakeModel = (openai: FakeOpenAI) =>
  new OpenAIModel({ apiKey: 'sk-test', baseURL: openai.url, model: 'fake', timeoutMs: 10_000 })

async function slackSetup(handler: Handler) {
  const slack = await startFakeSlack()
  cleanup.push(() => slack.close())
  const openai = await startFakeOpenAI({ handler })
  cleanup.push(() => openai.close())
  const config = loadConfig({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: slack.apiUrl,
  })
  const bot = await Bot.create({ config, model: fakeModel(openai), logger: silent })
  const receiver = new SocketModeReceiver({
    appToken: APP_TOKEN,
    logLevel: LogLevel.ERROR,
    clientPingTimeout: 2_000,
    installerOptions: { clientOptions: { slackApiUrl: slack.apiUrl } },
  })
  const clientOptions = { retryConfig: { retries: 3, factor: 1, minTimeout: 10, maxTimeout: 50 } }
  const handle = await startSlack(bot, config, { receiver, clientOptions })
  cleanup.push(() => handle.stop())
  await slack.connected()
  return { slack, openai }
}

/** A reply's text as the user reads it: its header, sections and context lines, in order. */
const sections = (blocks: unknown[]): string =>
  (blocks as Array<{ type: string; text?: { text?: string }; elements?: Array<{ text?: unknown }> }>)
    .flatMap((b) =>
      b.type === 'actions'
        ? []
        : [
            b.text?.text ??
              (b.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : '')).join(' '),
          ],
    )
    .join('\n')

describe('flows/standup.yaml, the issue example, end to end', () => {
  it('console (npm start -- standup …, a child process on the demo model): the first result, then the summary after all three', async () => {
    const { code, stdout, stderr } = await chorus(['standup', NOTES], { LOG_LEVEL: 'debug' })
    expect(code, stderr).toBe(0)
    const first = stdout.indexOf('⚡ First result after')
    const final = stdout.indexOf(`✔ Standup: ${NOTES} · asked by tester [demo model]`)
    expect(first).toBeGreaterThan(-1)
    expect(final).toBeGreaterThan(first)
    // The first result is one of the three lists; the final is the summary, written from the lists.
    expect(stdout.slice(first, final)).toMatch(/_\(demo\)_ - \S/)
    const summary = stdout.slice(final)
    // The demo model's summary is written from the three lists it was given.
    expect(summary).toMatch(/_\(demo\)_ Yesterday went well: .+\. Watch out for: .+\. Next: .+\./)
    expect(summary).toMatch(/\(3\/3 tasks · first after \d+\.\d s · all after \d+\.\d s\)/)
    expect(summary).toMatch(/\(demo · 4 calls · /)
    // The summary started only once wins, blockers and next had all completed.
    const events = stepEvents(stderr)
    const at = (e: string) => events.indexOf(e)
    for (const step of ['wins', 'blockers', 'next']) {
      expect(at(`completed:${step}`), step).toBeGreaterThan(-1)
      expect(at('started:summary')).toBeGreaterThan(at(`completed:${step}`))
    }
    expect(at('completed:summary')).toBeGreaterThan(at('started:summary'))
    expect(events.filter((e) => e === 'started:summary')).toHaveLength(1)
  }, 20_000)

  it('Slack (bolt over Socket Mode): /standup <notes> → one reply that ends with the summary, 4 model calls', async () => {
    const { slack, openai } = await slackSetup(standupModel)
    const ack = await slack.send('slash_commands', slack.slashPayload('/standup', NOTES))
    expect(ack.ms).toBeLessThan(3_000)
    await expect.poll(() => replies(slack)[0]?.text ?? '', { timeout: 10_000 }).toMatch(/: done$/)
    const [reply, ...others] = replies(slack)
    expect(others).toHaveLength(0)
    const shown = reply as Message
    expect(shown.text).toBe(`Standup: ${NOTES}: done`)
    // The first result (the fastest list) was shown before the final.
    const firstAt = shown.history.findIndex((h) => h.text.endsWith(': first result'))
    expect(firstAt).toBeGreaterThan(-1)
    expect(sections(shown.history[firstAt]?.blocks ?? [])).toContain('the wins list')
    const final = sections(shown.blocks)
    expect(final).toContain(SUMMARY)
    expect(final).toMatch(/fake · 4 calls · /)
    // Each list was asked for once with the notes, then the summary once with all three.
    const prompts = openai.requests.map((r) => r.prompt)
    expect(prompts).toHaveLength(4)
    expect(prompts.slice(0, 3).sort()).toEqual([
      `List the blockers in these notes: ${NOTES}`,
      `List the next steps in these notes: ${NOTES}`,
      `List the wins in these notes: ${NOTES}`,
    ])
    expect(prompts[3]).toBe(
      'Write a short standup summary.\nWins: - the wins list\nBlockers: - the blockers list\nNext steps: - the next steps list\n',
    )
  }, 20_000)
})

describe('flows/standup.yaml on Discord (discord.js against the fake)', () => {
  it('/standup notes:<…> → the deferred reply edited to the summary', async () => {
    const discord = await startFakeDiscord()
    cleanup.push(() => discord.close())
    const openai = await startFakeOpenAI({ handler: standupModel })
    cleanup.push(() => openai.close())
    const config = loadConfig({ DISCORD_TOKEN: TOKEN, DISCORD_APP_ID: APP_ID, DISCORD_API_URL: discord.api })
    const bot = await Bot.create({ config, model: fakeModel(openai), logger: silent })
    const handle = await startDiscord(bot, config)
    cleanup.push(() => handle.stop())
    await discord.ready()
    const { token } = discord.command('standup', [{ name: 'notes', type: 3, value: NOTES }])
    const embeds = (body: unknown) => JSON.stringify((body as { embeds?: unknown } | undefined)?.embeds ?? [])
    await expect.poll(() => embeds(discord.original(token)), { timeout: 10_000 }).toContain('✅')
    const calls = discord.callsFor(token)
    expect(calls[0]).toMatchObject({ method: 'POST', status: 204, body: { type: 5 } })
    const edits = calls.filter((c) => c.method === 'PATCH')
    expect(edits.every((c) => c.status === 200)).toBe(true)
    const firstAt = edits.findIndex((c) => embeds(c.body).includes('⚡'))
    expect(firstAt).toBeGreaterThan(-1)
    expect(embeds(edits[firstAt]?.body)).toContain('the wins list')
    expect(embeds(edits[firstAt]?.body)).not.toContain(SUMMARY)
    const final = embeds(discord.original(token))
    expect(final).toContain(SUMMARY)
    expect(final).toContain('4 calls')
    expect(discord.followUps(token)).toHaveLength(0)
    expect(openai.requests.map((r) => r.prompt).filter((p) => p.includes(NOTES))).toHaveLength(3)
  }, 20_000)

  it('npm run discord:register registers /standup with its notes option, a string of at most 2000', async () => {
    const discord = await startFakeDiscord()
    cleanup.push(() => discord.close())
    const out = await new Promise<string>((done, fail) =>
      execFile(
        process.execPath,
        ['scripts/discord-register.ts', '--guild', '222222222222222222'],
        {
          cwd: root,
          env: {
            PATH: process.env.PATH ?? '',
            DISCORD_TOKEN: TOKEN,
            DISCORD_APP_ID: APP_ID,
            DISCORD_API_URL: discord.api,
          },
        },
        (error, stdout, stderr) => (error === null ? done(stdout) : fail(new Error(stderr))),
      ),
    )
    expect(out).toMatch(/Registered .*\/standup/)
    const body = discord.registrations[0]?.body as Array<Record<string, unknown>>
    expect(body.find((c) => c.name === 'standup')).toEqual({
      type: 1,
      name: 'standup',
      description: 'Wins, blockers and next steps from your notes, then one summary',
      options: [
        {
          name: 'notes',
          description: 'What happened since yesterday',
          required: true,
          type: 3,
          max_length: 2000,
        },
      ],
    })
  }, 20_000)
})

describe('flows/review.yaml on Slack', () => {
  it('/review runs the four reviewers and reports each in its own section', async () => {
    const { slack, openai } = await slackSetup((body) => {
      const system = body.messages.find((m) => m.role === 'system')?.content ?? ''
      const who = /You are the (\w+) reviewer/.exec(system)?.[1] ?? 'unknown'
      return { text: `- ${who} note`, latencyMs: who === 'tone' ? 10 : 150 }
    })
    const draft = 'We will ship the new dashboard next week to all customers, guaranteed.'
    await slack.send('slash_commands', slack.slashPayload('/review', draft))
    await expect.poll(() => replies(slack)[0]?.text ?? '', { timeout: 10_000 }).toMatch(/: done$/)
    expect(replies(slack)).toHaveLength(1)
    const shown = replies(slack)[0] as Message
    // The first review is the fastest reviewer's; the report has the four sections in order.
    const firstAt = shown.history.findIndex((h) => h.text.endsWith(': first result'))
    expect(sections(shown.history[firstAt]?.blocks ?? [])).toContain('_Tone_\n• tone note')
    const report = sections(shown.blocks)
    expect(report).toContain(
      '_Clarity_\n• clarity note\n\n_Tone_\n• tone note\n\n_Correctness_\n• correctness note\n\n_Risk_\n• risk note',
    )
    expect(report).toContain('4/4 reviews')
    expect(report).not.toContain('This review failed')
    // The text is fenced as data in each reviewer's prompt.
    expect(openai.requests).toHaveLength(4)
    for (const r of openai.requests) expect(r.prompt).toContain(draft)
    expect(new Set(openai.requests.map((r) => r.system)).size).toBe(4)
  }, 20_000)
})
