import type { Command } from '../../src/bot/index.ts'

/** The bot scopes Chorus asks for, and why (the manifest's, and an OAuth install's). */
export const SCOPES: ReadonlyArray<readonly [string, string]> = [
  ['commands', 'slash commands'],
  ['chat:write', 'post and update the reply'],
  ['chat:write.public', 'reply in public channels without being invited'],
  ['app_mentions:read', '@Chorus brainstorm <topic>'],
  ['channels:history', '@Chorus in a reply thread: find the reply it continues'],
  ['groups:history', 'the same in private channels'],
]
export const BOT_SCOPES: ReadonlyArray<string> = SCOPES.map(([scope]) => scope)

export interface ManifestOptions {
  /**
   * Where Slack reaches Chorus (SLACK_PUBLIC_URL): the app installs in many workspaces (HTTP mode,
   * OAuth redirect URL, token rotation, org-wide installs, the uninstall events). Unset: one
   * workspace over Socket Mode.
   */
  publicUrl?: string | undefined
}

/**
 * A Slack app manifest (YAML): one slash command per flow and the scopes Chorus needs; Socket Mode
 * for one workspace, or with a public URL the OAuth settings for many.
 */
export function slackManifest(commands: Command[], name = 'Chorus', options: ManifestOptions = {}): string {
  const q = (s: string) => JSON.stringify(s)
  const base = options.publicUrl?.replace(/\/+$/, '')
  const events = base === undefined ? undefined : `${base}/slack/events`
  const slash = commands.flatMap((c) => {
    const hint = c.usage.replace(/^\/\S+\s*/, '')
    return [
      `    - command: /${c.name}`,
      ...(events === undefined ? [] : [`      url: ${q(events)}`]),
      `      description: ${q(c.description.slice(0, 2000))}`,
      ...(hint === '' ? [] : [`      usage_hint: ${q(hint.slice(0, 1000))}`]),
      '      should_escape: false',
    ]
  })
  return [
    '_metadata:',
    '  major_version: 1',
    'display_information:',
    `  name: ${q(name)}`,
    `  description: ${q('Answers slash commands with parallel LLM flows: first result fast, combined result after')}`,
    'features:',
    '  bot_user:',
    `    display_name: ${q(name.toLowerCase())}`,
    '    always_online: true',
    '  slash_commands:',
    ...slash,
    'oauth_config:',
    ...(base === undefined ? [] : ['  redirect_urls:', `    - ${q(`${base}/slack/oauth_redirect`)}`]),
    '  scopes:',
    '    bot:',
    ...SCOPES.map(([scope, why]) => `      - ${scope} # ${why}`),
    'settings:',
    '  event_subscriptions:',
    ...(events === undefined ? [] : [`    request_url: ${q(events)}`]),
    '    bot_events:',
    '      - app_mention',
    ...(base === undefined
      ? []
      : [
          '      - app_uninstalled # delete the workspace’s tokens',
          '      - tokens_revoked # the same, for a revoked token',
        ]),
    '  interactivity:',
    '    is_enabled: true # Stop, Retry, Again, Refine (a modal), Vote on these, 👍/👎, answers to questions',
    ...(events === undefined ? [] : [`    request_url: ${q(events)}`]),
    `  org_deploy_enabled: ${base !== undefined}`,
    `  socket_mode_enabled: ${base === undefined}`,
    `  token_rotation_enabled: ${base !== undefined}`,
    '',
  ].join('\n')
}
