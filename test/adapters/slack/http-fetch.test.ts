import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { WebClient } from '@slack/web-api'
import { afterEach, describe, expect, it } from 'vitest'
import { slackFetch } from '../../../adapters/slack/http-fetch.ts'
import { freePort } from '../../support/redis-server.ts'

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void

let server: Server | undefined
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
  server = undefined
})

async function serve(handler: Handler): Promise<string> {
  const s = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (piece: string) => {
      body += piece
    })
    req.on('end', () => handler(req, body, res))
  })
  server = s
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/api/`
}

function client(url: string, options: { rejectRateLimitedCalls?: boolean } = {}): WebClient {
  return new WebClient('xoxb-test', {
    slackApiUrl: url,
    fetch: slackFetch,
    retryConfig: { retries: 0 },
    ...options,
  })
}

describe('slackFetch: the Web API client over node:http', () => {
  it('sends the call as the client builds it and reads the answer', async () => {
    let seen: Record<string, string | undefined> = {}
    const url = await serve((req, body, res) => {
      seen = { url: req.url, auth: req.headers.authorization, type: req.headers['content-type'], body }
      res.writeHead(200, { 'content-type': 'application/json', 'x-oauth-scopes': 'chat:write, commands' })
      res.end(JSON.stringify({ ok: true, ts: '1.2', text: 'é ✓' }))
    })
    const result = await client(url).chat.postMessage({ channel: 'C1', text: 'héllo & <b>' })
    expect(seen.url).toBe('/api/chat.postMessage')
    expect(seen.auth).toBe('Bearer xoxb-test')
    expect(seen.type).toBe('application/x-www-form-urlencoded')
    expect(new URLSearchParams(seen.body).get('text')).toBe('héllo & <b>')
    expect(result).toMatchObject({ ok: true, ts: '1.2', text: 'é ✓' })
    expect(result.response_metadata?.scopes).toEqual(['chat:write', 'commands'])
  })

  it("turns a 429 into the client's rate-limited error with Retry-After", async () => {
    const url = await serve((_req, _body, res) => {
      res.writeHead(429, { 'retry-after': '7' })
      res.end()
    })
    await expect(
      client(url, { rejectRateLimitedCalls: true }).chat.update({ channel: 'C1', ts: '1.2', text: 'x' }),
    ).rejects.toMatchObject({ code: 'slack_webapi_rate_limited_error', retryAfter: 7 })
  })

  it("turns an error status into the client's HTTP error with the body", async () => {
    const url = await serve((_req, _body, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' })
      res.end('down')
    })
    await expect(client(url).chat.postMessage({ channel: 'C1', text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_http_error',
      statusCode: 503,
      body: 'down',
    })
  })

  it('fails as fetch does when the server is out of reach or redirects', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/api/`
    await expect(client(closed).chat.postMessage({ channel: 'C1', text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_request_error',
      original: { message: 'fetch failed' },
    })
    const url = await serve((_req, _body, res) => {
      res.writeHead(302, { location: 'https://elsewhere.test/' })
      res.end()
    })
    await expect(slackFetch(`${url}x`, { method: 'POST', body: '', redirect: 'error' })).rejects.toThrow(
      'fetch failed',
    )
  })

  it('fails as fetch does when the connection closes before the answer ended', async () => {
    const url = await serve((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
      res.write('{"ok":')
      setTimeout(() => res.socket?.destroy(), 20)
    })
    await expect(slackFetch(`${url}x`, { method: 'POST', body: 'a=1' })).rejects.toThrow('fetch failed')
  })

  it('decodes a compressed answer and rejects with the reason of an aborted signal', async () => {
    const url = await serve((req, _body, res) => {
      if (req.url?.endsWith('slow')) return
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
      res.end(gzipSync(JSON.stringify({ ok: true })))
    })
    const res = await slackFetch(`${url}x`, { method: 'POST', body: 'a=1' })
    expect(await res.json()).toEqual({ ok: true })
    expect([...res.headers.entries()]).toContainEqual(['content-encoding', 'gzip'])
    const reason = new Error('timed out')
    const controller = new AbortController()
    const slow = slackFetch(`${url}slow`, { method: 'POST', body: 'a=1', signal: controller.signal })
    setTimeout(() => controller.abort(reason), 20)
    await expect(slow).rejects.toBe(reason)
  })
})
