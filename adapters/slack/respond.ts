import { slackFetch } from './http-fetch.ts'

/**
 * Posts to a Slack response_url from plain data (no bolt `respond` closure), so any process can
 * use it. Slack: a response_url takes 5 posts within 30 minutes. A 429 (Slack limits any way of
 * posting to about one message a second per channel) throws what the Web API client throws for one
 * (`code` slack_webapi_rate_limited_error, `retryAfter` in seconds), so the sink waits it out alike;
 * a URL that is used up or expired throws ResponseUrlClosed.
 */
export async function postToResponseUrl(url: string, body: Record<string, unknown>): Promise<void> {
  const res = await slackFetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (res.ok) return
  if (res.status === 429) {
    const error = new Error('response_url answered 429') as Error & { code: string; retryAfter: number }
    error.code = 'slack_webapi_rate_limited_error'
    error.retryAfter = Number(res.headers.get('retry-after') ?? 1) || 1
    throw error
  }
  if (res.status === 404 || res.status === 410) throw new ResponseUrlClosed(res.status)
  const error = new Error(`response_url answered ${res.status}`) as Error & { data?: { error: string } }
  error.data = { error: `response_url_${res.status}` }
  throw error
}

/** The response_url takes no more posts (used 5 times, or past its 30 minutes). */
export class ResponseUrlClosed extends Error {
  readonly code = 'response_url_closed'
  readonly data: { error: string }
  constructor(status: number) {
    super(`response_url answered ${status}: it is used up or expired; the reply continues with the bot token`)
    this.name = 'ResponseUrlClosed'
    this.data = { error: `response_url_${status}` }
  }
}
