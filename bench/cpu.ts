/**
 * Chorus' CPU per `/brainstorm`, read from outside the process: `npm start` (`node src/main.ts`) in
 * Slack HTTP mode against the fake Slack, the fake OpenAI answering each call in 50-100 ms, commands
 * sent signed over HTTP as Slack does, `BENCH_AT_ONCE` at a time, each from its own workspace,
 * channel and user (so Slack's rate tiers are not what is measured). The child's user + system CPU
 * comes from /proc/<pid>/stat before and after the measured commands (a warm-up batch first); the
 * fakes and this script run in the parent and are not counted. SQLite (the default) and with
 * REDIS_URL on a redis-server of the benchmark's own. `npm run bench:cpu` (BENCH_MODES=sqlite,redis,
 * BENCH_RUNS=200, BENCH_AT_ONCE=50, BENCH_ROUNDS=3; BENCH_PROFILE=<dir> writes a --cpu-prof per round).
 * BENCH_TRACING=off,on measures each store without and with traces (OTLP/HTTP protobuf, the default,
 * to a receiver in this script), and the start-up: from spawning `node src/main.ts` to its ready line.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { startFakeOpenAI } from '../test/fakes/openai.ts'
import { startFakeOtlp } from '../test/fakes/otlp.ts'
import {
  BOT_TOKEN,
  deliverCommand,
  FAST_TIER,
  FAST_WRITES_PER_MIN,
  SIGNING_SECRET,
  startFakeSlack,
} from '../test/fakes/slack.ts'
import { type ChorusProcess, scratchDir, startChorus } from '../test/support/chorus.ts'
import { freePort, startOwnRedis } from '../test/support/redis-server.ts'

const RUNS = Number(process.env.BENCH_RUNS ?? 200)
const AT_ONCE = Number(process.env.BENCH_AT_ONCE ?? 50)
const WARM_UP = Number(process.env.BENCH_WARM_UP ?? 40)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const MODES = (process.env.BENCH_MODES ?? 'sqlite,redis').split(',') as Array<'sqlite' | 'redis'>
const TRACING = (process.env.BENCH_TRACING ?? 'off').split(',') as Array<'off' | 'on'>
const PROFILE = process.env.BENCH_PROFILE
/** What each angle answers: five ideas as a markdown list, about what a model writes. */
const IDEAS = Array.from(
  { length: 5 },
  (_, i) => `- **Idea ${i + 1}** — one sentence on why it could work for this team.`,
).join('\n')

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())

/** User + system CPU the process has used, in milliseconds (/proc/<pid>/stat fields 14 and 15). */
function cpuMs(pid: number): number {
  const { user, system } = cpuOf(pid)
  return user + system
}

function cpuOf(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { user: Number(fields[11]) * TICK_MS, system: Number(fields[12]) * TICK_MS }
}

/** Keeps `atOnce` of `total` calls of `one` going; resolves when all ended. */
async function bounded(atOnce: number, total: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const loop = async (): Promise<void> => {
    while (next < total) await one(next++)
  }
  await Promise.all(Array.from({ length: Math.min(atOnce, total) }, loop))
}

async function round(mode: 'sqlite' | 'redis', n: number, tracing: 'off' | 'on') {
  const slack = await startFakeSlack({ tier3: FAST_TIER })
  const otlp = tracing === 'on' ? await startFakeOtlp() : undefined
  const openai = await startFakeOpenAI({
    handler: () => ({ text: IDEAS, latencyMs: 50 + Math.random() * 50 }),
  })
  const redis = mode === 'redis' ? await startOwnRedis() : undefined
  if (redis !== undefined) {
    // The commands are what Chorus sends, not the disk: the helper's server writes an fsynced AOF.
    const admin = new Redis(redis.url)
    await admin.config('SET', 'appendonly', 'no')
    admin.disconnect()
  }
  const scratch = scratchDir()
  const port = await freePort()
  let chorus: ChorusProcess | undefined
  let poll: ReturnType<typeof setInterval> | undefined
  try {
    const spawnedAt = performance.now()
    chorus = await startChorus(
      {
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        PORT: String(port),
        SLACK_API_URL: slack.apiUrl,
        CHORUS_SLACK_WRITES_PER_MIN: FAST_WRITES_PER_MIN,
        OPENAI_API_KEY: 'sk-bench',
        OPENAI_BASE_URL: openai.url,
        CHORUS_MODEL: 'fake',
        ...(redis === undefined ? {} : { REDIS_URL: redis.url, CHORUS_REDIS_PREFIX: `cpu${n}` }),
        ...(otlp === undefined ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url }),
        ...(process.env.CHORUS_CONCURRENCY === undefined
          ? {}
          : { CHORUS_CONCURRENCY: process.env.CHORUS_CONCURRENCY }),
        ...(PROFILE === undefined ? {} : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${PROFILE}` }),
      },
      scratch.dir,
    )
    const startMs = performance.now() - spawnedAt
    const pid = chorus.child.pid as number
    const url = `http://127.0.0.1:${port}/slack/events`
    const waiting = new Map<string, () => void>()
    // One scan of the fake's messages every 20 ms ends every command whose final was posted.
    poll = setInterval(() => {
      for (const m of slack.posted()) if (m.text.endsWith(': done')) waiting.get(m.channel)?.()
    }, 20)
    const command = async (i: number): Promise<void> => {
      const channel = `C${n}x${i}`
      const final = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no final for command ${i} within 120 s`)), 120_000)
        waiting.set(channel, () => {
          clearTimeout(timer)
          waiting.delete(channel)
          resolve()
        })
      })
      const fields = slack.slashPayload('/brainstorm', `bench topic ${i}`, {
        team_id: `T${n}x${i}`,
        channel_id: channel,
        user_id: `U${n}x${i}`,
        user_name: `user${i}`,
      })
      const res = await deliverCommand(url, fields)
      if (res.status !== 200) throw new Error(`command ${i} answered ${res.status}: ${res.body}`)
      await final
    }
    await bounded(AT_ONCE, WARM_UP, (i) => command(-1 - i))
    await new Promise((r) => setTimeout(r, 500))
    const cpu0 = cpuOf(pid)
    const calls0 = { slack: slack.calls.length, model: openai.requests.length }
    const otlp0 = otlp?.requests.reduce((sum, r) => sum + r.bytes, 0) ?? 0
    const t0 = performance.now()
    await bounded(AT_ONCE, RUNS, command)
    const wallMs = performance.now() - t0
    // What a run does after its final is shown (the journal's end) is part of its cost.
    await new Promise((r) => setTimeout(r, 500))
    const cpu1 = cpuOf(pid)
    const usedMs = cpu1.user + cpu1.system - cpu0.user - cpu0.system
    const systemShare = (cpu1.system - cpu0.system) / usedMs
    const slackCalls = (slack.calls.length - calls0.slack) / RUNS
    const modelCalls = (openai.requests.length - calls0.model) / RUNS
    const otlpBytes = ((otlp?.requests.reduce((sum, r) => sum + r.bytes, 0) ?? 0) - otlp0) / RUNS
    // The same half second with nothing to do: timers, probes, the queue's polling.
    const idle0 = cpuMs(pid)
    await new Promise((r) => setTimeout(r, 2_000))
    const idlePerHalfSecond = (cpuMs(pid) - idle0) / 4
    return {
      perRun: usedMs / RUNS,
      systemShare,
      slackCalls,
      modelCalls,
      idlePerHalfSecond,
      wallMs,
      startMs,
      otlpBytes,
    }
  } finally {
    clearInterval(poll)
    if (chorus !== undefined) {
      // SIGTERM: a graceful shutdown, so a --cpu-prof is written.
      chorus.kill(PROFILE === undefined ? 'SIGKILL' : 'SIGTERM')
      await chorus.exited
    }
    await redis?.remove()
    await slack.close()
    await openai.close()
    await otlp?.close()
    scratch.remove()
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

console.log(
  `Node ${process.version}, ${process.platform}/${process.arch}; ${RUNS} /brainstorm (5 angles + synthesis), ${AT_ONCE} at a time, after ${WARM_UP} to warm up; model 50-100 ms; medians of ${ROUNDS}\n`,
)
console.log(
  '| store | tracing | Chorus CPU per /brainstorm | rounds | of it in the kernel | Slack calls per run | model calls per run | OTLP bytes per run | idle CPU per 0.5 s | start-up to ready | wall per round |',
)
console.log('|---|---|---|---|---|---|---|---|---|---|---|')
let n = 0
for (const mode of MODES) {
  // Tracing off and on take turns within each round, so a busier minute of the machine hits both.
  const rows = new Map(TRACING.map((t) => [t, [] as Array<Awaited<ReturnType<typeof round>>>]))
  for (let r = 0; r < ROUNDS; r++)
    for (const tracing of TRACING) rows.get(tracing)?.push(await round(mode, ++n, tracing))
  for (const [tracing, done] of rows) {
    const per = done.map((r) => r.perRun)
    const med = (f: (r: (typeof done)[number]) => number) => median(done.map(f))
    console.log(
      `| ${mode === 'sqlite' ? 'SQLite (default)' : 'Redis'} | ${tracing} | ${median(per).toFixed(2)} ms | ${per.map((x) => x.toFixed(2)).join(', ')} | ${(100 * med((r) => r.systemShare)).toFixed(0)} % | ${med((r) => r.slackCalls).toFixed(1)} | ${med((r) => r.modelCalls).toFixed(1)} | ${med((r) => r.otlpBytes).toFixed(0)} | ${med((r) => r.idlePerHalfSecond).toFixed(1)} ms | ${med((r) => r.startMs).toFixed(0)} ms | ${(med((r) => r.wallMs) / 1000).toFixed(1)} s |`,
    )
  }
}
