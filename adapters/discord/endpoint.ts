import type { KeyObject } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { REST } from 'discord.js'
import { fromPayload } from './from-payload.ts'
import { INCOMPLETE_TEXT } from './guard.ts'
import { EPHEMERAL } from './listeners/answer.ts'
import type { Context } from './listeners/context.ts'
import { route } from './listeners/index.ts'
import { NO_MENTIONS } from './render.ts'
import { unverified } from './verify.ts'

/** Where Discord POSTs interactions (the Interactions Endpoint URL's path). */
export const INTERACTIONS_PATH = '/discord/interactions'
/** Discord's bodies are a few kilobytes; a body past this is not Discord's. */
const MAX_BODY_BYTES = 1 << 20
/**
 * Discord waits 3 s for the answer to its POST. Listeners answer through the callback endpoint
 * (which orders the response before every later webhook call); the POST then gets 202 and no body,
 * as Discord's docs say. A listener that has not answered by now gets no more time.
 */
const ANSWER_WITHIN_MS = 2_900

/**
 * The Interactions Endpoint: every request is verified (Ed25519 over timestamp + raw body, and a
 * replay window) before anything is read, and refused with 401 otherwise, as Discord's routine
 * checks expect; PING is answered PONG; every other interaction goes to the same listeners as the
 * gateway's. Nothing is kept between requests: any receiver behind a load balancer can take any one.
 */
export function interactionsEndpoint(ctx: Context, key: KeyObject, rest: REST) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path !== INTERACTIONS_PATH) return send(res, 404, { message: 'not found' })
    if (req.method !== 'POST') return send(res, 405, { message: 'POST only' }, { allow: 'POST' })
    const raw = await readRaw(req)
    if (raw === undefined) return send(res, 413, { message: 'body too large' })
    const why = unverified(
      key,
      { signature: header(req, 'x-signature-ed25519'), timestamp: header(req, 'x-signature-timestamp') },
      raw,
    )
    if (why !== undefined) {
      ctx.log.warn({ event: 'discord.http_unverified', why }, 'discord.http_unverified')
      return send(res, 401, { message: 'invalid request signature' })
    }
    let body: unknown
    try {
      body = JSON.parse(raw.toString('utf8'))
    } catch {
      return send(res, 400, { message: 'the body is not JSON' })
    }
    const type = (body as { type?: unknown } | null)?.type
    if (type === 1) return send(res, 200, { type: 1 })
    const incoming = fromPayload(body, rest)
    if ('problem' in incoming) {
      const { id } = (body ?? {}) as { id?: unknown }
      ctx.log.warn({ id, type, problem: incoming.problem }, 'discord.interaction_malformed')
      // Answered inline: Discord shows it to the user only.
      return send(res, 200, {
        type: 4,
        data: { content: INCOMPLETE_TEXT, flags: EPHEMERAL, allowed_mentions: NO_MENTIONS },
      })
    }
    route(ctx, incoming)
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      incoming.acknowledged,
      new Promise((resolve) => {
        timer = setTimeout(resolve, ANSWER_WITHIN_MS)
      }),
    ])
    clearTimeout(timer)
    res.writeHead(202).end()
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** The exact bytes of the body (the signature covers them), or undefined past MAX_BODY_BYTES. */
async function readRaw(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) return undefined
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload))
}
