import { type Config, ConfigError } from '../../src/bot/index.ts'

export type SlackMode =
  | { kind: 'socket'; botToken: string; appToken: string }
  | { kind: 'http'; botToken: string; signingSecret: string; port: number }

/** Checks the Slack variables; each mistake gets a message that says where to find the right value. */
export function slackMode(config: Config): SlackMode {
  const botToken = slackBotToken(config)
  const appToken = config.SLACK_APP_TOKEN
  if (appToken !== undefined) {
    if (!appToken.startsWith('xapp-')) {
      throw new ConfigError(
        'slack_app_token_invalid',
        'SLACK_APP_TOKEN must start with "xapp-"; create one under Basic Information → App-Level Tokens with the connections:write scope.',
      )
    }
    return { kind: 'socket', botToken, appToken }
  }
  if (config.SLACK_SIGNING_SECRET !== undefined) {
    return { kind: 'http', botToken, signingSecret: config.SLACK_SIGNING_SECRET, port: config.PORT }
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
