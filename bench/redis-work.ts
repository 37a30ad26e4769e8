/**
 * Redis work per run: Redis commands (from `INFO commandstats`, which counts the commands Lua
 * scripts run as well as the calls themselves) and Redis CPU (`INFO cpu`, user + sys) per
 * `/brainstorm` run, with 10, 200 and 1,000 runs in flight, against a redis-server of the
 * benchmark's own (no other tenant's commands in the numbers, no persistence: the commands are
 * measured, not the disk). Chorus runs in this process exactly as `npm start` wires it on Redis
 * (`openBackends`: RedisStore, BullQueue, RedisFairLimiter, RedisEditBudget, the health probe), with
 * Slack's own reply code over a Web API client that answers at once and a model that answers in
 * 50–100 ms; each command goes through what the Slack listener does (redelivery claim, admission,
 * accept). The floor is BullMQ itself: a job that does nothing, at the same load. The last column
 * is this process's CPU per run (Chorus with the in-process model and Slack stand-ins, no HTTP; what
 * `npm start` spends per command, HTTP included, is `npm run bench:cpu`'s).
 * `npm run bench:redis` (a few minutes). BENCH_IN_FLIGHT=10,200,1000, BENCH_REPEATS=3 (medians),
 * BENCH_CONCURRENCY=64 (CHORUS_CONCURRENCY); BENCH_DETAIL=1 adds, per load, the commands by part of
 * Chorus from one more round watched with MONITOR, and Redis' time inside commands by part (BullMQ
 * by script) from one more logged with SLOWLOG (neither counted in the table).
 */
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { readdirSync } from 'node:fs'
import { createConnection } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { WebClient } from '@slack/web-api'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { slackPlatform } from '../adapters/slack/index.ts'
import { requester } from '../adapters/slack/listeners/requester.ts'
import { replyTarget } from '../adapters/slack/listeners/target.ts'
import { openBackends } from '../src/backends.ts'
import { Bot, isTerminal, loadConfig, type Platform } from '../src/bot/index.ts'
import { ScriptedModel } from '../test/fakes/model.ts'
import { startOwnRedis } from '../test/support/redis-server.ts'

const IN_FLIGHT = (process.env.BENCH_IN_FLIGHT ?? '10,200,1000').split(',').map(Number)
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3)
const DETAIL = process.env.BENCH_DETAIL === '1'
/** Runs per round: enough that starting and draining the loop are a small part of it. */
const runsFor = (inFlight: number) => Number(process.env.BENCH_RUNS ?? Math.max(300, 2 * inFlight))
/** CHORUS_WORKER_RUNS (default 100), raised so every run in flight is worked at once. */
const workerRuns = (inFlight: number) => Math.max(100, inFlight)
/** CHORUS_CONCURRENCY: model calls in flight across all runs (so 200 and 1,000 runs queue in the limiter). */
const CONCURRENCY = process.env.BENCH_CONCURRENCY ?? '64'

const server = await startOwnRedis()
const admin = new Redis(server.url)
// Measure the commands, not the disk: the helper's server writes an fsynced AOF.
await admin.config('SET', 'appendonly', 'no')

interface Snapshot {
  calls: Map<string, number>
  userMs: number
  sysMs: number
}

async function snapshot(): Promise<Snapshot> {
  const calls = new Map<string, number>()
  for (const line of (await admin.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (m !== null && m[1] !== 'info') calls.set(m[1] as string, Number(m[2]))
  }
  const cpu = await admin.info('cpu')
  const used = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? 0) * 1000
  return { calls, userMs: used('used_cpu_user'), sysMs: used('used_cpu_sys') }
}

interface Round {
  commands: number
  cpuMs: number
  sysMs: number
  perSecond: number
  /** Slack calls (posts and updates) per run. */
  slack: number
  /** CPU of this process per run (user + system): Chorus, with its in-process stand-ins. */
  processMs: number
  byCommand: Map<string, number>
}

/** What happened on Redis between two snapshots, per run. */
function perRun(
  before: Snapshot,
  after: Snapshot,
  runs: number,
  wall: { ms: number; cpu: NodeJS.CpuUsage },
  slack: number,
): Round {
  const byCommand = new Map<string, number>()
  let total = 0
  for (const [name, n] of after.calls) {
    const d = n - (before.calls.get(name) ?? 0)
    if (d > 0) byCommand.set(name, d / runs)
    total += d
  }
  const sysMs = (after.sysMs - before.sysMs) / runs
  const cpuMs = (after.userMs - before.userMs) / runs + sysMs
  const processMs = (wall.cpu.user + wall.cpu.system) / 1000 / runs
  return {
    commands: total / runs,
    cpuMs,
    sysMs,
    perSecond: (runs / wall.ms) * 1000,
    slack,
    processMs,
    byCommand,
  }
}

/** Which part of Chorus a command (or the script it runs in) belongs to, by its first key. */
function partOf(name: string, key: string): string {
  const parts: Array<[RegExp, string]> = [
    [/:bull:/, 'BullMQ'],
    [/:limiter:/, 'limiter'],
    [/:budget:/, 'edit budget'],
    [/:runs?:/, 'journal'],
    [/:(owner|alive):/, 'queue ownership'],
    [/:claim:/, 'redelivery claim'],
  ]
  if (name === 'ping') return 'health'
  return parts.find(([re]) => re.test(key))?.[1] ?? `other (${name})`
}

/**
 * Counts the commands Redis runs, by part, while watched: MONITOR on a plain socket (ioredis'
 * monitor mode loses its place under this load), the commands a script runs following the script.
 */
async function watch() {
  const socket = createConnection(server.port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write('MONITOR\r\n')
  const counts = new Map<string, number>()
  let part = 'other'
  let rest = ''
  socket.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('latin1')).split('\r\n')
    rest = lines.pop() ?? ''
    for (const line of lines) {
      // +<time> [<db> <client or lua>] "<command>" "<arg>" …
      const m = /^\+[\d.]+ \[\d+ (\S+)\] (.*)$/.exec(line)
      if (m === null) continue
      if (m[1] !== 'lua') {
        const args = [...(m[2] as string).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((a) => a[1] as string)
        const name = (args[0] ?? '').toLowerCase()
        part = partOf(name, (name === 'evalsha' || name === 'eval' ? args[3] : args[1]) ?? '')
      }
      counts.set(part, (counts.get(part) ?? 0) + 1)
    }
  })
  return {
    stop: () => {
      socket.destroy()
      return counts
    },
  }
}

/** Keeps `inFlight` of `total` calls of `one` going at once; resolves when all ended. */
async function bounded(inFlight: number, total: number, one: (i: number) => Promise<void>) {
  let next = 0
  const loop = async () => {
    while (next < total) await one(next++)
  }
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, loop))
}

/** A Slack Web API client that answers every post and update at once, and counts them. */
function instantSlack(): { client: WebClient; calls: () => number } {
  let ts = 0
  let calls = 0
  const chat = {
    postMessage: async () => {
      calls++
      return { ok: true, ts: `${++ts}.000` }
    },
    update: async () => {
      calls++
      return { ok: true }
    },
  }
  return { client: { chat } as unknown as WebClient, calls: () => calls }
}

/** Chorus as `npm start` wires it on Redis, answering on a Slack that answers at once. */
async function chorus(prefix: string, inFlight: number) {
  const config = loadConfig({
    REDIS_URL: server.url,
    CHORUS_REDIS_PREFIX: prefix,
    CHORUS_CONCURRENCY: CONCURRENCY,
    CHORUS_WORKER_RUNS: String(workerRuns(inFlight)),
    CHORUS_HTTP_PORT: '0',
    OPENAI_API_KEY: 'sk-bench',
    SLACK_BOT_TOKEN: 'xoxb-bench',
    LOG_LEVEL: 'silent',
  })
  const logger = pino({ level: 'silent' })
  const backends = openBackends(config, logger)
  const model = new ScriptedModel(() => ({
    text: '- **An idea** from this angle',
    latencyMs: 40 + Math.random() * 40,
    writeMs: 20,
  }))
  const bot = await Bot.create({ config, logger, model, ...backends })
  const finals = new Map<string, () => void>()
  const web = instantSlack()
  const slack = slackPlatform(web.client, config.CHORUS_SLACK_WRITES_PER_MIN)
  const platform: Platform = {
    ...slack,
    sink: (target, ctx) => {
      const sink = slack.sink(target, ctx)
      return {
        route: (view) => sink.route?.(view),
        show: async (view) => {
          await sink.show(view)
          if (isTerminal(view.status)) finals.get((target as { channel: string }).channel)?.()
        },
      }
    },
  }
  bot.attach(platform)
  await bot.startWorking(config.CHORUS_WORKER_RUNS)
  const brainstorm = bot.command('brainstorm')
  if (brainstorm === undefined) throw new Error('no /brainstorm flow')
  // One workspace and channel per command: Slack's rate tiers are not what is measured.
  const command = async (i: number) => {
    const team = `T${prefix}x${i}`
    const channel = `C${i}`
    const done = new Promise<void>((resolve) => finals.set(channel, resolve))
    const outcome = await bot.intake(async (signal) => {
      if (!(await bot.store.claim(`slack:command:${prefix}.${i}`, 2 * 60 * 60_000))) return
      const admission = await bot.admit(requester(`U${i}`, channel, team))
      if (!admission.ok) throw new Error(admission.message)
      const parsed = bot.parseText(brainstorm, `bench topic ${i}`)
      if (!parsed.ok) throw new Error(parsed.message)
      await bot.accept(
        {
          command: brainstorm,
          input: parsed.input,
          user: `user${i}`,
          userId: `U${i}`,
          target: replyTarget({ teamId: team, channel, responseUrl: `http://127.0.0.1:9/${i}` }),
        },
        signal,
      )
    })
    if (typeof outcome === 'object') throw new Error(outcome.refused)
    await done
    finals.delete(channel)
  }
  return {
    command,
    slackCalls: web.calls,
    close: async () => {
      await bot.shutdown(0)
      await backends.close()
    },
  }
}

/** BullMQ alone: jobs that do nothing, added and worked with the options Chorus uses. */
async function bullmq(prefix: string, inFlight: number) {
  const options = { maxRetriesPerRequest: null }
  const connection = new Redis(server.url, options)
  const working = new Redis(server.url, options)
  const queue = new Queue('runs', { connection, prefix: `${prefix}:bull` })
  const done = new Map<string, () => void>()
  const worker = new Worker(
    'runs',
    async (job) => {
      done.get(job.id as string)?.()
    },
    { connection: working, prefix: `${prefix}:bull`, concurrency: workerRuns(inFlight) },
  )
  await worker.waitUntilReady()
  const command = async (i: number) => {
    const id = `${prefix}-${i}`
    const finished = new Promise<void>((resolve) => done.set(id, resolve))
    await queue.add(
      'run',
      { runId: id },
      { jobId: id, removeOnComplete: true, removeOnFail: { age: 7 * 24 * 3600 }, attempts: 1 },
    )
    await finished
    done.delete(id)
  }
  return {
    command,
    slackCalls: () => 0,
    close: async () => {
      // The last jobs' completions (moveToFinished) land after their processors returned.
      await new Promise((r) => setTimeout(r, 200))
      await worker.close()
      await queue.close()
      await connection.quit()
      await working.quit()
    },
  }
}

async function round(kind: 'chorus' | 'floor', prefix: string, inFlight: number, runs: number) {
  const target = await (kind === 'chorus' ? chorus : bullmq)(prefix, inFlight)
  try {
    // Scripts loaded, connections up.
    await bounded(10, 20, (i) => target.command(-1 - i))
    const slack0 = target.slackCalls()
    const before = await snapshot()
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    await bounded(inFlight, runs, target.command)
    const wallMs = performance.now() - t0
    if (kind === 'floor') await new Promise((r) => setTimeout(r, 200))
    const wall = { ms: wallMs, cpu: process.cpuUsage(cpu0) }
    return perRun(before, await snapshot(), runs, wall, (target.slackCalls() - slack0) / runs)
  } finally {
    await target.close()
    await admin.flushall()
  }
}

/** The commands per run by part of Chorus, from one round watched with MONITOR. */
async function parts(inFlight: number): Promise<string> {
  const runs = Math.min(runsFor(inFlight), 1_000)
  const target = await chorus(`parts${inFlight}`, inFlight)
  try {
    await bounded(10, 20, (i) => target.command(-1 - i))
    const watching = await watch()
    await bounded(inFlight, runs, target.command)
    await new Promise((r) => setTimeout(r, 200))
    const counts = [...watching.stop()].sort((a, b) => b[1] - a[1])
    return counts.map(([part, n]) => `${part} ${(n / runs).toFixed(1)}`).join(', ')
  } finally {
    await target.close()
    await admin.flushall()
  }
}

/** BullMQ's scripts by SHA-1 (as ioredis sends them), from the package's own script files. */
async function bullScripts(): Promise<Map<string, string>> {
  const dir = join(dirname(fileURLToPath(import.meta.resolve('bullmq'))), 'scripts')
  const names = new Map<string, string>()
  for (const file of readdirSync(dir).filter((f) => /^[a-zA-Z]+-\d+\.js$/.test(f))) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, { content?: string }>
    for (const [name, script] of Object.entries(mod))
      if (typeof script.content === 'string')
        names.set(createHash('sha1').update(script.content).digest('hex'), name)
  }
  return names
}

/**
 * Redis' own time inside commands per run, by part (BullMQ by script), from one round logged with
 * SLOWLOG at threshold 0 (a script's time includes the commands it runs; reading and answering
 * sockets and waking up, the rest of Redis CPU, are not in it).
 */
async function timedParts(inFlight: number): Promise<string> {
  const runs = Math.min(runsFor(inFlight), 1_000)
  const target = await chorus(`timed${inFlight}`, inFlight)
  const scripts = await bullScripts()
  const old = (await admin.config('GET', 'slowlog-*')) as string[]
  try {
    await bounded(10, 20, (i) => target.command(-1 - i))
    await admin.config('SET', 'slowlog-max-len', String(runs * 200), 'slowlog-log-slower-than', '0')
    await admin.slowlog('RESET')
    await bounded(inFlight, runs, target.command)
    await new Promise((r) => setTimeout(r, 200))
    const entries = (await admin.slowlog('GET', -1)) as Array<[number, number, number, string[], string]>
    const us = new Map<string, number>()
    for (const [, , micros, args, client] of entries) {
      const name = String(args[0]).toLowerCase()
      // A script's commands are logged too (client '?:0'), and are in the script's time already.
      if (client === '?:0' || name === 'slowlog' || name === 'config') continue
      const script = name === 'evalsha' ? scripts.get(String(args[1])) : undefined
      let part = partOf(name, (name === 'evalsha' ? args[3] : args[1]) ?? '')
      if (part === 'BullMQ') part = `BullMQ ${script ?? name}`
      us.set(part, (us.get(part) ?? 0) + micros)
    }
    const total = [...us.values()].reduce((a, b) => a + b, 0)
    const top = [...us].sort((a, b) => b[1] - a[1]).filter(([, n]) => n / runs >= 1)
    return `${(total / runs).toFixed(0)} µs: ${top.map(([part, n]) => `${part} ${(n / runs).toFixed(0)}`).join(', ')}`
  } finally {
    for (let i = 0; i + 1 < old.length; i += 2)
      await admin.config('SET', old[i] as string, old[i + 1] as string)
    await target.close()
    await admin.flushall()
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
let rounds = 0

async function measure(kind: 'chorus' | 'floor', inFlight: number): Promise<void> {
  const rows: Round[] = []
  const runs = runsFor(inFlight)
  for (let r = 0; r < REPEATS; r++) rows.push(await round(kind, `bench${++rounds}`, inFlight, runs))
  const cpuMs = median(rows.map((r) => r.cpuMs))
  const what = kind === 'chorus' ? '/brainstorm' : 'BullMQ floor (a job that does nothing)'
  const cells = [
    what,
    inFlight.toLocaleString('en-US'),
    `${runs} × ${REPEATS}`,
    median(rows.map((r) => r.commands)).toFixed(0),
    `${cpuMs.toFixed(3)} ms`,
    Math.round(1000 / cpuMs).toLocaleString('en-US'),
    median(rows.map((r) => r.perSecond)).toFixed(0),
    kind === 'chorus' ? median(rows.map((r) => r.slack)).toFixed(1) : '—',
    `${median(rows.map((r) => r.processMs)).toFixed(2)} ms`,
  ]
  console.log(`| ${cells.join(' | ')} |`)
  if (DETAIL) {
    const mid = rows.find((r) => r.cpuMs === cpuMs) ?? (rows[0] as Round)
    const top = [...mid.byCommand].sort((a, b) => b[1] - a[1]).slice(0, 12)
    console.log(
      `    sys ${mid.sysMs.toFixed(3)} ms; ${top.map(([c, n]) => `${c} ${n.toFixed(1)}`).join(', ')}`,
    )
    if (kind === 'chorus') console.log(`    by part: ${await parts(inFlight)}`)
    if (kind === 'chorus')
      console.log(`    time inside Redis commands per run, by part: ${await timedParts(inFlight)}`)
  }
}

try {
  const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1]
  console.log(
    `Node ${process.version}, ${process.platform}/${process.arch}, Redis ${version}; CHORUS_CONCURRENCY=${CONCURRENCY}; medians of ${REPEATS}\n`,
  )
  console.log(
    '| run | in flight | runs | Redis commands per run | Redis CPU per run | runs/s one Redis carries | runs/s here | Slack calls per run | CPU per run in this process |',
  )
  console.log('|---|---|---|---|---|---|---|---|---|')
  for (const inFlight of IN_FLIGHT) {
    await measure('floor', inFlight)
    await measure('chorus', inFlight)
  }
} finally {
  admin.disconnect()
  await server.remove()
}
