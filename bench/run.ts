/**
 * Engine overhead against a plain Promise.race / Promise.all baseline, measured in the same process:
 * CPU time per run (process.cpuUsage, so other work on a shared machine does not count), rounds of
 * the two interleaved. `npm run bench` prints Markdown tables (paste them into README.md).
 */
import { z } from 'zod'
import { all, any, defineFlow, runFlow, sleep } from '../src/engine/index.ts'
import { mulberry32 } from '../src/llm/index.ts'

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

/** A flow of N start steps, `any` → first, `all` → final; step i runs `work(i, signal)`. */
function fanOut(n: number, work: (i: number, signal: AbortSignal) => Promise<number>) {
  return defineFlow({
    name: 'bench',
    description: 'bench',
    input: z.object({}),
    build(f) {
      const steps = Array.from({ length: n }, (_, i) => f.start(`s${i}`, ({ signal }) => work(i, signal)))
      const first = f.listen(any(steps), 'first', (w) => w.value)
      const final = f.listen(all(steps), 'final', (xs) => xs.length)
      return { first, final }
    },
  })
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number
}
const us = (ms: number): string => `${(ms * 1000).toFixed(1)} µs`
/** CPU time this process has used, in milliseconds. */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

async function overhead(n: number): Promise<string> {
  const work = async (i: number) => i
  const flow = fanOut(n, work)
  const iterations = Math.max(400, Math.round(40_000 / n))
  const baseline = async () => {
    const ps = Array.from({ length: n }, (_, i) => work(i))
    await Promise.race(ps)
    await Promise.all(ps)
  }
  const engine = async () => {
    await runFlow(flow, {}).result
  }
  for (let i = 0; i < 1_000; i++) {
    await baseline()
    await engine()
  }
  // No forced GC between rounds: V8 drops compiled code on a full GC, and short rounds would then
  // measure warming up again rather than the engine.
  const time = async (fn: () => Promise<void>) => {
    const t0 = cpuMs()
    for (let i = 0; i < iterations; i++) await fn()
    return (cpuMs() - t0) / iterations
  }
  const bases: number[] = []
  const engines: number[] = []
  const added: number[] = []
  for (let round = 0; round < 7; round++) {
    const b = await time(baseline)
    const e = await time(engine)
    bases.push(b)
    engines.push(e)
    added.push(e - b)
  }
  const perRun = quantile(added, 0.5)
  return `| ${n} | ${us(quantile(bases, 0.5))} | ${us(quantile(engines, 0.5))} | ${us(perRun)} | ${us(perRun / n)} |`
}

async function addedLatency(trials: number): Promise<string[]> {
  const rand = mulberry32(42)
  const firstAdded: number[] = []
  const finalAdded: number[] = []
  for (let t = 0; t < trials; t++) {
    const lat = Array.from({ length: 5 }, () => 2 + Math.floor(rand() * 18))
    const work = (i: number, signal?: AbortSignal) => sleep(lat[i] as number, signal).then(() => i)

    const b0 = performance.now()
    const ps = lat.map((_, i) => work(i))
    await Promise.race(ps)
    const bFirst = performance.now() - b0
    await Promise.all(ps)
    const bFinal = performance.now() - b0

    const e0 = performance.now()
    let eFirst = Number.NaN
    const run = runFlow(
      fanOut(5, work),
      {},
      {
        onEvent: (e) => {
          if (e.type === 'run.first') eFirst = performance.now() - e0
        },
      },
    )
    await run.result
    const eFinal = performance.now() - e0
    firstAdded.push(eFirst - bFirst)
    finalAdded.push(eFinal - bFinal)
  }
  const row = (name: string, xs: number[]) =>
    `| ${name} | ${(quantile(xs, 0.5)).toFixed(3)} ms | ${(quantile(xs, 0.95)).toFixed(3)} ms |`
  return [row('to first', firstAdded), row('to final', finalAdded)]
}

async function concurrent(runs: number): Promise<string> {
  const work = (i: number, signal: AbortSignal) => sleep(10 + i, signal).then(() => i)
  const flow = fanOut(5, work)
  gc()
  await sleep(50)
  gc()
  const heap0 = process.memoryUsage().heapUsed
  const t0 = performance.now()
  const handles = Array.from({ length: runs }, () => runFlow(flow, {}))
  await sleep(5) // all runs are in flight now
  const heapPeak = process.memoryUsage().heapUsed
  const results = await Promise.all(handles.map((h) => h.result))
  const wall = performance.now() - t0
  const ok = results.filter((r) => r.status === 'completed').length
  // The baseline: the same waits with plain promises.
  const b0 = performance.now()
  await Promise.all(
    Array.from({ length: runs }, async () => {
      const ps = Array.from({ length: 5 }, (_, i) => sleep(10 + i).then(() => i))
      await Promise.race(ps)
      await Promise.all(ps)
    }),
  )
  const baseWall = performance.now() - b0
  const kb = (heapPeak - heap0) / runs / 1024
  return `| ${runs} runs × 5 steps (10-14 ms each) | ${wall.toFixed(1)} ms (baseline ${baseWall.toFixed(1)} ms) | ${kb.toFixed(1)} KiB | ${ok}/${runs} completed |`
}

console.log(
  `Node ${process.version}, ${process.platform}/${process.arch}${(globalThis as { gc?: unknown }).gc ? '' : ' (no --expose-gc)'}\n`,
)
console.log('### Overhead with zero-latency steps (CPU per run, median of 7 rounds)\n')
console.log('| N steps | Promise.race + all | Chorus engine | added per run | added per step |')
console.log('|---|---|---|---|---|')
for (const n of [2, 5, 20, 100]) console.log(await overhead(n))
console.log('\n### Added latency, N = 5, seeded step latencies 2-19 ms, 200 trials\n')
console.log('| | median | p95 |')
console.log('|---|---|---|')
for (const row of await addedLatency(200)) console.log(row)
console.log('\n### 1,000 concurrent runs\n')
console.log('| load | wall time | heap per in-flight run | result |')
console.log('|---|---|---|---|')
console.log(await concurrent(1_000))
