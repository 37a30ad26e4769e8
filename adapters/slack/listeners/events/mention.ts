import type { Middleware, SlackEventMiddlewareArgs } from '@slack/bolt'
import type { Logger } from 'pino'
import type { Bot } from '../../../../src/bot/index.ts'
import { fromSlackText } from '../../mrkdwn.ts'
import { accept, CANNOT_START } from '../accept.ts'
import { explainInThread } from '../explain.ts'
import { firstDelivery } from '../redelivery.ts'
import { refusal } from '../refusal.ts'
import { requester } from '../requester.ts'
import { replyTarget } from '../target.ts'
import { latestRun } from './latest-run.ts'

/**
 * `@Chorus <command> <text>` runs a command, answering in the thread; in a Chorus reply's thread, a
 * mention that names no command refines the newest reply there. Problems are explained ephemerally.
 */
export function mention(bot: Bot, log: Logger): Middleware<SlackEventMiddlewareArgs<'app_mention'>> {
  return async ({ event, body, client }) => {
    const eventId = (body as { event_id?: string }).event_id ?? event.ts
    if (!(await firstDelivery(bot, 'event', eventId))) return
    const threadTs = event.thread_ts ?? event.ts
    const explain = explainInThread(client, { channel: event.channel, user: event.user ?? '', threadTs })
    const refused = refusal(bot)
    if (refused !== undefined) {
      await explain(refused)
      return
    }
    const text = fromSlackText(event.text.replace(/<@[A-Z0-9]+>/g, '')).trim()
    const [word = '', ...rest] = text.split(/\s+/)
    const command = bot.command(word.replace(/^\//, '').toLowerCase())
    const target = replyTarget({
      teamId: body.team_id,
      enterpriseId: (body as { enterprise_id?: string }).enterprise_id,
      channel: event.channel,
      threadTs,
    })
    const continues =
      command === undefined && event.thread_ts !== undefined && text !== ''
        ? await latestRun(client, event.channel, event.thread_ts).catch((err: unknown) => {
            log.warn({ err }, 'slack.thread_lookup_failed')
            return undefined
          })
        : undefined
    if (continues !== undefined) {
      const outcome = await bot.intake(async (signal) => {
        const admission = await bot.admit(requester(event.user ?? '', event.channel, body.team_id))
        if (!admission.ok) return admission
        return bot.refine(continues, text, event.user ?? 'someone', target, {
          signal,
          ...(event.user === undefined ? {} : { userId: event.user }),
        })
      })
      if ('refused' in outcome) await explain(outcome.refused)
      else if (!outcome.ok) await explain(outcome.message)
      return
    }
    if (command === undefined) {
      await explain(
        `Try \`@Chorus ${bot.commands[0]?.name ?? 'brainstorm'} <topic>\`. Commands: ${bot.commands.map((c) => c.name).join(', ')}.`,
      )
      return
    }
    const parsed = bot.parseText(
      command,
      text.slice(text.indexOf(word) + word.length).trim() || rest.join(' '),
    )
    if (!parsed.ok) {
      await explain(parsed.message.replace(`/${command.name}`, `@Chorus ${command.name}`))
      return
    }
    const outcome = await bot.intake(async (signal): Promise<string | undefined> => {
      const admission = await bot.admit(requester(event.user ?? '', event.channel, body.team_id))
      if (!admission.ok) return admission.message
      const req = {
        command,
        input: parsed.input,
        user: event.user ?? 'someone',
        ...(event.user === undefined ? {} : { userId: event.user }),
        target,
      }
      return accept(bot, log, req, signal).then(
        () => undefined,
        () => CANNOT_START,
      )
    })
    const problem = typeof outcome === 'object' ? outcome.refused : outcome
    if (problem !== undefined) await explain(problem)
  }
}
