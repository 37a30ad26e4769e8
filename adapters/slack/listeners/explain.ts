import type { AllMiddlewareArgs } from '@slack/bolt'

/** An ephemeral answer to a slash command, sent as its acknowledgement. */
export function ephemeral(text: string) {
  return { response_type: 'ephemeral', text } as const
}

/** An ephemeral note to whoever clicked a button; the message the button is on stays as it is. */
export function note(text: string) {
  return { response_type: 'ephemeral', replace_original: false, text } as const
}

/**
 * Explains to one user, ephemerally, in a thread: the answer to a mention or a modal, which have no
 * response_url to answer through.
 */
export function explainInThread(
  client: AllMiddlewareArgs['client'],
  where: { channel: string; user: string; threadTs: string },
): (text: string) => Promise<unknown> {
  return (text) =>
    client.chat.postEphemeral({ channel: where.channel, user: where.user, thread_ts: where.threadTs, text })
}
