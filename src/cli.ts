import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { runOnce, startConsole } from '../adapters/console/index.ts'
import { openBackends } from './backends.ts'
import { Bot, observeAll } from './bot/index.ts'
import { loadConfig } from './config/index.ts'
import { ChorusError } from './errors.ts'
import { createLogger } from './log/index.ts'
import { ChorusMetrics } from './ops/index.ts'
import { runEntry, serve } from './service.ts'
import { startTracing } from './trace/index.ts'

/**
 * `npm start`: Slack and/or Discord when their tokens are set (a receiver that also works runs),
 * otherwise the console. `npm start -- brainstorm "topic"` runs one command in the console and exits.
 */
export async function dispatchLine(argv: string[]): Promise<void> {
  await runEntry(async () => {
    if (existsSync('.env')) process.loadEnvFile('.env')
    const config = loadConfig(process.env)
    const oneShot = argv.length > 0
    // Platform adapters load only when their tokens are set, and check them before anything starts.
    // A bot token (one workspace) or the OAuth credentials (installs in many).
    const slackSet = [config.SLACK_BOT_TOKEN, config.SLACK_CLIENT_ID, config.SLACK_CLIENT_SECRET].some(
      (v) => v !== undefined,
    )
    const slack = !slackSet || oneShot ? undefined : await import('../adapters/slack/index.ts')
    // DISCORD_PUBLIC_KEY: Discord over HTTP (the interactions endpoint on PORT), with no gateway.
    const discordHttp = config.DISCORD_PUBLIC_KEY !== undefined
    const discord =
      (config.DISCORD_TOKEN === undefined && !discordHttp) || oneShot
        ? undefined
        : await import('../adapters/discord/index.ts')
    const mode = slack?.slackMode(config)
    if (discordHttp) discord?.discordHttpSettings(config)
    else discord?.discordSettings(config)
    const consoleMode = slack === undefined && discord === undefined
    // In the console the reply is the output; logs go to stderr and only warnings by default.
    const level = consoleMode && process.env.LOG_LEVEL === undefined ? 'warn' : config.LOG_LEVEL
    const logger = createLogger(level, { pretty: consoleMode })
    if (consoleMode) {
      // Console runs print to the terminal that started them, so nothing is journaled.
      const flowsDir = consoleFlowsDir(process.env.CHORUS_FLOWS_DIR)
      const tracing = await startTracing(config, logger, 'console')
      const bot = await Bot.create({
        config,
        logger,
        ...(flowsDir === undefined ? {} : { flowsDir }),
        ...(tracing === undefined ? {} : { observer: tracing.observer }),
      })
      if (bot.model.demo) {
        process.stderr.write(
          'No OPENAI_API_KEY set: using the offline demo model; its answers are canned demo text.\n',
        )
      }
      if (oneShot) process.exitCode = await runOnce(bot, argv.join(' '))
      else await startConsole(bot)
      await tracing?.shutdown()
      return
    }
    const backends = openBackends(config, logger)
    const metrics = new ChorusMetrics()
    const tracing = await startTracing(config, logger, 'receiver')
    const observer = tracing === undefined ? metrics.observer : observeAll(metrics.observer, tracing.observer)
    const bot = await Bot.create({ config, logger, ...backends, observer })
    if (bot.model.demo) logger.warn('No OPENAI_API_KEY set: using the offline demo model (canned demo text).')
    // Slack on PORT (HTTP mode, or its install pages) serves Discord's interactions endpoint beside it.
    const onSlack = discordHttp && mode !== undefined && (mode.kind === 'http' || mode.auth.kind === 'oauth')
    const interactions = onSlack ? discord?.discordInteractions(bot, config) : undefined
    const routes =
      interactions === undefined
        ? []
        : [{ path: interactions.path, method: 'POST', handler: interactions.handle }]
    const connections = [
      ...(slack === undefined ? [] : [await slack.startSlack(bot, config, { routes })]),
      ...(discord === undefined || interactions !== undefined
        ? []
        : [await (discordHttp ? discord.startDiscordHttp(bot, config) : discord.startDiscord(bot, config))]),
    ]
    await serve({ bot, backends, config, logger, role: 'receiver', connections, metrics, tracing })
  })
}

/** CHORUS_FLOWS_DIR: the console's commands from another folder of flows (tests, a flow being written). */
function consoleFlowsDir(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  const dir = resolve(value)
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new ChorusError(
      'config_invalid',
      `CHORUS_FLOWS_DIR=${value} is not a folder; point it at a folder of flow files, or unset it for flows/`,
    )
  return dir
}
