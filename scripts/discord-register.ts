/**
 * `npm run discord:register -- [--guild <id>]`: registers one slash command per flow, to one guild
 * (instant) or globally. A bulk overwrite (PUT), so running it again changes nothing.
 */
import { existsSync } from 'node:fs'
import { REST, Routes } from 'discord.js'
import { commandJson, discordSettings, inviteUrl } from '../adapters/discord/index.ts'
import { ChorusError, commandOf, loadConfig, loadFlows } from '../src/bot/index.ts'

if (existsSync('.env')) process.loadEnvFile('.env')
const args = process.argv.slice(2)
const guildAt = args.indexOf('--guild')
const guild = guildAt >= 0 ? args[guildAt + 1] : undefined
try {
  if (guildAt >= 0 && (guild === undefined || !/^\d{17,20}$/.test(guild))) {
    throw new ChorusError(
      'usage',
      'usage: npm run discord:register -- [--guild <server id>]  (right-click the server → Copy Server ID)',
    )
  }
  const settings = discordSettings(loadConfig(process.env))
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
} catch (error) {
  if (!(error instanceof ChorusError)) throw error
  process.stderr.write(`${error.message}\n`)
  process.exitCode = 1
}
