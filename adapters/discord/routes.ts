import { createHash } from 'node:crypto'
import type { Route } from '../../src/bot/index.ts'

/** Webhook calls on one interaction (edits and follow-ups): 4 per 2 s, under the 5 per 2 s Discord allows. */
export const WEBHOOK_BUDGET = { limit: 4, windowMs: 2_000 }
/** Bot messages in one channel (posts and edits): 4 per 5 s, under the 5 per 5 s Discord allows a bot. */
export const CHANNEL_BUDGET = { limit: 4, windowMs: 5_000 }

/** Calls on one interaction webhook, keyed by a digest of its token (a credential, never in a key or a log). */
export function webhookRoute(applicationId: string, token: string): Route {
  const digest = createHash('sha256').update(token).digest('base64url').slice(0, 16)
  return { key: `discord:webhook:${applicationId}:${digest}`, ...WEBHOOK_BUDGET }
}

/** Bot posts and edits in one channel. */
export function channelRoute(channelId: string): Route {
  return { key: `discord:channel:${channelId}`, ...CHANNEL_BUDGET }
}
