/**
 * An OpenAI-compatible Chat Completions server on 127.0.0.1 for tests: the real `openai` SDK
 * talks to it over HTTP. Each request's behaviour comes from `handler` (latency, status,
 * retry-after, hang, malformed body, servers that ignore `n`, `stream` or `stream_options`, streams
 * split and interleaved as a test chooses), and every request is recorded, including whether the
 * client closed it before the answer was sent.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { listen, readBody } from './http.ts'

export interface ChatBody {
  model: string
  messages: Array<{ role: string; content: string }>
  n?: number
  stream?: boolean
  stream_options?: { include_usage?: boolean }
  temperature?: number
  max_tokens?: number
  response_format?: { type: string; json_schema?: { name: string; schema: unknown; strict?: boolean } }
}

/** One choice's part of a scripted stream chunk: a piece of its text, its finish, or both. */
export interface FakeChunkChoice {
  index: number
  content?: string
  /** Sends `finish_reason: 'stop'` for the choice in this chunk. */
  finish?: boolean
}

/** One chunk of a scripted stream, written `delayMs` after the one before (0: back to back). */
export interface FakeChunk {
  choices: FakeChunkChoice[]
  delayMs?: number
}

export interface FakeReply {
  /** The answer; with `texts`, one per choice. */
  text?: string
  texts?: string[]
  latencyMs?: number
  /** An error status (429, 500, 401…) with an OpenAI-style error body. */
  status?: number
  headers?: Record<string, string>
  /** Never answer (until the client gives up). */
  hang?: boolean
  /** Answer 200 with a body that is not JSON. */
  malformed?: boolean
  /** Answer with one choice whatever `n` asked for (as servers without `n` support do). */
  ignoreN?: boolean
  /** When streaming, how long after the headers each choice finishes (by choice index); choices stream in that order. */
  choiceLatencyMs?: number[]
  /**
   * When streaming, the pause between two pieces of a choice (a piece is up to 8 characters, about two
   * tokens), as a real server writes tokens; 0 sends a choice's pieces back to back.
   */
  pieceIntervalMs?: number
  /**
   * When streaming, exactly these chunks (then the usage chunk and `[DONE]`) instead of one choice
   * after another: choices split at chosen points, interleaved, finished apart or with their last
   * piece. The choices' texts are what the chunks spell.
   */
  chunks?: FakeChunk[]
  /** Answer a `stream: true` request with one whole JSON completion (some gateways and proxies do). */
  ignoreStream?: boolean
  /** Count no tokens: no usage chunk whatever `stream_options` asks, no `usage` in a whole completion. */
  noUsage?: boolean
}

export interface RecordedRequest {
  body: ChatBody
  headers: IncomingMessage['headers']
  /** The last user message. */
  prompt: string
  system: string | undefined
  receivedAt: number
  /** True when the client closed the connection before the answer was sent. */
  aborted: boolean
  /** True once the answer was sent. */
  answered: boolean
  /** Prompt tokens the server counted (billed once per request, whatever `n`). */
  promptTokens: number
  /** Completion tokens of the choices actually sent (a stream closed early stops generation). */
  completionTokens: number
  /** Choices sent in full. */
  choicesSent: number
  /** `performance.now()` when the first piece of text was written, and when the answer ended. */
  firstTextAt: number | undefined
  finishedAt: number | undefined
}

export interface FakeOpenAI {
  /** Base URL for the SDK, including `/v1`. */
  url: string
  requests: RecordedRequest[]
  /** Resolves once `count` requests have been received. */
  waitForRequests(count: number): Promise<void>
  close(): Promise<void>
}

export type Handler = (body: ChatBody, request: RecordedRequest) => FakeReply | Promise<FakeReply>

export async function startFakeOpenAI(options: { handler?: Handler } = {}): Promise<FakeOpenAI> {
  const handler: Handler = options.handler ?? ((body) => ({ text: `echo: ${lastUser(body)}` }))
  const requests: RecordedRequest[] = []
  const waiters: Array<{ count: number; resolve: () => void }> = []

  const server = createServer(async (req, res) => {
    if (req.method !== 'POST' || !req.url?.startsWith('/v1/chat/completions')) {
      return json(res, 404, {
        error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' },
      })
    }
    let body: ChatBody
    try {
      body = JSON.parse(await readBody(req)) as ChatBody
    } catch {
      return json(res, 400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } })
    }
    const record: RecordedRequest = {
      body,
      headers: req.headers,
      prompt: lastUser(body),
      system: body.messages.find((m) => m.role === 'system')?.content,
      receivedAt: performance.now(),
      aborted: false,
      answered: false,
      promptTokens: Math.ceil(JSON.stringify(body.messages).length / 4),
      completionTokens: 0,
      choicesSent: 0,
      firstTextAt: undefined,
      finishedAt: undefined,
    }
    requests.push(record)
    for (const w of waiters.filter((w) => requests.length >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve()
    }
    let streaming = false
    res.on('close', () => {
      if (!record.answered || streaming) record.aborted = true
    })
    const reply = await handler(body, record)
    if (reply.hang) return
    if ((reply.latencyMs ?? 0) > 0) await new Promise((r) => setTimeout(r, reply.latencyMs))
    if (record.aborted || res.destroyed) return
    record.answered = true
    if (reply.status !== undefined && reply.status >= 400) {
      return json(
        res,
        reply.status,
        { error: { message: `fake error ${reply.status}`, type: 'fake_error', code: null } },
        reply.headers,
      )
    }
    if (reply.malformed) {
      res.writeHead(200, { 'content-type': 'application/json', ...reply.headers })
      res.end('{"id": "chatcmpl-broken", "choices": [')
      return
    }
    const n = reply.ignoreN ? 1 : Math.max(1, body.n ?? 1)
    const texts =
      reply.chunks === undefined
        ? Array.from({ length: n }, (_, i) => reply.texts?.[i] ?? reply.text ?? `answer ${i + 1}`)
        : spelled(reply.chunks)
    const usage = {
      prompt_tokens: record.promptTokens,
      completion_tokens: texts.reduce((s, t) => s + Math.ceil(t.length / 4), 0),
      total_tokens: 0,
    }
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
    const id = `chatcmpl-fake-${requests.length}`
    const created = Math.floor(Date.now() / 1000)
    if (body.stream && !reply.ignoreStream) {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        ...reply.headers,
      })
      const send = (chunk: object): void => {
        res.write(
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, ...chunk })}\n\n`,
        )
      }
      streaming = true
      const gone = (): boolean => record.aborted || res.destroyed
      if (reply.chunks !== undefined) {
        if (!(await sendChunks(reply.chunks, texts, send, record, gone))) return
      } else if (!(await sendChoices(texts, reply, send, record, gone))) return
      streaming = false
      record.finishedAt = performance.now()
      if (body.stream_options?.include_usage && !reply.noUsage) send({ choices: [], usage })
      res.end('data: [DONE]\n\n')
      return
    }
    record.choicesSent = texts.length
    record.completionTokens = usage.completion_tokens
    record.firstTextAt = record.finishedAt = performance.now()
    json(
      res,
      200,
      {
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        choices: texts.map((text, index) => ({
          index,
          message: { role: 'assistant', content: text, refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        })),
        ...(reply.noUsage ? {} : { usage }),
      },
      reply.headers,
    )
  })
  const { port, close } = await listen(server)
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    waitForRequests: (count) =>
      requests.length >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ count, resolve })),
    close,
  }
}

type Send = (chunk: object) => void

/** Streams each choice in turn (by `choiceLatencyMs`), in pieces of up to 8 characters. False if the client left. */
async function sendChoices(
  texts: string[],
  reply: FakeReply,
  send: Send,
  record: RecordedRequest,
  gone: () => boolean,
): Promise<boolean> {
  const order = texts
    .map((text, index) => ({ text, index, at: reply.choiceLatencyMs?.[index] ?? 0 }))
    .sort((a, b) => a.at - b.at)
  const t0 = performance.now()
  for (const { text, index, at } of order) {
    const wait = at - (performance.now() - t0)
    if (wait > 0) await sleep(wait)
    if (gone()) return false
    const pieces = text.match(/.{1,8}/gs) ?? ['']
    for (const [i, piece] of pieces.entries()) {
      if (i > 0 && (reply.pieceIntervalMs ?? 0) > 0) {
        await sleep(reply.pieceIntervalMs ?? 0)
        if (gone()) return false
      }
      send({ choices: [{ index, delta: { content: piece }, finish_reason: null }] })
      record.firstTextAt ??= performance.now()
    }
    send({ choices: [{ index, delta: {}, finish_reason: 'stop' }] })
    record.choicesSent++
    record.completionTokens += Math.ceil(text.length / 4)
  }
  return true
}

/** Sends a scripted stream chunk by chunk. False if the client left. */
async function sendChunks(
  chunks: FakeChunk[],
  texts: string[],
  send: Send,
  record: RecordedRequest,
  gone: () => boolean,
): Promise<boolean> {
  for (const chunk of chunks) {
    if ((chunk.delayMs ?? 0) > 0) await sleep(chunk.delayMs ?? 0)
    if (gone()) return false
    send({
      choices: chunk.choices.map(({ index, content, finish }) => ({
        index,
        delta: content === undefined ? {} : { content },
        finish_reason: finish ? 'stop' : null,
      })),
    })
    if (chunk.choices.some((c) => c.content !== undefined)) record.firstTextAt ??= performance.now()
    for (const c of chunk.choices.filter((c) => c.finish)) {
      record.choicesSent++
      record.completionTokens += Math.ceil((texts[c.index] ?? '').length / 4)
    }
  }
  return true
}

/** The choices' texts a scripted stream spells, by index. */
function spelled(chunks: FakeChunk[]): string[] {
  const texts: string[] = []
  for (const chunk of chunks)
    for (const { index, content } of chunk.choices) texts[index] = (texts[index] ?? '') + (content ?? '')
  return Array.from(texts, (t) => t ?? '')
}

/**
 * A stream script for `texts` (choice i is `texts[i]`), drawn from `rand`: each choice split into two
 * or three pieces (the first split in the middle of its text), its finish sent apart or with its last
 * piece, the choices interleaved in a random order that keeps each one's own order, consecutive
 * events of different choices sometimes sharing a chunk, and chunks sent back to back or 1 ms apart.
 */
export function interleaved(texts: string[], rand: () => number): FakeChunk[] {
  const lanes = texts.map((text, index) => {
    const cuts = [Math.floor(text.length / 2)]
    if (rand() < 0.5) cuts.push(Math.floor(rand() * (text.length + 1)))
    cuts.sort((a, b) => a - b)
    const pieces = [0, ...cuts, text.length]
      .slice(1)
      .map((end, i, ends) => text.slice(i === 0 ? 0 : (ends[i - 1] as number), end))
      .filter((piece) => piece.length > 0)
    const events: FakeChunkChoice[] = pieces.map((content) => ({ index, content }))
    const last = events.at(-1)
    if (last !== undefined && rand() < 0.5) last.finish = true
    else events.push({ index, finish: true })
    return events
  })
  const chunks: FakeChunk[] = []
  let open: FakeChunk | undefined
  for (let left = lanes.reduce((s, l) => s + l.length, 0); left > 0; left--) {
    const ready = lanes.filter((l) => l.length > 0)
    const event = (ready[Math.floor(rand() * ready.length)] as FakeChunkChoice[]).shift() as FakeChunkChoice
    if (open !== undefined && rand() < 0.3 && !open.choices.some((c) => c.index === event.index))
      open.choices.push(event)
    else {
      open = { choices: [event], delayMs: rand() < 0.7 ? 0 : 1 }
      chunks.push(open)
    }
  }
  return chunks
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

function lastUser(body: ChatBody): string {
  return [...body.messages].reverse().find((m) => m.role === 'user')?.content ?? ''
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}
