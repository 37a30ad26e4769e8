import type { BlockAction } from '@slack/bolt'

/** Where a clicked control is: its channel, its message, and the thread that message is in (if any). */
export function clicked(body: BlockAction): { channel: string; ts: string; threadTs: string | undefined } {
  const message = body.message as { ts?: string; thread_ts?: string } | undefined
  return {
    channel: body.channel?.id ?? body.container.channel_id,
    ts: message?.ts ?? body.container.message_ts,
    threadTs: message?.thread_ts,
  }
}
