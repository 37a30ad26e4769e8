import type { Command } from '../../src/bot/index.ts'

/** A Slack app manifest (YAML): one slash command per flow, the scopes Chorus needs, Socket Mode on. */
export function slackManifest(commands: Command[], name = 'Chorus'): string {
  const q = (s: string) => JSON.stringify(s)
  const slash = commands.flatMap((c) => {
    const hint = c.usage.replace(/^\/\S+\s*/, '')
    return [
      `    - command: /${c.name}`,
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
    '  scopes:',
    '    bot:',
    '      - commands # slash commands',
    '      - chat:write # post and update the reply',
    '      - chat:write.public # reply in public channels without being invited',
    '      - app_mentions:read # @Chorus brainstorm <topic>',
    '      - channels:history # @Chorus in a reply thread: find the reply it continues',
    '      - groups:history # the same in private channels',
    'settings:',
    '  event_subscriptions:',
    '    bot_events:',
    '      - app_mention',
    '  interactivity:',
    '    is_enabled: true # Stop, Retry, Again, Refine (a modal), Vote on these, 👍/👎, answers to questions',
    '  org_deploy_enabled: false',
    '  socket_mode_enabled: true',
    '  token_rotation_enabled: false',
    '',
  ].join('\n')
}
