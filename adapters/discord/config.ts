import { type Config, ConfigError } from '../../src/bot/index.ts'

export interface DiscordSettings {
  token: string
  appId: string
  /** REST base without the version, e.g. `https://discord.com/api`. */
  api: string
}

/** Checks the Discord variables; each mistake gets a message that says where to find the right value. */
export function discordSettings(config: Config): DiscordSettings {
  const token = config.DISCORD_TOKEN
  if (token === undefined) {
    throw new ConfigError(
      'discord_token_missing',
      'DISCORD_TOKEN is not set; copy the bot token from the Bot page of your application in the Discord Developer Portal.',
    )
  }
  if (/^(Bot|Bearer)\s/i.test(token) || /\s/.test(token)) {
    throw new ConfigError(
      'discord_token_invalid',
      'DISCORD_TOKEN must be the bare bot token (no "Bot " prefix, no spaces); copy it again from the Bot page.',
    )
  }
  const appId = config.DISCORD_APP_ID
  if (appId === undefined || !/^\d{17,20}$/.test(appId)) {
    throw new ConfigError(
      'discord_app_id_invalid',
      'DISCORD_APP_ID must be your application id (17-20 digits); copy it from General Information → Application ID in the Developer Portal.',
    )
  }
  return { token, appId, api: discordApi(config) }
}

/** The REST base without the version and without a trailing slash (DISCORD_API_URL, else Discord's). */
export function discordApi(config: Config): string {
  return (config.DISCORD_API_URL ?? 'https://discord.com/api').replace(/\/+$/, '')
}

export interface DiscordHttpSettings {
  /** The application's public key, 64 hex characters. */
  publicKey: string
  /** The bot token, when set: questions and replies that outlive an interaction's 15 minutes. */
  token: string | undefined
  api: string
  port: number
}

/**
 * Checks the variables of Discord over HTTP (`DISCORD_PUBLIC_KEY`): no gateway, so the bot token is
 * optional; when it is set it is checked as the gateway checks it.
 */
export function discordHttpSettings(config: Config): DiscordHttpSettings {
  const publicKey = config.DISCORD_PUBLIC_KEY
  if (publicKey === undefined || !/^[0-9a-f]{64}$/i.test(publicKey)) {
    throw new ConfigError(
      'discord_public_key_invalid',
      'DISCORD_PUBLIC_KEY must be your application public key (64 hex characters); copy it from General Information → Public Key in the Developer Portal.',
    )
  }
  const token = config.DISCORD_TOKEN === undefined ? undefined : discordSettings(config).token
  return {
    publicKey,
    token,
    api: discordApi(config),
    port: config.PORT,
  }
}
