import { existsSync } from 'node:fs'
import { openBackends } from './backends.ts'
import { Bot, ChorusError, ConfigError, createLogger, loadConfig } from './bot/index.ts'
import { serve } from './service.ts'

/**
 * `npm run worker`: works queued runs only (no Slack or Discord connection), answering through the
 * platforms' Web APIs from each run's plain-data reply target. Needs REDIS_URL: that is the queue.
 */
async function main(): Promise<void> {
  try {
    if (existsSync('.env')) process.loadEnvFile('.env')
    const config = loadConfig(process.env)
    if (config.REDIS_URL === undefined) {
      throw new ConfigError(
        'worker_needs_redis',
        'npm run worker needs REDIS_URL (e.g. redis://127.0.0.1:6379): runs reach workers through a queue on Redis. Without Redis, npm start works every run itself.',
      )
    }
    const logger = createLogger(config.LOG_LEVEL)
    const backends = openBackends(config, logger)
    const bot = await Bot.create({ config, logger, ...backends })
    // The same tokens as the receivers: replies go out through each platform's Web API.
    if (config.SLACK_BOT_TOKEN !== undefined) {
      const slack = await import('../adapters/slack/index.ts')
      bot.attach(slack.slackPlatform(slack.slackWebClient(config)))
    }
    if (config.DISCORD_TOKEN !== undefined) {
      const discord = await import('../adapters/discord/index.ts')
      bot.attach(discord.discordPlatform(discord.discordRest(config)))
    }
    if (config.SLACK_BOT_TOKEN === undefined && config.DISCORD_TOKEN === undefined) {
      throw new ConfigError(
        'worker_needs_platform',
        'npm run worker needs the same SLACK_BOT_TOKEN and/or DISCORD_TOKEN + DISCORD_APP_ID as the receivers, to post the replies.',
      )
    }
    await serve({ bot, backends, config, logger, role: 'worker' })
  } catch (error) {
    if (error instanceof ChorusError) {
      process.stderr.write(`${error.message}\n`)
      process.exitCode = 1
      return
    }
    throw error
  }
}

await main()
