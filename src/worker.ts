import { existsSync } from 'node:fs'
import { openBackends } from './backends.ts'
import { Bot, observeAll } from './bot/index.ts'
import { ConfigError, loadConfig } from './config/index.ts'
import { createLogger } from './log/index.ts'
import { ChorusMetrics } from './ops/index.ts'
import { runEntry, serve } from './service.ts'
import { startTracing } from './trace/index.ts'

/**
 * `npm run worker`: works queued runs only (no Slack or Discord connection), answering through the
 * platforms' Web APIs from each run's plain-data reply target. Needs REDIS_URL: that is the queue.
 */
async function main(): Promise<void> {
  await runEntry(async () => {
    if (existsSync('.env')) process.loadEnvFile('.env')
    const config = loadConfig(process.env)
    if (config.REDIS_URL === undefined) {
      throw new ConfigError(
        'worker_needs_redis',
        'npm run worker needs REDIS_URL (e.g. redis://127.0.0.1:6379): runs reach workers through a queue on Redis. Without Redis, npm start works every run itself.',
      )
    }
    const slack = [config.SLACK_BOT_TOKEN, config.SLACK_CLIENT_ID, config.SLACK_CLIENT_SECRET].every(
      (v) => v === undefined,
    )
      ? undefined
      : await import('../adapters/slack/index.ts')
    const discord = config.DISCORD_TOKEN !== undefined || config.DISCORD_PUBLIC_KEY !== undefined
    if (slack === undefined && !discord) {
      throw new ConfigError(
        'worker_needs_platform',
        'npm run worker needs the same SLACK_BOT_TOKEN (or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET and CHORUS_ENCRYPTION_KEY) and/or DISCORD_TOKEN + DISCORD_APP_ID (or DISCORD_PUBLIC_KEY, Discord over HTTP) as the receivers, to post the replies.',
      )
    }
    // The same tokens as the receivers (checked before anything connects): replies go out through
    // each platform's Web API; installed in many Slack workspaces, each one's token from the store.
    slack?.slackAuth(config)
    const platforms = [
      // Over HTTP without a bot token, replies go through the interaction webhooks alone.
      ...(!discord
        ? []
        : [
            await import('../adapters/discord/index.ts').then((m) =>
              m.discordPlatform(m.discordRest(config)),
            ),
          ]),
    ]
    const logger = createLogger(config.LOG_LEVEL)
    const backends = openBackends(config, logger)
    const metrics = new ChorusMetrics()
    const tracing = await startTracing(config, logger, 'worker')
    const observer = tracing === undefined ? metrics.observer : observeAll(metrics.observer, tracing.observer)
    const bot = await Bot.create({ config, logger, ...backends, observer })
    if (slack !== undefined) bot.attach(slack.slackWorkerPlatform(config, backends.store, logger))
    for (const platform of platforms) bot.attach(platform)
    // A worker holds no platform connection: it is ready when its store answers.
    await serve({ bot, backends, config, logger, role: 'worker', metrics, tracing })
  })
}

await main()
