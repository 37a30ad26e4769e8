import type { IncomingMessage, ServerResponse } from 'node:http'
import type { HTTPReceiver } from '@slack/bolt'
import type { Logger } from 'pino'

/** Slack: a request whose timestamp differs from the clock by more than five minutes is refused. */
export const MAX_CLOCK_SKEW_SEC = 5 * 60

/**
 * Refuses HTTP-mode requests stamped more than five minutes in the future, as bolt already refuses
 * old ones ("Verifying requests from Slack": the timestamp must be within five minutes either way;
 * bolt checks only the past). Answered 401 like bolt's own verification failures.
 */
export function refuseFutureTimestamps(
  receiver: HTTPReceiver,
  log: Logger,
  now: () => number = Date.now,
): void {
  const next = receiver.requestListener
  receiver.requestListener = (req: IncomingMessage, res: ServerResponse) => {
    const stamp = Number(req.headers['x-slack-request-timestamp'])
    if (Number.isFinite(stamp) && stamp > Math.floor(now() / 1000) + MAX_CLOCK_SKEW_SEC) {
      log.warn({ event: 'slack.future_timestamp', timestamp: stamp }, 'slack.future_timestamp')
      res.writeHead(401)
      res.end()
      return
    }
    next(req, res)
  }
}
