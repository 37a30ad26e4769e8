/**
 * Finds the message a slash command's response_url posted, once only the bot token can edit it
 * (the URL used up or past its 30 minutes): Slack does not say the ts of a response_url post, so it
 * is read from the channel (conversations.history, Tier 3, the `channels:history` /
 * `groups:history` scopes the manifest asks for). The reply is the message whose buttons carry the
 * run's id, posted in the minutes after the command.
 */
import type { WebClient } from '@slack/web-api'

/** The reply's first post follows the command within seconds; ten minutes is room for a slow start. */
const POSTED_WITHIN_MS = 10 * 60_000

export async function findReply(
  client: WebClient,
  where: { channel: string; runId: string; since: number },
): Promise<string | undefined> {
  const res = await client.conversations.history({
    channel: where.channel,
    oldest: ((where.since - 60_000) / 1000).toFixed(6),
    latest: ((where.since + POSTED_WITHIN_MS) / 1000).toFixed(6),
    inclusive: true,
    limit: 200,
  })
  return res.messages?.find((m) => carriesRun(m.blocks, where.runId))?.ts
}

/** Whether a message's blocks hold a Chorus button (Stop, Again, Retry…) for `runId`. */
function carriesRun(blocks: unknown, runId: string): boolean {
  if (!Array.isArray(blocks)) return false
  return blocks.some((block: { elements?: Array<{ action_id?: string; value?: string }> }) =>
    (block.elements ?? []).some((e) => e.value === runId && e.action_id?.startsWith('chorus_') === true),
  )
}
