import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'

/** Whether `error` is Slack's 429, as the Web API client (`rejectRateLimitedCalls`) or `postToResponseUrl` throws it. */
export function rateLimited(error: unknown): error is { code: string; retryAfter?: number } {
  return (error as { code?: string } | null)?.code === 'slack_webapi_rate_limited_error'
}

/**
 * Calls `fn`; on a 429 (the platform's client rejects rate-limited calls rather than queueing them)
 * waits Slack's Retry-After once and calls it again.
 */
export async function withRetryAfter<T>(log: Logger, method: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (!rateLimited(error)) throw error
    const ms = (error.retryAfter ?? 1) * 1000
    log.warn({ method, retryAfterMs: ms }, 'slack.rate_limited')
    await sleep(ms)
    return await fn()
  }
}
