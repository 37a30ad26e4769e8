import type { Logger } from 'pino'
import type { Backends } from './backends.ts'
import type { Bot } from './bot/index.ts'
import type { Config } from './config/index.ts'
import { FairLimiter } from './engine/index.ts'
import { ChorusError } from './errors.ts'
import {
  type Check,
  type ChorusMetrics,
  inspector,
  type OpsServer,
  redisCheck,
  startOpsServer,
  storeCheck,
} from './ops/index.ts'

/** A platform connection: closed after the drain; `check` says whether it is connected now. */
export interface Connection {
  name: string
  stop(): Promise<void>
  check?(): Check
}

/** Queue depth and this process's runs are logged this often, and when they change. */
const STATS_EVERY_MS = 15_000

/**
 * The long-running part shared by `npm start` (receiver and worker) and `npm run worker`: works
 * queued runs, logs the queue, survives stray exceptions, and drains on SIGTERM/SIGINT.
 */
export async function serve(opts: {
  bot: Bot
  backends: Backends
  config: Config
  logger: Logger
  role: 'receiver' | 'worker'
  /** Platform connections to close after the runs were drained (their replies need them until then). */
  connections?: Connection[]
  /** The metrics the bot was created with (its observer); served on CHORUS_HTTP_PORT. */
  metrics: ChorusMetrics
  /** Traces (with an OTLP endpoint): their last spans are sent before the process exits. */
  tracing?: { shutdown(): Promise<void> } | undefined
}): Promise<void> {
  const { bot, backends, config, logger, role } = opts
  keepServing(logger)
  const ops = await startOps(opts)
  if (config.CHORUS_WORKER_RUNS > 0) await bot.startWorking(config.CHORUS_WORKER_RUNS)
  const t0 = performance.now()
  const { queued } = await bot.resume()
  logger.info(
    {
      role,
      store: bot.store.describe,
      queue: bot.queue.describe,
      resumed: queued,
      ms: Math.round(performance.now() - t0),
    },
    'journal.resumed',
  )
  let last = ''
  const stats = setInterval(() => {
    bot.queue
      .stats()
      .then((s) => {
        const line = { ...s, localRuns: bot.activeRuns }
        const key = JSON.stringify(line)
        if (key === last && s.waiting === 0 && s.active === 0) return
        last = key
        logger.info({ event: 'queue.stats', role, ...line }, 'queue.stats')
      })
      .catch((err: unknown) => logger.warn({ err }, 'queue.stats_failed'))
  }, STATS_EVERY_MS)
  stats.unref()

  let stopping = false
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) {
      logger.warn({ signal }, 'shutdown.forced')
      process.exit(1)
    }
    stopping = true
    clearInterval(stats)
    await ops?.close()
    logger.info(
      { signal, role, active: bot.activeRuns, graceMs: config.CHORUS_SHUTDOWN_GRACE_MS },
      'shutdown',
    )
    // Runs that do not finish within the grace are handed back: to the queue for another worker
    // (Redis), or to the journal for the next start (SQLite).
    const outcome = await bot.shutdown(config.CHORUS_SHUTDOWN_GRACE_MS)
    logger.info(outcome, 'shutdown.drained')
    await Promise.allSettled((opts.connections ?? []).map((c) => c.stop()))
    await opts.tracing?.shutdown()
    await backends.close().catch((err: unknown) => logger.error({ err }, 'shutdown.close_failed'))
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
}

/** `/healthz`, `/readyz` and `/metrics` on CHORUS_HTTP_PORT (0 = none). */
async function startOps(opts: Parameters<typeof serve>[0]): Promise<OpsServer | undefined> {
  const { bot, backends, config, logger, metrics } = opts
  metrics.attach({
    activeRuns: () => bot.activeRuns,
    queue: bot.queue,
    ...(backends.limiter instanceof FairLimiter ? { limiter: backends.limiter } : {}),
    budget: bot.budget,
    ...(backends.health === undefined ? {} : { redis: backends.health }),
  })
  if (config.CHORUS_HTTP_PORT === 0) return undefined
  const checks: Record<string, () => Promise<Check>> = {
    ...(backends.health === undefined ? {} : { redis: redisCheck(backends.health) }),
    store: storeCheck(bot.store, backends.health),
  }
  for (const c of opts.connections ?? []) {
    const check = c.check
    if (check !== undefined) checks[c.name] = async () => check()
  }
  try {
    const server = await startOpsServer({
      port: config.CHORUS_HTTP_PORT,
      metrics: async () => ({ body: await metrics.scrape(), contentType: metrics.registry.contentType }),
      checks,
      inspector: inspectorOf(bot, config, logger),
    })
    logger.info({ port: server.port }, 'ops.listening')
    return server
  } catch (err) {
    // The bot still answers users; the failing probes tell the operator.
    logger.error({ err, port: config.CHORUS_HTTP_PORT }, 'ops.listen_failed')
    return undefined
  }
}

/** The run inspector on `/runs`, when CHORUS_INSPECTOR_TOKEN is set. */
function inspectorOf(bot: Bot, config: Config, logger: Logger) {
  const token = config.CHORUS_INSPECTOR_TOKEN
  if (token === undefined) return undefined
  return inspector({
    token,
    store: bot.store,
    flows: { names: () => bot.commands.map((c) => c.name), flow: (name) => bot.flow(name) },
    traceUrl: config.CHORUS_TRACE_URL,
    log: logger,
  })
}

/**
 * A throw inside a platform SDK's socket handler, or a rejection nobody handled, is logged with its
 * details and the process keeps serving every other run; were it to die, the journal would resume them.
 */
function keepServing(logger: Logger): void {
  process.on('uncaughtException', (err, origin) =>
    logger.error({ err, origin }, 'process.uncaught_exception'),
  )
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'process.unhandled_rejection'))
}

/** Runs an entry point: a ChorusError (bad configuration) is printed as its message, exit code 1. */
export async function runEntry(main: () => Promise<void>): Promise<void> {
  try {
    await main()
  } catch (error) {
    if (!(error instanceof ChorusError)) throw error
    process.stderr.write(`${error.message}\n`)
    process.exitCode = 1
  }
}
