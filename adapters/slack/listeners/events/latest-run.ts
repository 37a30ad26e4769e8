import type { AllMiddlewareArgs } from '@slack/bolt'
import { RETRY_ACTION } from '../../render.ts'

/**
 * The run of the newest finished Chorus reply in a thread (its Again button carries the run id), or
 * undefined when the thread has none. Slack: conversations.replies needs channels:history / groups:history.
 */
export async function latestRun(
  client: AllMiddlewareArgs['client'],
  channel: string,
  threadTs: string,
): Promise<string | undefined> {
  const { messages = [] } = await client.conversations.replies({ channel, ts: threadTs, limit: 200 })
  for (const message of [...messages].reverse()) {
    for (const block of (message.blocks ?? []) as Array<{
      elements?: Array<{ action_id?: string; value?: string }>
    }>) {
      const again = block.elements?.find((e) => e.action_id === RETRY_ACTION)
      if (again?.value !== undefined) return again.value
    }
  }
  return undefined
}
