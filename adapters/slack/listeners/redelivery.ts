import type { Bot } from '../../../src/bot/index.ts'

/** Slack retries an event for about an hour; slash commands are not redelivered later than that either. */
const REDELIVERY_TTL_MS = 2 * 60 * 60_000

/**
 * True the first time Slack delivers this command (by trigger_id) or event (by event_id), across
 * restarts: a redelivery is acknowledged again but runs nothing.
 */
export function firstDelivery(bot: Bot, kind: 'command' | 'event', id: string): Promise<boolean> {
  return bot.store.claim(`slack:${kind}:${id}`, REDELIVERY_TTL_MS)
}
