/**
 * Posts to a Slack response_url from plain data (no bolt `respond` closure), so any process can
 * use it. Slack: a response_url takes 5 posts within 30 minutes.
 */
export async function postToResponseUrl(url: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!res.ok) {
    const error = new Error(`response_url answered ${res.status}`) as Error & { data?: { error: string } }
    error.data = { error: `response_url_${res.status}` }
    throw error
  }
}
