/**
 * The Web API clients' transport (`@slack/web-api`'s `fetch` option): a call over node:http(s) on
 * Node's keep-alive global agents instead of undici's fetch, whose request building, web streams
 * and body reading were about a quarter of Chorus' CPU per command (bench/README.md, "CPU per
 * command"). It gives the client what it reads of a response (status, headers, the body) and fails
 * as fetch does (a TypeError "fetch failed" with the cause, a redirect refused, the signal's reason),
 * so the client's queue, retries, 429 handling and errors stay its own. Redirects are not followed
 * (the client asks fetch to refuse them). A body that is not a string (a file upload's FormData)
 * goes through fetch.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { urlToHttpOptions } from 'node:url'
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib'
import type { FetchFunction } from '@slack/web-api'

/** What the client reads of a response (the package exports only the function's type). */
type FetchResponse = Awaited<ReturnType<FetchFunction>>
type FetchHeaders = FetchResponse['headers']

/** undici's headersTimeout and bodyTimeout, which fetch had: a stalled call fails (and the client retries) rather than hangs. */
const IDLE_MS = 300_000

/** A Web API call as `fetch(url, init)` would make it, read whole. */
export const slackFetch: FetchFunction = (url, init = {}) => {
  const { body, signal } = init
  if (body !== undefined && typeof body !== 'string') return fetch(url, init)
  if (signal?.aborted === true) return Promise.reject(signal.reason)
  const target = typeof url === 'string' ? new URL(url) : url
  const headers: Record<string, string> = { ...init.headers }
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body))
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const fail = (cause: unknown): void => reject(new TypeError('fetch failed', { cause }))
    const onAbort = (): void => {
      req.destroy()
      reject(signal?.reason)
    }
    const req = send({ ...urlToHttpOptions(target), method: init.method ?? 'GET', headers }, (res) => {
      const status = res.statusCode ?? 0
      if (status >= 300 && status < 400 && res.headers.location !== undefined && init.redirect === 'error') {
        res.resume()
        signal?.removeEventListener('abort', onAbort)
        fail(new Error(`unexpected redirect to ${res.headers.location}`))
        return
      }
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', fail)
      res.on('close', () => {
        if (!res.complete) fail(new Error('the connection closed before the answer ended'))
      })
      res.on('end', () => {
        signal?.removeEventListener('abort', onAbort)
        try {
          const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
          const whole = decoded(raw, res.headers['content-encoding'])
          resolve(new HttpResponse(target.href, status, res.statusMessage ?? '', res.headers, whole))
        } catch (error) {
          fail(error)
        }
      })
    })
    req.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort)
      fail(error)
    })
    req.setTimeout(IDLE_MS, () => req.destroy(new Error(`no data from Slack for ${IDLE_MS} ms`)))
    signal?.addEventListener('abort', onAbort, { once: true })
    req.end(body)
  })
}

/** No Accept-Encoding is sent, so a server should not compress; one that does is decoded as fetch would. */
function decoded(raw: Buffer, encoding: string | undefined): Buffer {
  if (encoding === undefined || encoding === 'identity') return raw
  if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipSync(raw)
  if (encoding === 'deflate') return inflateSync(raw)
  if (encoding === 'br') return brotliDecompressSync(raw)
  throw new Error(`unsupported content-encoding ${encoding}`)
}

class HttpResponse implements FetchResponse {
  readonly url: string
  readonly status: number
  readonly statusText: string
  readonly headers: FetchHeaders
  readonly #body: Buffer

  constructor(url: string, status: number, statusText: string, raw: IncomingHttpHeaders, body: Buffer) {
    this.url = url
    this.status = status
    this.statusText = statusText
    this.headers = new ResponseHeaders(raw)
    this.#body = body
  }

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299
  }

  async text(): Promise<string> {
    return this.#body.toString('utf8')
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.#body.toString('utf8'))
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.#body
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice().buffer
  }
}

/** Node's parsed headers (lower-case names) read as fetch's Headers: repeated ones joined with ", ". */
class ResponseHeaders implements FetchHeaders {
  readonly #raw: IncomingHttpHeaders

  constructor(raw: IncomingHttpHeaders) {
    this.#raw = raw
  }

  get(name: string): string | null {
    const value = this.#raw[name.toLowerCase()]
    if (value === undefined) return null
    return Array.isArray(value) ? value.join(', ') : value
  }

  *entries(): Iterable<[string, string]> {
    for (const name of Object.keys(this.#raw).sort()) {
      const value = this.get(name)
      if (value !== null) yield [name, value]
    }
  }
}
