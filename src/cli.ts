import { existsSync } from 'node:fs'
import { runOnce, startConsole } from '../adapters/console/index.ts'
import { Bot, ChorusError, createLogger, loadConfig } from './bot/index.ts'

/**
 * `npm start`: Slack and/or Discord when their tokens are set, otherwise the console.
 * `npm start -- brainstorm "topic"` runs one command in the console and exits.
 */
export async function dispatchLine(argv: string[]): Promise<void> {
  try {
    if (existsSync('.env')) process.loadEnvFile('.env')
    const config = loadConfig(process.env)
    const platforms = Boolean(config.SLACK_BOT_TOKEN) || Boolean(config.DISCORD_TOKEN)
    const oneShot = argv.length > 0
    const consoleMode = oneShot || !platforms
    // In the console the reply is the output; logs go to stderr and only warnings by default.
    const level = consoleMode && process.env.LOG_LEVEL === undefined ? 'warn' : config.LOG_LEVEL
    const logger = createLogger(level, { pretty: consoleMode })
    const bot = await Bot.create({ config, logger })
    if (bot.model.demo) {
      process.stderr.write(
        'No OPENAI_API_KEY set: using the offline demo model; its answers are canned demo text.\n',
      )
    }
    if (oneShot) {
      process.exitCode = await runOnce(bot, argv.join(' '))
      return
    }
    if (!platforms) {
      await startConsole(bot)
      return
    }
    if (config.SLACK_BOT_TOKEN) {
      const { startSlack } = await import('../adapters/slack/index.ts')
      await startSlack(bot, config)
    }
    if (config.DISCORD_TOKEN) {
      const { startDiscord } = await import('../adapters/discord/index.ts')
      await startDiscord(bot, config)
    }
  } catch (error) {
    if (error instanceof ChorusError) {
      process.stderr.write(`${error.message}\n`)
      process.exitCode = 1
      return
    }
    throw error
  }
}
