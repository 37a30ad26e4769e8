import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ModelError, OpenAIModel } from '../../src/llm/index.ts'

/** A server that writes exactly what a test scripts: the wire forms the fake OpenAI does not produce. */
async function rawServer(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

let server: { url: string; close(): Promise<void> } | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const chunk = (content: string, finish = false) =>
  JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: finish ? 'stop' : null }] })

/** Writes `pieces` one by one, a few ms apart, as a server flushing at odd places does. */
function stream(pieces: string[], end = true) {
  return async (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const piece of pieces) {
      res.write(piece)
      await new Promise((r) => setTimeout(r, 2))
    }
    if (end) res.end()
    else res.destroy()
  }
}

async function failure(p: Promise<unknown>): Promise<ModelError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ModelError)
  return error as ModelError
}

describe('streamed requests over node:http', () => {
  it('reads events split anywhere, with \\r\\n, \\r or \\n line ends, comments and multi-line data', async () => {
    const wire =
      `: keep-alive\r\n\r\ndata: ${chunk('Hel')}\r\n\r\n` +
      `event: message\rdata: ${chunk('lo, ')}\r\r` +
      `data: {"choices": [{"index": 0,\ndata: "delta": {"content": "world"}, "finish_reason": "stop"}]}\n\n` +
      'data: [DONE]\n\n'
    // Split between \r and \n, inside a JSON document and inside a field name.
    const pieces = [
      wire.slice(0, 15),
      wire.slice(15, 60),
      wire.slice(60, 61),
      wire.slice(61, 130),
      wire.slice(130),
    ]
    server = await rawServer(stream(pieces))
    const m = new OpenAIModel({ apiKey: 'k', baseURL: server.url, model: 'm' })
    const seen: string[] = []
    expect(await m.text('x', { onText: (t) => void seen.push(t) })).toBe('Hello, world')
    expect(seen).toEqual(['Hel', 'Hello, ', 'Hello, world'])
  })

  it('an error event fails the call as a transient bad response', async () => {
    server = await rawServer(
      stream([`data: ${chunk('par')}\n\n`, 'event: error\ndata: {"error": {"message": "overloaded"}}\n\n']),
    )
    const m = new OpenAIModel({ apiKey: 'k', baseURL: server.url, model: 'm' })
    const e = await failure(m.text('x'))
    expect(e).toMatchObject({ code: 'model_bad_response', transient: true })
    expect(String((e.cause as Error).message)).toContain('overloaded')
  })

  it('a connection cut in the middle of the stream is a transient failure, not a hang', async () => {
    server = await rawServer(stream([`data: ${chunk('half an ans')}\n\n`], false))
    const m = new OpenAIModel({ apiKey: 'k', baseURL: server.url, model: 'm' })
    expect(await failure(m.text('x'))).toMatchObject({ code: 'model_bad_response', transient: true })
  })

  it('sends what the SDK would: its key, organization and project, and a base URL’s query', async () => {
    const seen: IncomingMessage[] = []
    server = await rawServer((req, res) => {
      seen.push(req)
      void stream([`data: ${chunk('ok', true)}\n\n`, 'data: [DONE]\n\n'])(req, res)
    })
    const saved = { org: process.env.OPENAI_ORG_ID, project: process.env.OPENAI_PROJECT_ID }
    process.env.OPENAI_ORG_ID = 'org-1'
    process.env.OPENAI_PROJECT_ID = 'proj-1'
    try {
      const m = new OpenAIModel({ apiKey: 'sk-1', baseURL: `${server.url}?api-version=2`, model: 'm' })
      expect(await m.text('x')).toBe('ok')
    } finally {
      for (const [name, value] of [
        ['OPENAI_ORG_ID', saved.org],
        ['OPENAI_PROJECT_ID', saved.project],
      ] as const) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    }
    expect(seen[0]?.url).toBe('/v1/chat/completions?api-version=2')
    expect(seen[0]?.headers).toMatchObject({
      authorization: 'Bearer sk-1',
      'openai-organization': 'org-1',
      'openai-project': 'proj-1',
    })
  })
})
