/**
 * What runs that wait for people cost. 1,000 runs of a flow that drafts with a model, then asks the
 * requester to approve: once every run waits, how much memory, how many live runs and model slots,
 * and how many journal bytes (SQLite; Redis keys and bytes with REDIS_URL) they hold; then everyone
 * answers and every run finishes. Compared with the same 1,000 runs waiting in memory (an asker that
 * keeps them live: what a run without parking costs). `npm run bench:parked`.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { questionKey } from '../src/bot/asks/index.ts'
import { Bot, type CommandRun, loadConfig, type Platform, type ReplySink } from '../src/bot/index.ts'
import { MemoryAsker, sleep } from '../src/engine/index.ts'
import type { LanguageModel } from '../src/llm/index.ts'
import { BullQueue } from '../src/queue/index.ts'
import { RedisStore, type RunStore, SqliteStore } from '../src/store/index.ts'

const RUNS = Number(process.env.RUNS ?? 1_000)
const FLOWS = fileURLToPath(new URL('../test/bot/fixtures/asks/', import.meta.url))
const config = loadConfig({ CHORUS_CONCURRENCY: '64' })
const logger = pino({ level: 'silent' })

const model: LanguageModel = {
  id: 'bench',
  demo: false,
  text: async () => 'A draft announcement of about a sentence, as a model would write it.',
  samples: async () => ({ texts: [], failed: 0, notNeeded: 0 }),
}

/** Questions are posted nowhere: only their place is kept, as Slack's `{channel, ts}` would be. */
function platform(): Platform {
  let n = 0
  return {
    name: 'slack',
    minIntervalMs: 0,
    remainingMs: () => undefined,
    lateEdits: () => true,
    sink: () => ({ show: async () => {} }),
    postQuestion: async () => ({ channel: 'C0123456', ts: `1700000000.${String(++n).padStart(6, '0')}` }),
    editQuestion: async () => {},
  }
}

const heapMiB = (): number => {
  globalThis.gc?.()
  globalThis.gc?.()
  return process.memoryUsage().heapUsed / 2 ** 20
}

async function until(what: () => Promise<boolean> | boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out')
    await sleep(20)
  }
}

async function parked(store: RunStore, queue?: BullQueue, measure?: () => Promise<string>) {
  const bot = await Bot.create({ config, model, logger, store, flowsDir: FLOWS, ...(queue ? { queue } : {}) })
  if (queue !== undefined) await bot.startWorking(64)
  bot.attach(platform())
  const command = bot.command('approve')
  if (command === undefined) throw new Error('no approve flow')
  // Warm-up: a first round of runs asked, parked, answered and finished, so that the heap counted
  // below is what parked runs hold, not what a first run of each code path leaves behind.
  await round(bot, store, command, Math.min(RUNS, 200))
  const heap0 = heapMiB()
  const t0 = performance.now()
  const ids = await acceptAll(bot, command, RUNS)
  await until(async () => (await store.parkedRuns()).length === RUNS)
  const parkMs = performance.now() - t0
  await sleep(200)
  const heap = heapMiB() - heap0
  const live = bot.activeRuns
  const journal = (await measure?.()) ?? ''
  const t1 = performance.now()
  await answerAll(bot, store, ids)
  const answerMs = performance.now() - t1
  await sleep(200)
  const after = heapMiB() - heap0
  await bot.shutdown(0)
  return { heap, live, parkMs, answerMs, journal, after }
}

type Approve = NonNullable<ReturnType<Bot['command']>>

async function round(bot: Bot, store: RunStore, command: Approve, n: number): Promise<void> {
  const ids = await acceptAll(bot, command, n)
  await until(async () => (await store.parkedRuns()).length === n)
  await answerAll(bot, store, ids)
}

async function acceptAll(bot: Bot, command: Approve, n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const target = { platform: 'slack' as const, channel: 'C0123456', teamId: 'T0123456' }
    const { runId } = await bot.accept({
      command,
      input: { topic: `launch ${i}`, timeout: '7d', fallback: 'none' },
      user: 'ada',
      userId: 'U1',
      target,
    })
    ids.push(runId)
  }
  return ids
}

/** The requester answers every run's question; resolves when every run has finished. */
async function answerAll(bot: Bot, store: RunStore, ids: string[]): Promise<void> {
  const questions = await Promise.all(ids.map((id) => store.questions(id)))
  await Promise.all(
    ids.map((runId, i) =>
      bot.answer({
        runId,
        key: keyOf(questions[i]?.[0]?.id),
        user: { id: 'U1', name: 'ada' },
        answer: { choice: 0 },
        platform: 'slack',
      }),
    ),
  )
  await until(async () =>
    (await Promise.all(ids.map((id) => store.get(id)))).every((r) => r?.status === 'completed'),
  )
}

async function held() {
  const bot = await Bot.create({ config, model, logger, flowsDir: FLOWS })
  const command = bot.command('approve')
  if (command === undefined) throw new Error('no approve flow')
  const sink: ReplySink = { show: async () => {} }
  const wait = async (n: number) => {
    const askers: MemoryAsker[] = []
    const runs: CommandRun[] = []
    for (let i = 0; i < n; i++) {
      const asker = new MemoryAsker({ requester: 'ada' })
      askers.push(asker)
      const input = { topic: `launch ${i}`, timeout: '7d', fallback: 'none' }
      runs.push(bot.start({ command, input, user: 'ada', platform: 'console', sink, asker }))
    }
    await until(() => askers.every((a) => a.open.length === 1))
    return { askers, runs }
  }
  const finish = async ({ askers, runs }: Awaited<ReturnType<typeof wait>>) => {
    for (const a of askers) a.answer(a.open[0]?.id as string, 'ada', 'yes')
    await Promise.all(runs.map((r) => r.done))
  }
  await finish(await wait(Math.min(RUNS, 200)))
  const heap0 = heapMiB()
  const waiting = await wait(RUNS)
  await sleep(200)
  const heap = heapMiB() - heap0
  const live = bot.activeRuns
  await finish(waiting)
  await bot.shutdown(0)
  return { heap, live }
}

function keyOf(id: string | undefined): string {
  return questionKey(id ?? '')
}

async function main(): Promise<void> {
  if (globalThis.gc === undefined) console.log('(run with --expose-gc for steady heap numbers)')
  const dir = mkdtempSync(join(tmpdir(), 'chorus-parked-'))
  const file = join(dir, 'chorus.db')
  const store = new SqliteStore(file)
  const size = (): number =>
    ['', '-wal'].reduce((n, s) => n + (statSync(`${file}${s}`, { throwIfNoEntry: false })?.size ?? 0), 0)
  const bytes0 = size()
  const sqlite = await parked(store)
  const bytes = size() - bytes0
  await store.close()
  rmSync(dir, { recursive: true, force: true })
  const memory = await held()
  const rows = [
    `| ${RUNS} runs waiting | heap held | runs live in the process | journal |`,
    '|---|---|---|---|',
    `| parked (SQLite) | ${sqlite.heap.toFixed(1)} MiB (${((sqlite.heap * 1024) / RUNS).toFixed(2)} KiB a run) | ${sqlite.live} | ${(bytes / RUNS / 1024).toFixed(2)} KiB a run (file + WAL, run and question rows) |`,
    `| waiting in memory | ${memory.heap.toFixed(1)} MiB (${((memory.heap * 1024) / RUNS).toFixed(2)} KiB a run) | ${memory.live} | none (lost with the process) |`,
  ]
  console.log(rows.join('\n'))
  console.log(`heap after they all finished: ${sqlite.after.toFixed(1)} MiB`)
  console.log(
    `\nSQLite: ${RUNS} runs accepted and parked in ${(sqlite.parkMs / 1000).toFixed(1)} s; all answered and finished in ${(sqlite.answerMs / 1000).toFixed(1)} s.`,
  )
  const url = process.env.REDIS_URL
  if (url !== undefined) {
    const prefix = `bench-parked-${process.pid}`
    const redis = new Redis(url)
    const rstore = new RedisStore({ redis: url, prefix })
    const queue = new BullQueue({ url, prefix, log: logger, lockMs: 10_000, stalledMs: 5_000 })
    const measure = async (): Promise<string> => {
      const keys = await redis.keys(`${prefix}:*`)
      let used = 0
      for (const k of keys) used += (await redis.memory('USAGE', k)) ?? 0
      const delayed = (await queue.stats()).delayed
      return `${keys.length} keys (${delayed} delayed deadline jobs), ${(used / RUNS / 1024).toFixed(2)} KiB a run`
    }
    const r = await parked(rstore, queue, measure)
    console.log(
      `Redis + BullMQ: ${RUNS} runs parked in ${(r.parkMs / 1000).toFixed(1)} s holding ${r.heap.toFixed(1)} MiB of heap and ${r.live} live runs; Redis holds ${r.journal}; all answered and finished in ${(r.answerMs / 1000).toFixed(1)} s.`,
    )
    await queue.close()
    await rstore.close()
    for (const k of await redis.keys(`${prefix}:*`)) await redis.del(k)
    redis.disconnect()
  }
}

await main()
