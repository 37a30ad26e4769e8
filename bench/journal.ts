/**
 * What the run journal costs: every write a /brainstorm run makes (create, 7 step outcomes, the
 * reply target, 3 delivered views, finish), timed one by one on a real SQLite file, the file's size
 * per run, and how long a restart takes to pick up 20 unfinished runs. `npm run bench:journal`.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { Bot, loadConfig, type Platform } from '../src/bot/index.ts'
import { sleep } from '../src/engine/index.ts'
import type { LanguageModel } from '../src/llm/index.ts'
import { SqliteStore } from '../src/store/index.ts'

const RUNS = 2_000
const IDEA = '- **An idea** with one sentence that says why it matters, as a model would write it.'

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number
}
const us = (ms: number): string => `${(ms * 1000).toFixed(1)} µs`

async function writes(file: string) {
  const store = new SqliteStore(file)
  const timings: Record<string, number[]> = { create: [], step: [], target: [], delivered: [], finish: [] }
  const time = async (kind: string, fn: () => Promise<unknown>) => {
    const t0 = performance.now()
    await fn()
    timings[kind]?.push(performance.now() - t0)
  }
  for (let i = 0; i < RUNS; i++) {
    const id = `run-${i}`
    await time('create', () =>
      store.create({
        id,
        command: 'brainstorm',
        input: { topic: `a name for our analytics product ${i}`, angles: 5 },
        user: 'ada',
        target: {
          platform: 'slack',
          teamId: 'T0123456',
          channel: 'C0123456',
          responseUrl: 'https://hooks.slack.com/commands/T0123456/1234567890/abcdefghijklmnopqrstuvwx',
        },
        createdAt: Date.now(),
      }),
    )
    await time('delivered', () => store.markDelivered(id, 'placeholder'))
    await time('target', () =>
      store.setTarget(id, { platform: 'slack', channel: 'C0123456', ts: '1700000000.000100' }),
    )
    for (let a = 0; a < 5; a++)
      await time('step', () => store.recordStep(id, { step: `angle-${a}`, call: 1, ok: true, value: IDEA }))
    await time('step', () =>
      store.recordStep(id, { step: 'first', call: 1, ok: true, value: `_Angle_\n${IDEA}` }),
    )
    await time('delivered', () => store.markDelivered(id, 'first'))
    await time('step', () =>
      store.recordStep(id, { step: 'synthesis', call: 1, ok: true, value: `${IDEA}\n`.repeat(6) }),
    )
    await time('delivered', () => store.markDelivered(id, 'final'))
    await time('finish', () => store.finish(id, 'completed'))
  }
  await store.close()
  const all = Object.values(timings).flat()
  return { timings, all, perRun: all.length / RUNS }
}

async function resumeTime(file: string): Promise<{ resumeMs: number; shownMs: number }> {
  const seed = new SqliteStore(file)
  for (let i = 0; i < 20; i++) {
    const id = `unfinished-${i}`
    await seed.create({
      id,
      command: 'brainstorm',
      input: { topic: `topic ${i}`, angles: 5 },
      user: 'ada',
      target: { platform: 'slack', channel: 'C1', ts: `1700000000.${i}` },
      createdAt: Date.now(),
    })
    await seed.markDelivered(id, 'placeholder')
    for (let a = 0; a < 2; a++)
      await seed.recordStep(id, { step: 'angle-user-pain', call: 1, ok: true, value: IDEA })
  }
  await seed.close()
  const model: LanguageModel = {
    id: 'bench',
    demo: false,
    text: async (_p, o) => {
      await sleep(5_000, o?.signal)
      return IDEA
    },
    samples: async () => ({ texts: [], failed: 0, notNeeded: 0 }),
  }
  let shown = 0
  let allShown!: () => void
  const done = new Promise<void>((r) => {
    allShown = r
  })
  const platform: Platform = {
    name: 'slack',
    minIntervalMs: 1_000,
    remainingMs: () => undefined,
    sink: () => ({
      show: async () => {
        if (++shown === 20) allShown()
      },
    }),
  }
  const t0 = performance.now()
  const store = new SqliteStore(file)
  const bot = await Bot.create({ config: loadConfig({}), model, logger: pino({ level: 'silent' }), store })
  bot.attach(platform)
  await bot.resume()
  const resumeMs = performance.now() - t0
  await done
  const shownMs = performance.now() - t0
  for (let i = 0; i < 20; i++) bot.get(`unfinished-${i}`)?.cancel('bench')
  await Promise.allSettled(Array.from({ length: 20 }, (_, i) => bot.settled(`unfinished-${i}`)))
  await store.close()
  return { resumeMs, shownMs }
}

const dir = mkdtempSync(join(tmpdir(), 'chorus-bench-journal-'))
try {
  const file = join(dir, 'chorus.db')
  const { timings, all, perRun } = await writes(file)
  const size = statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0)
  console.log(`Node ${process.version}, ${process.platform}/${process.arch}, ${RUNS} /brainstorm runs\n`)
  console.log('| write | count per run | p50 | p99 | max |')
  console.log('|---|---|---|---|---|')
  for (const [kind, xs] of Object.entries(timings)) {
    console.log(
      `| ${kind} | ${(xs.length / RUNS).toFixed(0)} | ${us(quantile(xs, 0.5))} | ${us(quantile(xs, 0.99))} | ${us(Math.max(...xs))} |`,
    )
  }
  console.log(
    `| **all** | ${perRun.toFixed(0)} | ${us(quantile(all, 0.5))} | ${us(quantile(all, 0.99))} | ${us(Math.max(...all))} |`,
  )
  console.log(
    `\nJournal size: ${(size / RUNS / 1024).toFixed(2)} KiB per finished run (file + WAL, ${RUNS} runs)`,
  )
  const resumeFile = join(dir, 'resume.db')
  const { resumeMs, shownMs } = await resumeTime(resumeFile)
  console.log(
    `Restart with 20 unfinished runs: open + resume ${resumeMs.toFixed(1)} ms, every reply updated after ${shownMs.toFixed(1)} ms`,
  )
} finally {
  rmSync(dir, { recursive: true, force: true })
}
