/**
 * The streamed first result: time from the fastest branch's first token leaving the fake OpenAI to
 * the first model text visible at the fake Slack or Discord, for 1 and 50 concurrent /brainstorm
 * commands against a real `npm start` process, and the slowest final (from its command). The fakes
 * keep the platforms' real limits (Slack's Tier 3 per workspace and method, about one message a
 * second per channel however it is posted, 5 posts within 30 minutes per response_url; Discord's 5
 * requests per 2 s per interaction webhook) and Chorus its default edit budgets, so what is measured
 * is what a workspace or guild would see. The Slack busy row is one workspace, one command in each of
 * 50 channels. `npm run bench:stream` (a few minutes).
 */
import { APP_ID as DISCORD_APP_ID, TOKEN as DISCORD_TOKEN, startFakeDiscord } from '../test/fakes/discord.ts'
import { type FakeOpenAI, startFakeOpenAI } from '../test/fakes/openai.ts'
import { APP_TOKEN, BOT_TOKEN, startFakeSlack } from '../test/fakes/slack.ts'
import { scratchDir, startChorus } from '../test/support/chorus.ts'

/** Sequential commands measured at concurrency 1. */
const SINGLE = Number(process.env.BENCH_SINGLE ?? 10)
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 50)
/** Between two of the sequential commands (0: back to back, the workspace never idle). */
const PAUSE_MS = Number(process.env.BENCH_PAUSE_MS ?? 5_000)
/** Slack channels the concurrent commands are spread over (a busy workspace, not one channel). */
const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 50)
const WORDS = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ')

/**
 * Angles: time to first token 300–900 ms (headers and the first piece together), then a piece of
 * about two tokens every 40 ms (~50 tokens a second, a fast hosted model) for ~2.5 s; the synthesis
 * answers in 300 ms.
 */
function model(): Promise<FakeOpenAI> {
  return startFakeOpenAI({
    handler: (body) => {
      const prompt = body.messages.at(-1)?.content ?? ''
      if (!prompt.includes('Angle:')) return { text: '1. **Merged idea** ranked first', latencyMs: 300 }
      return {
        text: `- **${/Angle: (.+?)\./.exec(prompt)?.[1]} idea**: ${WORDS}`,
        latencyMs: 300 + Math.random() * 600,
        pieceIntervalMs: 40,
      }
    },
  })
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number
}

/** `performance.now()` of each topic's fastest branch's first token. */
function firstTokens(openai: FakeOpenAI): Map<string, number> {
  const out = new Map<string, number>()
  for (const r of openai.requests) {
    const topic = /^Topic: (.+)$/m.exec(r.prompt)?.[1]
    if (topic === undefined || !r.prompt.includes('Angle:') || r.firstTextAt === undefined) continue
    out.set(topic, Math.min(out.get(topic) ?? Number.POSITIVE_INFINITY, r.firstTextAt))
  }
  return out
}

interface Seen {
  /** `performance.now()` when the first model text (streamed or the first result) was visible. */
  at: number
  streamed: boolean
}

/** Per topic, ms from sending its command to its final being visible. */
type Finals = Map<string, number>

function report(
  platform: string,
  concurrency: number,
  tokens: Map<string, number>,
  seen: Map<string, Seen>,
  finals: Finals,
) {
  const lat = [...seen].map(([topic, s]) => s.at - (tokens.get(topic) as number))
  const streamed = [...seen.values()].filter((s) => s.streamed).length
  const fmt = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`)
  const slowest = Math.max(...finals.values())
  return `| ${platform} | ${concurrency} | ${seen.size} | ${fmt(quantile(lat, 0.5))} | ${fmt(quantile(lat, 0.99))} | ${streamed}/${seen.size} | ${finals.size} | ${fmt(slowest)} |`
}

async function slackRound(concurrency: number, commands: number): Promise<string> {
  const slack = await startFakeSlack()
  const openai = await model()
  const scratch = scratchDir()
  const chorus = await startChorus(
    {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_API_URL: slack.apiUrl,
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: openai.url,
      CHORUS_MODEL: 'fake',
    },
    scratch.dir,
  )
  try {
    await slack.connected()
    const toAbs = () => performance.now() - slack.now()
    const seen = new Map<string, Seen>()
    const finals: Finals = new Map()
    const sentAt = new Map<string, number>()
    const watch = (topics: string[]) => {
      for (const m of slack.posted()) {
        const topic = /^Brainstorm: (.+?): /.exec(m.text)?.[1]
        if (topic === undefined || !topics.includes(topic)) continue
        if (!seen.has(topic)) {
          const h = m.history.find((x) => /is writing|First idea/.test(JSON.stringify(x.blocks)))
          if (h !== undefined)
            seen.set(topic, { at: h.at + toAbs(), streamed: JSON.stringify(h.blocks).includes('is writing') })
        }
        const final = m.history.find((x) => x.text.endsWith(': done'))
        if (final !== undefined && !finals.has(topic))
          finals.set(topic, final.at - (sentAt.get(topic) as number))
      }
    }
    const batch = async (topics: string[]) => {
      topics.forEach((topic, i) => {
        const channel = `C${(i % CHANNELS) + 1}`
        sentAt.set(topic, slack.now())
        void slack.send('slash_commands', slack.slashPayload('/brainstorm', topic, { channel_id: channel }))
      })
      const deadline = performance.now() + 600_000
      while (topics.some((t) => !finals.has(t)) && performance.now() < deadline) {
        watch(topics)
        await new Promise((r) => setTimeout(r, 20))
      }
      watch(topics)
    }
    const rounds = concurrency === 1 ? commands : 1
    for (let r = 0; r < rounds; r++) {
      // One command at a time, as a user reads the answer before asking again: the workspace's
      // chat.update budget has refilled (a burst of 3 in 4 s at 45 a minute).
      if (r > 0) await new Promise((resolve) => setTimeout(resolve, PAUSE_MS))
      await batch(Array.from({ length: concurrency }, (_, i) => `slack-${concurrency}-${r}-${i}`))
    }
    const updates = slack.calls.filter((c) => c.method === 'chat.update' && c.rateLimited !== true).length
    const urlPosts = slack.responses.filter((r) => r.status === 200).length
    console.error(`Slack ${concurrency}: chat.update ${updates}, response_url posts ${urlPosts}`)
    return report('Slack', concurrency, firstTokens(openai), seen, finals)
  } finally {
    chorus.kill('SIGKILL')
    await chorus.exited
    await slack.close()
    await openai.close()
    scratch.remove()
  }
}

async function discordRound(concurrency: number, commands: number): Promise<string> {
  const discord = await startFakeDiscord()
  const openai = await model()
  const scratch = scratchDir()
  const chorus = await startChorus(
    {
      DISCORD_TOKEN,
      DISCORD_APP_ID,
      DISCORD_API_URL: discord.api,
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: openai.url,
      CHORUS_MODEL: 'fake',
    },
    scratch.dir,
  )
  try {
    await discord.ready()
    const toAbs = () => performance.now() - discord.now()
    const seen = new Map<string, Seen>()
    const finals: Finals = new Map()
    const batch = async (topics: string[]) => {
      const sentAt = discord.now()
      const tokens = topics.map(
        (topic) =>
          [topic, discord.command('brainstorm', [{ name: 'topic', type: 3, value: topic }]).token] as const,
      )
      const deadline = performance.now() + 600_000
      while (topics.some((t) => !finals.has(t)) && performance.now() < deadline) {
        for (const [topic, token] of tokens) {
          const edits = discord.callsFor(token).filter((c) => c.method === 'PATCH' && c.status === 200)
          if (!seen.has(topic)) {
            const c = edits.find((x) => /is writing|⚡/.test(JSON.stringify(x.body)))
            if (c !== undefined)
              seen.set(topic, { at: c.at + toAbs(), streamed: JSON.stringify(c.body).includes('is writing') })
          }
          const final = edits.find((x) => JSON.stringify(x.body).includes('✅'))
          if (final !== undefined && !finals.has(topic)) finals.set(topic, final.at - sentAt)
        }
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    const rounds = concurrency === 1 ? commands : 1
    for (let r = 0; r < rounds; r++) {
      if (r > 0) await new Promise((resolve) => setTimeout(resolve, PAUSE_MS))
      await batch(Array.from({ length: concurrency }, (_, i) => `discord-${concurrency}-${r}-${i}`))
    }
    return report('Discord', concurrency, firstTokens(openai), seen, finals)
  } finally {
    chorus.kill('SIGKILL')
    await chorus.exited
    await discord.close()
    await openai.close()
    scratch.remove()
  }
}

console.log(
  `Node ${process.version}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}; /brainstorm (5 angles + synthesis); ` +
    `concurrency 1: ${SINGLE} commands one after another, ${PAUSE_MS} ms apart; ${CONCURRENT} at once (Slack: over ${CHANNELS} channels of one workspace)\n`,
)
console.log(
  '| platform | concurrent | runs | first text p50 | first text p99 | runs that showed streamed text | finals | slowest final (from its command) |',
)
console.log('|---|---|---|---|---|---|---|---|')
const only = process.env.BENCH_PLATFORMS?.split(',') ?? ['discord', 'slack']
for (const platform of only) {
  for (const concurrency of (process.env.BENCH_LEVELS ?? `1,${CONCURRENT}`).split(',').map(Number)) {
    const row =
      platform === 'slack' ? await slackRound(concurrency, SINGLE) : await discordRound(concurrency, SINGLE)
    console.log(row)
  }
}
