import type { WebClientOptions } from '@slack/web-api'
import { type Config, ConfigError } from '../../src/bot/index.ts'
import { slackFetch } from './http-fetch.ts'

/**
 * Every Web API client's base: SLACK_API_URL when set (the fake, GovSlack), else Slack's own; its
 * calls go over node:http (`slackFetch`).
 */
export function webApiOptions(config: Config): WebClientOptions {
  return {
    fetch: slackFetch,
    ...(config.SLACK_API_URL === undefined ? {} : { slackApiUrl: config.SLACK_API_URL }),
  }
}

/** Many workspaces: bolt's OAuth install, tokens kept sealed in the run store. */
export interface SlackOAuth {
  kind: 'oauth'
  clientId: string
  clientSecret: string
  stateSecret: string
  /** CHORUS_ENCRYPTION_KEY, decoded: seals the tokens at rest. */
  key: Buffer
  /** SLACK_PUBLIC_URL: the redirect URL is `${publicUrl}/slack/oauth_redirect`. */
  publicUrl: string | undefined
}

/** One workspace (SLACK_BOT_TOKEN), or many (OAuth). */
export type SlackAuth = { kind: 'token'; botToken: string } | SlackOAuth

export type SlackMode =
  | { kind: 'socket'; auth: SlackAuth; appToken: string }
  | { kind: 'http'; auth: SlackAuth; signingSecret: string; port: number }

const OAUTH_VARS = ['SLACK_CLIENT_ID', 'SLACK_CLIENT_SECRET', 'SLACK_STATE_SECRET'] as const

/** Whether Slack is configured at all: a bot token, or the OAuth credentials. */
export function slackConfigured(config: Config): boolean {
  return config.SLACK_BOT_TOKEN !== undefined || OAUTH_VARS.some((v) => config[v] !== undefined)
}

/**
 * How Chorus gets its tokens: SLACK_BOT_TOKEN for one workspace, or SLACK_CLIENT_ID,
 * SLACK_CLIENT_SECRET and SLACK_STATE_SECRET (with CHORUS_ENCRYPTION_KEY) for installs in many.
 */
export function slackAuth(config: Config): SlackAuth {
  const set = OAUTH_VARS.filter((v) => config[v] !== undefined)
  if (set.length === 0) return { kind: 'token', botToken: slackBotToken(config) }
  if (config.SLACK_BOT_TOKEN !== undefined)
    throw new ConfigError(
      'slack_auth_both',
      'SLACK_BOT_TOKEN serves one workspace and SLACK_CLIENT_ID/SLACK_CLIENT_SECRET/SLACK_STATE_SECRET install Chorus in many: set one or the other, not both.',
    )
  const missing = OAUTH_VARS.filter((v) => config[v] === undefined)
  if (missing.length > 0)
    throw new ConfigError(
      'slack_oauth_incomplete',
      `Installing in many workspaces needs ${missing.join(' and ')} too: the client ID and secret are under Basic Information → App Credentials; SLACK_STATE_SECRET is any long random string (openssl rand -hex 32).`,
    )
  if (config.CHORUS_ENCRYPTION_KEY === undefined)
    throw new ConfigError(
      'encryption_key_missing',
      'Installing in many workspaces keeps each workspace’s tokens in the store, sealed with CHORUS_ENCRYPTION_KEY: set it to 32 random bytes in base64 (openssl rand -base64 32) and keep it safe; every process needs the same key.',
    )
  return {
    kind: 'oauth',
    clientId: config.SLACK_CLIENT_ID as string,
    clientSecret: config.SLACK_CLIENT_SECRET as string,
    stateSecret: config.SLACK_STATE_SECRET as string,
    key: Buffer.from(config.CHORUS_ENCRYPTION_KEY, 'base64'),
    publicUrl: config.SLACK_PUBLIC_URL?.replace(/\/+$/, ''),
  }
}

/** Checks the Slack variables; each mistake gets a message that says where to find the right value. */
export function slackMode(config: Config): SlackMode {
  const auth = slackAuth(config)
  const appToken = config.SLACK_APP_TOKEN
  if (appToken !== undefined) {
    if (!appToken.startsWith('xapp-')) {
      throw new ConfigError(
        'slack_app_token_invalid',
        'SLACK_APP_TOKEN must start with "xapp-"; create one under Basic Information → App-Level Tokens with the connections:write scope.',
      )
    }
    return { kind: 'socket', auth, appToken }
  }
  if (config.SLACK_SIGNING_SECRET !== undefined) {
    return { kind: 'http', auth, signingSecret: config.SLACK_SIGNING_SECRET, port: config.PORT }
  }
  throw new ConfigError(
    'slack_mode_missing',
    'Set SLACK_APP_TOKEN (xapp-…, Socket Mode: no public URL needed) or SLACK_SIGNING_SECRET (HTTP mode on PORT, from Basic Information → App Credentials).',
  )
}

/** The bot token, checked: all a process needs to post and update replies (a worker). */
export function slackBotToken(config: Config): string {
  const botToken = config.SLACK_BOT_TOKEN
  if (botToken === undefined)
    throw new ConfigError(
      'slack_bot_token_missing',
      'SLACK_BOT_TOKEN is not set; copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions in your Slack app settings.',
    )
  if (!botToken.startsWith('xoxb-')) {
    throw new ConfigError(
      'slack_bot_token_invalid',
      'SLACK_BOT_TOKEN must start with "xoxb-"; copy the Bot User OAuth Token from OAuth & Permissions (not the user token or the app-level token).',
    )
  }
  return botToken
}
