import type { Middleware, SlackCommandMiddlewareArgs } from '@slack/bolt'
import type { Logger } from 'pino'
import type { Bot } from '../../../../src/bot/index.ts'
import { ephemeral } from '../explain.ts'

/**
 * A slash command configured in Slack with no flow behind it (renamed, removed): say what there is,
 * rather than leave Slack to time out. Bolt runs every matching listener, so known ones are left alone.
 */
export function unknownCommand(bot: Bot, log: Logger): Middleware<SlackCommandMiddlewareArgs> {
  return async ({ command: payload, ack }) => {
    const name = payload.command.replace(/^\//, '')
    if (bot.command(name) !== undefined) return
    log.warn({ event: 'slack.unknown_command', command: payload.command }, 'slack.unknown_command')
    await ack(ephemeral(commandList(bot, payload.command)))
  }
}

/** The answer to a slash command Chorus has no flow for. */
export function commandList(bot: Bot, asked: string): string {
  const lines = bot.commands.map((c) => `• \`${c.usage}\`: ${c.description}`)
  return `Chorus has no ${asked} command. It answers:\n${lines.join('\n')}`
}
