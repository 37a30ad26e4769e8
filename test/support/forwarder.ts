/**
 * A tiny round-robin HTTP load balancer for tests: each request goes to the next backend on
 * 127.0.0.1, on a connection of its own; a backend that refuses the connection (killed) is skipped
 * for the next one, as a load balancer's health check would; a request cut off mid-way gets 502. It records which backend took each
 * request, and the `id` of its JSON body when it has one (a Discord interaction's id).
 */
import { createServer, request } from 'node:http'
import { listen, readBody } from '../fakes/http.ts'

export interface Taken {
  /** Index of the backend in the list given. */
  backend: number
  path: string
  id: string | undefined
  status: number
}

export interface Forwarder {
  url: string
  taken: Taken[]
  close(): Promise<void>
}

export async function startForwarder(ports: number[]): Promise<Forwarder> {
  const taken: Taken[] = []
  let next = 0
  const server = createServer(async (req, res) => {
    const body = await readBody(req)
    let id: string | undefined
    try {
      id = (JSON.parse(body) as { id?: string }).id
    } catch {
      id = undefined
    }
    for (let tried = 0; tried < ports.length; tried++) {
      const backend = next++ % ports.length
      const answer = await forward(
        ports[backend] as number,
        req.method ?? 'GET',
        req.url ?? '/',
        req.headers,
        body,
      )
      if (answer === undefined) continue
      taken.push({ backend, path: req.url ?? '/', id, status: answer.status })
      res.writeHead(answer.status, answer.headers).end(answer.body)
      return
    }
    res.writeHead(502).end()
  })
  const { port, close } = await listen(server)
  return { url: `http://127.0.0.1:${port}`, taken, close }
}

/** The backend's answer, or undefined when it cannot be reached. */
function forward(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
): Promise<
  { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer } | undefined
> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
      )
      res.on('error', () => resolve({ status: 502, headers: {}, body: Buffer.alloc(0) }))
    })
    // Refused: the backend is down, try the next. Anything else: the request may have been taken.
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve(err.code === 'ECONNREFUSED' ? undefined : { status: 502, headers: {}, body: Buffer.alloc(0) }),
    )
    req.end(body)
  })
}
