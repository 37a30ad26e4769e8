/**
 * A streamed Chat Completions request over node:http(s) (Node's keep-alive global agents), its
 * server-sent events read line by line as they arrive. Every model call of a run takes this path,
 * and the SDK's own path for it (undici's fetch, web streams, its SSE decoder and request building)
 * cost about four times the CPU per call (bench/README.md, "CPU per command"). Failures are the
 * SDK's own error classes, so `classify` reads both paths alike; whole answers stay on the SDK.
 */
import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http'
import { request as httpsRequest } from 'node:https'
import { urlToHttpOptions } from 'node:url'
import OpenAI from 'openai'

/** Where a model's requests go: the URL (as request options, worked out once) and headers its SDK client would send. */
export interface Endpoint {
  url: URL
  options: RequestOptions
  headers: Record<string, string>
}

/** The endpoint of the SDK client's `/chat/completions`: its base URL (and query), key, organization, project. */
export function endpointOf(client: OpenAI): Endpoint {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
  }
  if (client.apiKey != null) headers.authorization = `Bearer ${client.apiKey}`
  if (client.organization != null) headers['openai-organization'] = client.organization
  if (client.project != null) headers['openai-project'] = client.project
  const url = new URL(client.buildURL('/chat/completions', undefined))
  return { url, options: { ...urlToHttpOptions(url), method: 'POST' }, headers }
}

/** Where the events of an open stream go. */
export interface EventSink {
  /** The server answered with a stream of events. */
  open(): void
  /** One event's data, parsed. */
  event(data: unknown): void
}

/**
 * POSTs `body` and hands each event to `sink`. Resolves with undefined when the stream ended (or
 * `signal` aborted it once open, as the SDK's stream ends), or with the text of a whole JSON answer
 * (a server that ignored `stream`). Rejects with the SDK's errors: an error status, no answer within
 * `timeoutMs`, an abort before the answer began, a server out of reach; once open, a broken
 * connection or an unreadable event rejects as the SDK's stream does.
 */
export function postStreamed(
  endpoint: Endpoint,
  body: string,
  limits: { signal: AbortSignal; timeoutMs: number },
  sink: EventSink,
): Promise<string | undefined> {
  const { signal } = limits
  if (signal.aborted) return Promise.reject(new OpenAI.APIUserAbortError())
  return new Promise((resolve, reject) => {
    let settled = false
    let opened = false
    const finish = (error: unknown, whole?: string): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      if (error === undefined) resolve(whole)
      else reject(error)
    }
    const onAbort = (): void => {
      req.destroy()
      finish(opened ? undefined : new OpenAI.APIUserAbortError())
    }
    const send = endpoint.url.protocol === 'https:' ? httpsRequest : httpRequest
    const headers = { ...endpoint.headers, 'content-length': String(Buffer.byteLength(body)) }
    const req = send({ ...endpoint.options, headers }, (res) => {
      clearTimeout(timer)
      const status = res.statusCode ?? 0
      res.setEncoding('utf8')
      res.on('error', (error) => finish(error))
      if (status < 200 || status > 299 || isJson(res.headers['content-type'])) {
        readAll(res, (text) =>
          finish(status > 299 ? statusError(status, text, res.headers) : undefined, text),
        )
        res.on('close', () => finish(new Error('the model server closed the answer before it ended')))
        return
      }
      opened = true
      sink.open()
      const events = new EventReader(res.headers, (data) => {
        if (settled) return
        if (data === undefined) finish(undefined)
        else sink.event(data)
      })
      res.on('data', (text: string) => {
        if (settled) return
        try {
          events.feed(text)
        } catch (error) {
          req.destroy()
          finish(error)
        }
      })
      res.on('end', () => finish(undefined))
      res.on('close', () => finish(new Error('the model server closed the stream before it ended')))
    })
    const timer = setTimeout(() => {
      req.destroy()
      finish(new OpenAI.APIConnectionTimeoutError())
    }, limits.timeoutMs)
    req.on('error', (cause) => finish(opened ? cause : new OpenAI.APIConnectionError({ cause })))
    signal.addEventListener('abort', onAbort, { once: true })
    req.end(body)
  })
}

/** Whether a content type is JSON (a whole answer) rather than server-sent events. */
export function isJson(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? ''
  return type === 'application/json' || type.endsWith('+json')
}

function readAll(res: IncomingMessage, done: (text: string) => void): void {
  let text = ''
  res.on('data', (piece: string) => {
    text += piece
  })
  res.on('end', () => done(text))
}

/** The SDK's error for an error status, built as the SDK builds it from the body. */
function statusError(status: number, text: string, headers: IncomingHttpHeaders): Error {
  const json = safeJson(text)
  return OpenAI.APIError.generate(status, json, json === undefined ? text : undefined, headersOf(headers))
}

function safeJson(text: string): object | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null ? value : undefined
  } catch {
    return undefined
  }
}

function headersOf(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers()
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else if (value !== undefined) headers.set(name, value)
  }
  return headers
}

/**
 * Server-sent events (the WHATWG rules: lines end with \n, \r\n or \r; `data:` lines of one event
 * are joined; a blank line ends the event): each event's data is parsed as JSON and handed on, as
 * the SDK's stream does: `[DONE]` ends the stream (handed on as undefined), an `error` event or
 * data with an `error` is an APIError, data that is not JSON a SyntaxError.
 */
class EventReader {
  #rest = ''
  #data: string[] = []
  #event = ''
  readonly #headers: IncomingHttpHeaders
  readonly #emit: (data: unknown) => void

  constructor(headers: IncomingHttpHeaders, emit: (data: unknown) => void) {
    this.#headers = headers
    this.#emit = emit
  }

  feed(text: string): void {
    const buffer = this.#rest + text
    let start = 0
    for (;;) {
      const lf = buffer.indexOf('\n', start)
      const cr = buffer.indexOf('\r', start)
      const end = cr === -1 || (lf !== -1 && lf < cr) ? lf : cr
      // A \r at the end may be the first half of \r\n: wait for what follows it.
      if (end === -1 || (end === cr && end === buffer.length - 1)) break
      this.#line(buffer.slice(start, end))
      start = end + (end === cr && buffer.charCodeAt(end + 1) === 10 ? 2 : 1)
    }
    this.#rest = start === 0 ? buffer : buffer.slice(start)
  }

  #line(line: string): void {
    if (line === '') {
      this.#dispatch()
      return
    }
    if (line.charCodeAt(0) === 58) return // ':' starts a comment
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    if (field === 'data') this.#data.push(value)
    else if (field === 'event') this.#event = value
  }

  #dispatch(): void {
    const event = this.#event
    this.#event = ''
    if (this.#data.length === 0) return
    const raw = this.#data.length === 1 ? (this.#data[0] as string) : this.#data.join('\n')
    this.#data = []
    if (raw === '[DONE]') {
      this.#emit(undefined)
      return
    }
    let data: { error?: unknown } | null
    try {
      data = JSON.parse(raw) as { error?: unknown } | null
    } catch {
      throw new SyntaxError('Error reading response: malformed server-sent event JSON.')
    }
    if (event === 'error' || (data !== null && data.error != null)) {
      const error = data?.error ?? data
      throw new OpenAI.APIError(undefined, error as object, undefined, headersOf(this.#headers))
    }
    this.#emit(data)
  }
}
