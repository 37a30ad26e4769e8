import { existsSync } from 'node:fs'
import type { Logger } from 'pino'
import { runOnce, startConsole } from '../adapters/console/index.ts'
import { Bot, ChorusError, createLogger, loadConfig } from './bot/index.ts'
import { openStore } from './store/index.ts'

/**
 * `npm start`: Slack and/or Discord when their tokens are set, otherwise the console.
 * `npm start -- brainstorm "topic"` runs one command in the console and exits.
 */
export async function dispatchLine(argv: string[]): Promise<void> {
  try {
    if (existsSync('.env')) process.loadEnvFile('.env')
    const config = loadConfig(process.env)
    const oneShot = argv.length > 0
    // Platform adapters load only when their tokens are set, and check them before anything starts.
    const slack =
      config.SLACK_BOT_TOKEN === undefined || oneShot ? undefined : await import('../adapters/slack/index.ts')
    const discord =
      config.DISCORD_TOKEN === undefined || oneShot ? undefined : await import('../adapters/discord/index.ts')
    slack?.slackMode(config)
    discord?.discordSettings(config)
    const consoleMode = slack === undefined && discord === undefined
    // In the console the reply is the output; logs go to stderr and only warnings by default.
    const level = consoleMode && process.env.LOG_LEVEL === undefined ? 'warn' : config.LOG_LEVEL
    const logger = createLogger(level, { pretty: consoleMode })
    // Console runs print to the terminal that started them, so only platform runs are journaled.
    const store = consoleMode ? undefined : openStore({ dataDir: config.CHORUS_DATA_DIR })
    const bot = await Bot.create({ config, logger, ...(store === undefined ? {} : { store }) })
    if (bot.model.demo) {
      process.stderr.write(
        'No OPENAI_API_KEY set: using the offline demo model; its answers are canned demo text.\n',
      )
    }
    if (oneShot) {
      process.exitCode = await runOnce(bot, argv.join(' '))
      return
    }
    if (consoleMode) {
      await startConsole(bot)
      return
    }
    keepServing(logger)
    logger.info({ store: bot.store.describe }, 'journal.opened')
    const running = [
      ...(slack === undefined ? [] : [await slack.startSlack(bot, config)]),
      ...(discord === undefined ? [] : [await discord.startDiscord(bot, config)]),
    ]
    const t0 = performance.now()
    const { queued } = await bot.resume()
    logger.info({ resumed: queued, ms: Math.round(performance.now() - t0) }, 'journal.resumed')
    let stopping = false
    const shutdown = async (signal: string): Promise<void> => {
      if (stopping) {
        logger.warn({ signal }, 'shutdown.forced')
        process.exit(1)
      }
      stopping = true
      logger.info({ signal, active: bot.activeRuns, graceMs: config.CHORUS_SHUTDOWN_GRACE_MS }, 'shutdown')
      const outcome = await bot.shutdown(config.CHORUS_SHUTDOWN_GRACE_MS)
      logger.info(outcome, 'shutdown.drained')
      await Promise.allSettled(running.map((r) => r.stop()))
      await bot.store.close()
      process.exit(0)
    }
    process.on('SIGINT', () => void shutdown('SIGINT'))
    process.on('SIGTERM', () => void shutdown('SIGTERM'))
  } catch (error) {
    if (error instanceof ChorusError) {
      process.stderr.write(`${error.message}\n`)
      process.exitCode = 1
      return
    }
    throw error
  }
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
