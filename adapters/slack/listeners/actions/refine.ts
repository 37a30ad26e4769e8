import type { BlockButtonAction, Middleware, SlackActionMiddlewareArgs } from '@slack/bolt'
import type { Logger } from 'pino'
import { refineModal } from '../../render.ts'
import { clicked } from '../clicked.ts'
import { note } from '../explain.ts'
import type { RefineMetadata } from '../refine-metadata.ts'

/** Refine: opens the modal that asks what should change; its submission is `views/refine.ts`. */
export function refineAction(log: Logger): Middleware<SlackActionMiddlewareArgs<BlockButtonAction>> {
  return async ({ ack, body, action, client, respond }) => {
    await ack()
    const { channel, ts, threadTs } = clicked(body)
    // The answer goes in the reply's thread: the thread it is in, or one it starts.
    const metadata: RefineMetadata = {
      runId: action.value ?? '',
      channel,
      threadTs: threadTs ?? ts,
      ...(body.team?.id === undefined ? {} : { teamId: body.team.id }),
    }
    // Slack: a trigger_id opens a modal within 3 s of the click, once.
    await client.views
      .open({ trigger_id: body.trigger_id, view: refineModal(JSON.stringify(metadata)) })
      .catch(async (err: unknown) => {
        log.error({ err }, 'slack.refine_open_failed')
        await respond(note('Chorus could not open Refine; try again.'))
      })
  }
}
