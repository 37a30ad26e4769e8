/**
 * `npm run discord:register -- [--guild <id>] [--url <https://your.host>]`: registers one slash command
 * per flow, to one guild (instant) or globally. A bulk overwrite (PUT), so running it again changes
 * nothing. With DISCORD_PUBLIC_KEY (Discord over HTTP) it also prints the Interactions Endpoint URL to
 * set in the Developer Portal, on the public base `--url` gives.
 */
import { existsSync } from 'node:fs'
import { REST, Routes } from 'discord.js'
import {
  commandJson,
  discordHttpSettings,
  discordSettings,
  INTERACTIONS_PATH,
  inviteUrl,
} from '../adapters/discord/index.ts'
import { ChorusError, commandOf, loadConfig, loadFlows } from '../src/bot/index.ts'

if (existsSync('.env')) process.loadEnvFile('.env')
const args = process.argv.slice(2)
const guildAt = args.indexOf('--guild')
const guild = guildAt >= 0 ? args[guildAt + 1] : undefined
const urlAt = args.indexOf('--url')
const base = urlAt >= 0 ? args[urlAt + 1] : undefined
try {
  if (urlAt >= 0 && (base === undefined || !/^https?:\/\/[^/\s]+/.test(base))) {
    throw new ChorusError(
      'usage',
      'usage: npm run discord:register -- [--url https://<your public host>]  (where Discord can reach Chorus)',
    )
  }
  if (guildAt >= 0 && (guild === undefined || !/^\d{17,20}$/.test(guild))) {
    throw new ChorusError(
      'usage',
      'usage: npm run discord:register -- [--guild <server id>]  (right-click the server → Copy Server ID)',
    )
  }
  const config = loadConfig(process.env)
  const settings = discordSettings(config)
  const http = config.DISCORD_PUBLIC_KEY === undefined ? undefined : discordHttpSettings(config)
  const body = commandJson((await loadFlows()).map((r) => commandOf(r.flow)))
  const rest = new REST({ api: settings.api }).setToken(settings.token)
  const route =
    guild === undefined
      ? Routes.applicationCommands(settings.appId)
      : Routes.applicationGuildCommands(settings.appId, guild)
  await rest.put(route, { body })
  process.stdout.write(
    `Registered ${body.map((c) => `/${c.name}`).join(', ')} ${guild === undefined ? 'globally' : `in server ${guild}`}.\n` +
      `Invite the bot: ${inviteUrl(settings.appId)}\n`,
  )
  if (http !== undefined) {
    const root = base === undefined ? 'https://<your public host>' : base.replace(/\/+$/, '')
    process.stdout.write(
      `Interactions Endpoint URL (Developer Portal → General Information): ${root}${INTERACTIONS_PATH}\n` +
        `  Chorus serves it on PORT ${http.port}; start Chorus before saving it: Discord sends a PING and a bad signature to check it.\n`,
    )
  }
} catch (error) {
  if (!(error instanceof ChorusError)) throw error
  process.stderr.write(`${error.message}\n`)
  process.exitCode = 1
}
