/**
 * What tracing adds to a run, in one process: `/brainstorm` (5 angles + synthesis) on a model that
 * answers at once, 10 at a time, without an observer and with the tracer (`openTracing`: the real
 * SDK, batch processor and OTLP/HTTP exporter, JSON or OTEL_EXPORTER_OTLP_PROTOCOL's, sending to a
 * receiver in this process, whose share is small: it only counts bytes). CPU of this process per run,
 * interleaved rounds, medians. `npm run bench:trace` (BENCH_RUNS=1000, BENCH_ROUNDS=5). End to end, with Slack and the model over
 * HTTP: `BENCH_TRACING=off,on npm run bench:cpu`.
 */
import { pino } from 'pino'
import { Bot, loadConfig, type ReplyView } from '../src/bot/index.ts'
import { startTracing } from '../src/trace/index.ts'
import { ScriptedModel } from '../test/fakes/model.ts'
import { startFakeOtlp } from '../test/fakes/otlp.ts'

const RUNS = Number(process.env.BENCH_RUNS ?? 1000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const AT_ONCE = 10
const logger = pino({ level: 'silent' })
const model = new ScriptedModel((prompt) => ({ text: `- **An idea** for ${prompt.slice(0, 24)}` }))
const otlp = await startFakeOtlp()

async function round(traced: boolean): Promise<number> {
  const config = loadConfig(
    traced
      ? {
          OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
          OTEL_BSP_SCHEDULE_DELAY: '200',
          OTEL_EXPORTER_OTLP_PROTOCOL: process.env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/json',
        }
      : {},
  )
  const tracing = await startTracing(config, logger, 'worker')
  const bot = await Bot.create({
    config,
    model,
    logger,
    ...(tracing === undefined ? {} : { observer: tracing.observer }),
  })
  const command = bot.command('brainstorm')
  if (command === undefined) throw new Error('no /brainstorm')
  const sink = { show: async (_view: ReplyView) => {} }
  const one = () =>
    bot.start({
      command,
      input: { topic: 'cats', angles: 5 },
      user: 'U1',
      platform: 'console',
      sink,
      minIntervalMs: 0,
    }).done
  for (let i = 0; i < 100; i++) await one()
  const c0 = process.cpuUsage()
  for (let i = 0; i < RUNS / AT_ONCE; i++) await Promise.all(Array.from({ length: AT_ONCE }, one))
  // The spans of the measured runs are sent within the measurement.
  await tracing?.shutdown()
  const used = process.cpuUsage(c0)
  await bot.shutdown(0)
  return (used.user + used.system) / 1000 / RUNS
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const off: number[] = []
const on: number[] = []
for (let r = 0; r < ROUNDS; r++) {
  off.push(await round(false))
  on.push(await round(true))
}
const bytes = otlp.requests.reduce((n, r) => n + r.bytes, 0) / (ROUNDS * (RUNS + 100))
console.log(
  `Node ${process.version}; ${RUNS} /brainstorm per round, ${AT_ONCE} at a time, medians of ${ROUNDS} interleaved rounds\n`,
)
console.log('| tracing | CPU per run | rounds | OTLP bytes per run |')
console.log('|---|---|---|---|')
console.log(`| off | ${median(off).toFixed(3)} ms | ${off.map((x) => x.toFixed(3)).join(', ')} | 0 |`)
console.log(
  `| on | ${median(on).toFixed(3)} ms | ${on.map((x) => x.toFixed(3)).join(', ')} | ${bytes.toFixed(0)} |`,
)
await otlp.close()
