import type { Middleware, SlackCommandMiddlewareArgs } from '@slack/bolt'
import type { Logger } from 'pino'
import type { Bot, Command } from '../../../../src/bot/index.ts'
import { fromSlackText } from '../../mrkdwn.ts'
import { accept, CANNOT_START } from '../accept.ts'
import { ephemeral } from '../explain.ts'
import { firstDelivery } from '../redelivery.ts'
import { requester } from '../requester.ts'
import { replyTarget } from '../target.ts'

/** A flow's slash command: checked, admitted and journaled, then acknowledged; the run replies later. */
export function flowCommand(bot: Bot, log: Logger, command: Command): Middleware<SlackCommandMiddlewareArgs> {
  return async ({ command: payload, ack: boltAck }) => {
    const t0 = performance.now()
    const ack: typeof boltAck = async (response) => {
      await boltAck(response)
      bot.observer.acked?.('slack', performance.now() - t0)
    }
    // The journal write, admission and queueing answer inside Slack's 3 s, or the user hears why not.
    const outcome = await bot.intake(async (signal): Promise<string | undefined> => {
      // A redelivered command (same trigger_id) is acknowledged again but runs once, across restarts.
      if (!(await firstDelivery(bot, 'command', payload.trigger_id))) return undefined
      // Slack sends `&`, `<` and `>` encoded; the flow and the reply get the text as typed.
      const parsed = bot.parseText(command, fromSlackText(payload.text))
      if (!parsed.ok) return parsed.message
      const admission = await bot.admit(requester(payload.user_id, payload.channel_id, payload.team_id))
      if (!admission.ok) return admission.message
      // Slack: acknowledge within 3 s, before any model work; the journal write comes first
      // (a SQLite write is a few microseconds), so an acknowledged command is never lost.
      const req = {
        command,
        input: parsed.input,
        user: payload.user_name || payload.user_id,
        userId: payload.user_id,
        target: replyTarget({
          teamId: payload.team_id,
          enterpriseId: payload.enterprise_id,
          channel: payload.channel_id,
          responseUrl: payload.response_url,
          // Slack counts the URL's 30 minutes from the payload; this is within moments of it.
          responseUrlAt: Date.now(),
        }),
      }
      return accept(bot, log, req, signal).then(
        () => undefined,
        () => CANNOT_START,
      )
    })
    const text = typeof outcome === 'object' ? outcome.refused : outcome
    await ack(text === undefined ? undefined : ephemeral(text))
  }
}
