import type { Middleware, SlackViewMiddlewareArgs } from '@slack/bolt'
import type { Logger } from 'pino'
import type { Bot } from '../../../../src/bot/index.ts'
import { REFINE_FIELD } from '../../render.ts'
import { explainInThread } from '../explain.ts'
import { readRefineMetadata } from '../refine-metadata.ts'
import { requester } from '../requester.ts'
import { replyTarget } from '../target.ts'

/** The Refine modal's submission: the run again with what should change, answering in the reply's thread. */
export function refineView(bot: Bot, log: Logger): Middleware<SlackViewMiddlewareArgs> {
  return async ({ ack, body, view, client }) => {
    await ack()
    const metadata = readRefineMetadata(view.private_metadata)
    const request = view.state.values[REFINE_FIELD]?.[REFINE_FIELD]?.value ?? ''
    if (metadata === undefined) {
      log.warn({ event: 'slack.refine_bad_metadata' }, 'slack.refine_bad_metadata')
      return
    }
    const { runId, channel, threadTs, teamId } = metadata
    const intake = await bot.intake(async (signal) => {
      const admission = await bot.admit(requester(body.user.id, channel, teamId))
      if (!admission.ok) return admission
      const target = replyTarget({ teamId, enterpriseId: body.enterprise?.id, channel, threadTs })
      return bot.refine(runId, request, body.user.name || body.user.id, target, {
        signal,
        userId: body.user.id,
      })
    })
    const outcome = 'refused' in intake ? ({ ok: false, message: intake.refused } as const) : intake
    if (!outcome.ok)
      await explainInThread(client, { channel, user: body.user.id, threadTs })(outcome.message).catch(
        (err: unknown) => log.error({ err }, 'slack.explain_failed'),
      )
  }
}
