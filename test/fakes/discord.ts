/**
 * A fake Discord on 127.0.0.1 for the real discord.js: REST (`/gateway/bot`, interaction callbacks,
 * webhook edits and follow-ups, command registration, rate-limit headers and injectable 429s) and a
 * gateway WebSocket (HELLO, IDENTIFY → READY, heartbeats, INTERACTION_CREATE, also with fields
 * removed or overridden as Discord has shipped them). It enforces the
 * 3-second first-response rule (10062), one response per interaction (40060), the 15-minute token
 * (50027) and the message limits (50035), and records every request with its time.
 */
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type WebSocket, WebSocketServer } from 'ws'
import { listen, readBody } from './http.ts'

export const TOKEN = 'fake-bot-token.abc.def'
export const APP_ID = '111111111111111111'
export const GUILD_ID = '222222222222222222'
export const CHANNEL_ID = '333333333333333333'
/** Discord's bucket for one interaction webhook: 5 requests per 2 s. */
const WEBHOOK_LIMIT = 5
const WEBHOOK_WINDOW_MS = 2_000

export interface RestCall {
  method: string
  path: string
  body: unknown
  status: number
  at: number
  authorization: string | undefined
}

interface Interaction {
  id: string
  /** The interaction type as dispatched: 2 command, 3 component, 4 autocomplete, 5 modal submit. */
  type: number
  token: string
  /** The modal it was answered with (callback type 9), until submitted. */
  modal?: Record<string, unknown> | undefined
  /** For a click: the clicked message, which a modal submit from it carries too. */
  messageOf?: Record<string, unknown>
  dispatchedAt: number
  /** Date.now() when created; moved back to simulate the 15-minute token expiring. */
  createdAt: number
  ack: { type: number; at: number } | undefined
  messages: Array<{ id: string; body: Record<string, unknown> }>
}

export interface FakeDiscord {
  /** REST base for `rest.api` / DISCORD_API_URL. */
  api: string
  calls: RestCall[]
  /** Command registrations: route and body. */
  registrations: Array<{ path: string; body: unknown }>
  /** Resolves once a client has identified and been sent READY. */
  ready(): Promise<void>
  /**
   * Dispatches a slash command; returns the interaction id and token. `mintedAgoMs` dates the
   * interaction back: its snowflake and its token's 15 minutes both start that long before the dispatch.
   */
  command(
    name: string,
    options: Array<{ name: string; type: number; value: unknown }>,
    user?: string,
    opts?: { mintedAgoMs?: number },
  ): { id: string; token: string }
  /**
   * Dispatches an INTERACTION_CREATE for `/brainstorm topic:lunch` after `mutate` has removed or
   * overridden fields of its `d` (`delete d.entitlements`); returns the id and token it was built with.
   */
  rawInteraction(mutate: (d: Record<string, unknown>) => void): { id: string; token: string }
  /** Dispatches an autocomplete interaction for `name`, with `focused` the option being typed. */
  autocomplete(
    name: string,
    focused: { name: string; type: number; value: string },
  ): { id: string; token: string }
  /** Dispatches a click on a button of a message. */
  click(customId: string, messageId: string, user?: string): { id: string; token: string }
  /**
   * Submits the modal the interaction `clickToken` answered with (type 9), as a MODAL_SUBMIT from the
   * clicked message; `values` maps each text input's custom_id to the typed text.
   */
  submitModal(
    clickToken: string,
    values: Record<string, string>,
    user?: string,
  ): { id: string; token: string }
  /** Every call for one interaction (callback and webhook), in order. */
  callsFor(token: string): RestCall[]
  /** The id of the interaction's original message. */
  originalId(token: string): string | undefined
  /** The interaction's original message as last edited. */
  original(token: string): Record<string, unknown> | undefined
  /** The next `count` webhook edits answer 429 with this Retry-After (seconds). */
  rateLimitEdits(retryAfterSec: number, count?: number): void
  /** Ages every interaction token by `ms` (to reach the 15-minute limit without waiting). */
  age(ms: number): void
  /** Milliseconds since the fake started: the clock of every call's `at`. */
  now(): number
  /** Webhook requests answered 429 because their route bucket was spent (not the injected ones). */
  routeLimited(): number
  close(): Promise<void>
}

export async function startFakeDiscord(): Promise<FakeDiscord> {
  const calls: RestCall[] = []
  const registrations: FakeDiscord['registrations'] = []
  const interactions = new Map<string, Interaction>()
  const byToken = new Map<string, Interaction>()
  let socket: WebSocket | undefined
  let seq = 0
  const readyWaiters: Array<() => void> = []
  let isReady = false
  let limited = { retryAfter: 0, count: 0 }
  /** Interaction token → times of its webhook's recent requests (its route bucket). */
  const buckets = new Map<string, number[]>()
  let routeLimited = 0
  // Real snowflakes carry their creation time (ms since 2015-01-01 in the top bits); discord.js reads it.
  let increment = 0n
  const nextId = (at = Date.now()) =>
    String(((BigInt(at) - 1_420_070_400_000n) << 22n) | (increment++ & 4095n))
  const t0 = performance.now()

  const server = createServer(async (req, res) => {
    const raw = await readBody(req)
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    // discord-api-types URL-encodes path segments: @original arrives as %40original.
    const path = decodeURIComponent(url.pathname).replace(/^\/api\/v10/, '')
    const body = raw === '' ? undefined : (JSON.parse(raw) as unknown)
    const call: RestCall = {
      method: req.method ?? '',
      path,
      body,
      status: 0,
      at: performance.now() - t0,
      authorization: req.headers.authorization,
    }
    calls.push(call)
    const reply = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      call.status = status
      if (payload === undefined) {
        // A 204 carries no body and no JSON content type (discord.js would try to parse it).
        res.writeHead(status, headers)
        res.end()
      } else {
        res.writeHead(status, { 'content-type': 'application/json', ...headers })
        res.end(JSON.stringify(payload))
      }
    }
    const error = (status: number, code: number, message: string) => reply(status, { message, code })
    const authed = req.headers.authorization === `Bot ${TOKEN}`

    if (req.method === 'GET' && path === '/gateway/bot') {
      if (!authed) return error(401, 0, '401: Unauthorized')
      const { port } = server.address() as AddressInfo
      return reply(200, {
        url: `ws://127.0.0.1:${port}`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 1000, reset_after: 14_400_000, max_concurrency: 1 },
      })
    }
    let m = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path)
    if (m !== null && req.method === 'PUT') {
      if (!authed) return error(401, 0, '401: Unauthorized')
      registrations.push({ path, body })
      return reply(
        200,
        (body as Array<Record<string, unknown>>).map((c) => ({
          id: nextId(),
          application_id: m?.[1],
          version: '1',
          ...c,
        })),
      )
    }
    m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path)
    if (m !== null && req.method === 'POST') {
      const interaction = interactions.get(m[1] as string)
      if (interaction === undefined || interaction.token !== m[2])
        return error(404, 10062, 'Unknown interaction')
      if (interaction.ack !== undefined)
        return error(400, 40060, 'Interaction has already been acknowledged.')
      // Discord: the first response must come within 3 seconds of the dispatch.
      if (performance.now() - interaction.dispatchedAt > 3_000)
        return error(404, 10062, 'Unknown interaction')
      const cb = body as { type: number; data?: Record<string, unknown> }
      // Discord: an autocomplete interaction takes only a choices result (8), and only it takes one.
      if ((interaction.type === 4) !== (cb.type === 8))
        return error(
          400,
          50035,
          `Invalid interaction response type ${cb.type} for interaction type ${interaction.type}`,
        )
      if (cb.type === 8) {
        const choices = (cb.data as { choices?: unknown[] } | undefined)?.choices
        if (!Array.isArray(choices) || choices.length > 25)
          return error(400, 50035, 'data.choices: must be a list of at most 25 choices')
      }
      if (cb.type === 9) {
        // Discord: a modal answers a command or a component, never a modal submit, and must be well formed.
        const invalid =
          interaction.type === 5 ? 'Interaction callback type invalid' : invalidModal(cb.data ?? {})
        if (invalid !== undefined) return error(400, 50035, invalid)
        interaction.modal = cb.data
      }
      interaction.ack = { type: cb.type, at: performance.now() - t0 }
      if (cb.type === 4 || cb.type === 7) {
        const invalid = validate(cb.data ?? {})
        if (invalid !== undefined) return error(400, 50035, invalid)
        interaction.messages.unshift({ id: nextId(), body: cb.data ?? {} })
      }
      return reply(204)
    }
    m = /^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/(@original|\d+))?$/.exec(path)
    if (m !== null) {
      const interaction = byToken.get(m[2] as string)
      if (interaction === undefined || m[1] !== APP_ID) return error(404, 10015, 'Unknown Webhook')
      if (Date.now() - interaction.createdAt > 15 * 60_000) return error(401, 50027, 'Invalid Webhook Token')
      if (interaction.ack === undefined) return error(404, 10015, 'Unknown Webhook')
      // Discord: each interaction webhook is its own route bucket, 5 requests per 2 s (GETs aside);
      // interaction webhooks are not under the bot's global limit.
      const now = performance.now()
      const bucket = (buckets.get(m[2] as string) ?? []).filter((t) => t > now - WEBHOOK_WINDOW_MS)
      buckets.set(m[2] as string, bucket)
      const resetAfter =
        bucket.length === 0 ? WEBHOOK_WINDOW_MS : (bucket[0] as number) + WEBHOOK_WINDOW_MS - now
      const headers = {
        'x-ratelimit-limit': String(WEBHOOK_LIMIT),
        'x-ratelimit-remaining': String(Math.max(0, WEBHOOK_LIMIT - bucket.length - 1)),
        'x-ratelimit-reset-after': (resetAfter / 1000).toFixed(3),
        'x-ratelimit-bucket': `webhook-${(m[2] as string).slice(0, 8)}`,
      }
      if (req.method !== 'GET' && bucket.length >= WEBHOOK_LIMIT) {
        routeLimited++
        const retryAfter = resetAfter / 1000
        return reply(
          429,
          { message: 'You are being rate limited.', retry_after: retryAfter, global: false },
          {
            ...headers,
            'x-ratelimit-remaining': '0',
            'retry-after': String(Math.ceil(retryAfter)),
            'x-ratelimit-scope': 'user',
          },
        )
      }
      if (req.method !== 'GET') bucket.push(now)
      if (limited.count > 0 && req.method !== 'GET') {
        limited.count--
        return reply(
          429,
          { message: 'You are being rate limited.', retry_after: limited.retryAfter, global: false },
          {
            ...headers,
            'x-ratelimit-remaining': '0',
            'retry-after': String(limited.retryAfter),
            'x-ratelimit-reset-after': String(limited.retryAfter),
            'x-ratelimit-scope': 'user',
          },
        )
      }
      const data = (body ?? {}) as Record<string, unknown>
      if (req.method === 'PATCH' && m[3] === '@original') {
        const invalid = validate(data)
        if (invalid !== undefined) return error(400, 50035, invalid)
        const original = interaction.messages[0] ?? { id: nextId(), body: {} }
        if (interaction.messages.length === 0) interaction.messages.push(original)
        original.body = { ...original.body, ...data }
        return reply(200, message(original.id, original.body), headers)
      }
      if (req.method === 'POST' && m[3] === undefined) {
        const invalid = validate(data)
        if (invalid !== undefined) return error(400, 50035, invalid)
        const msg = { id: nextId(), body: data }
        interaction.messages.push(msg)
        return reply(200, message(msg.id, data), headers)
      }
      if (req.method === 'GET' && m[3] === '@original') {
        const original = interaction.messages[0]
        return original === undefined
          ? error(404, 10008, 'Unknown Message')
          : reply(200, message(original.id, original.body))
      }
    }
    error(404, 0, `404: Not Found (${req.method} ${path})`)
  })

  const wss = new WebSocketServer({ server })
  wss.on('connection', (ws) => {
    socket = ws
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 41_250 }, s: null, t: null }))
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { op: number; d: Record<string, unknown> }
      if (frame.op === 1) ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }))
      if (frame.op === 2) {
        if (frame.d.token !== TOKEN) return ws.close(4004, 'Authentication failed.')
        dispatch('READY', {
          v: 10,
          user: {
            id: '555555555555555555',
            username: 'chorus',
            discriminator: '0',
            bot: true,
            global_name: null,
            avatar: null,
          },
          guilds: [],
          session_id: 'fake-session',
          resume_gateway_url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
          application: { id: APP_ID, flags: 0 },
        })
        isReady = true
        for (const fn of readyWaiters.splice(0)) fn()
      }
    })
  })

  function dispatch(t: string, d: unknown): void {
    socket?.send(JSON.stringify({ op: 0, t, s: ++seq, d }))
  }

  function user(name: string) {
    return {
      id: String(444_444_444_444_444_000n + BigInt(name.length)),
      username: name,
      discriminator: '0',
      global_name: name,
      avatar: null,
    }
  }

  function create(
    type: number,
    data: Record<string, unknown>,
    name: string,
    extra: Record<string, unknown> = {},
    mutate: (d: Record<string, unknown>) => void = () => {},
    mintedAgoMs = 0,
  ): { id: string; token: string } {
    const createdAt = Date.now() - mintedAgoMs
    const id = nextId(createdAt)
    const token = randomBytes(24).toString('base64url')
    const interaction: Interaction = {
      id,
      type,
      token,
      dispatchedAt: performance.now(),
      createdAt,
      ack: undefined,
      messages: [],
    }
    interactions.set(id, interaction)
    byToken.set(token, interaction)
    const d: Record<string, unknown> = {
      id,
      application_id: APP_ID,
      type,
      data,
      guild_id: GUILD_ID,
      channel: { id: CHANNEL_ID, type: 0, guild_id: GUILD_ID },
      channel_id: CHANNEL_ID,
      member: {
        user: user(name),
        roles: [],
        permissions: '0',
        joined_at: '2026-01-01T00:00:00.000Z',
        deaf: false,
        mute: false,
        flags: 0,
      },
      token,
      version: 1,
      app_permissions: '0',
      locale: 'en-US',
      guild_locale: 'en-US',
      // discord.js 14.28 throws inside the socket handler without these two.
      entitlements: [],
      authorizing_integration_owners: { '0': GUILD_ID },
      context: 0,
      attachment_size_limit: 10_485_760,
      ...extra,
    }
    mutate(d)
    interaction.type = d.type as number
    dispatch('INTERACTION_CREATE', d)
    return { id, token }
  }

  function message(id: string, body: Record<string, unknown>) {
    return {
      id,
      channel_id: CHANNEL_ID,
      type: 20,
      content: body.content ?? '',
      embeds: body.embeds ?? [],
      components: body.components ?? [],
      attachments: [],
      mentions: [],
      mention_roles: [],
      mention_everyone: false,
      pinned: false,
      tts: false,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      flags: body.flags ?? 0,
      author: {
        id: '555555555555555555',
        username: 'chorus',
        discriminator: '0',
        bot: true,
        avatar: null,
        global_name: null,
      },
      webhook_id: APP_ID,
      application_id: APP_ID,
    }
  }

  const { port, close: closeServer } = await listen(server)

  return {
    api: `http://127.0.0.1:${port}/api`,
    calls,
    now: () => performance.now() - t0,
    registrations,
    ready: () => (isReady ? Promise.resolve() : new Promise((resolve) => readyWaiters.push(resolve))),
    command(name, options, who = 'alice', opts = {}) {
      const data = { id: '900000000000000000', name, type: 1, options }
      return create(2, data, who, {}, undefined, opts.mintedAgoMs)
    },
    autocomplete(name, focused) {
      return create(
        4,
        { id: '900000000000000000', name, type: 1, options: [{ ...focused, focused: true }] },
        'alice',
      )
    },
    rawInteraction(mutate) {
      const options = [{ name: 'topic', type: 3, value: 'lunch' }]
      return create(
        2,
        { id: '900000000000000000', name: 'brainstorm', type: 1, options },
        'alice',
        {},
        mutate,
      )
    },
    submitModal(clickToken, values, who = 'bob') {
      const clicked = byToken.get(clickToken)
      const modal = clicked?.modal as { custom_id: string } | undefined
      if (clicked === undefined || modal === undefined)
        throw new Error('no modal was opened for that interaction')
      clicked.modal = undefined
      const components = Object.entries(values).map(([custom_id, value]) => ({
        type: 1,
        components: [{ type: 4, custom_id, value }],
      }))
      return create(5, { custom_id: modal.custom_id, components }, who, clicked.messageOf)
    },
    click(customId, messageId, who = 'bob') {
      const original = [...interactions.values()]
        .flatMap((i) => i.messages)
        .find((msg) => msg.id === messageId)
      const extra = { message: message(messageId, original?.body ?? {}) }
      const made = create(3, { custom_id: customId, component_type: 2 }, who, extra)
      const clicked = byToken.get(made.token)
      if (clicked !== undefined) clicked.messageOf = extra
      return made
    },
    callsFor(token) {
      return calls.filter((c) => c.path.includes(token))
    },
    originalId(token) {
      return byToken.get(token)?.messages[0]?.id
    },
    original(token) {
      return byToken.get(token)?.messages[0]?.body
    },
    rateLimitEdits(retryAfterSec, count = 1) {
      limited = { retryAfter: retryAfterSec, count }
    },
    routeLimited: () => routeLimited,
    age(ms) {
      for (const i of interactions.values()) i.createdAt -= ms
    },
    close: () => {
      for (const c of wss.clients) c.terminate()
      wss.close()
      return closeServer()
    },
  }
}

/**
 * Discord's modal rules: custom_id 1–100, title 1–45, 1–5 action rows of one text input each
 * (custom_id, label ≤ 45, style 1 or 2).
 */
function invalidModal(data: Record<string, unknown>): string | undefined {
  const id = String(data.custom_id ?? '')
  const title = String(data.title ?? '')
  if (id.length === 0 || id.length > 100) return 'Invalid Form Body: data.custom_id'
  if (title.length === 0 || title.length > 45) return 'Invalid Form Body: data.title'
  const rows = (data.components as Array<{ type?: number; components?: unknown[] }> | undefined) ?? []
  if (rows.length === 0 || rows.length > 5) return 'Invalid Form Body: data.components'
  for (const row of rows) {
    const inputs = (row.components ?? []) as Array<Record<string, unknown>>
    if (row.type !== 1 || inputs.length !== 1) return 'Invalid Form Body: data.components.components'
    const input = inputs[0] as Record<string, unknown>
    if (input.type !== 4 || typeof input.custom_id !== 'string' || ![1, 2].includes(input.style as number))
      return 'Invalid Form Body: text input'
    if (String(input.label ?? '').length === 0 || String(input.label).length > 45)
      return 'Invalid Form Body: text input label'
  }
  return undefined
}

/**
 * Discord's message limits: content 2,000; 10 embeds; title 256; description 4,096; ≤ 25 fields of
 * name 256 and value 1,024; footer 2,048; 6,000 in all (title, description, fields, footer); not empty.
 */
function validate(data: Record<string, unknown>): string | undefined {
  const content = typeof data.content === 'string' ? data.content : ''
  const embeds = (data.embeds as Array<Record<string, unknown>> | undefined) ?? []
  if (content.length > 2_000) return 'Invalid Form Body: content BASE_TYPE_MAX_LENGTH'
  if (embeds.length > 10) return 'Invalid Form Body: embeds BASE_TYPE_MAX_LENGTH'
  let total = 0
  for (const e of embeds) {
    const description = typeof e.description === 'string' ? e.description : ''
    if (description.length > 4_096) return 'Invalid Form Body: embeds.description BASE_TYPE_MAX_LENGTH'
    if (typeof e.title === 'string' && e.title.length > 256)
      return 'Invalid Form Body: embeds.title BASE_TYPE_MAX_LENGTH'
    if (((e.footer as { text?: string })?.text?.length ?? 0) > 2_048)
      return 'Invalid Form Body: embeds.footer.text BASE_TYPE_MAX_LENGTH'
    const fields = (e.fields as Array<{ name?: string; value?: string }> | undefined) ?? []
    if (fields.length > 25) return 'Invalid Form Body: embeds.fields BASE_TYPE_MAX_LENGTH'
    for (const f of fields) {
      if ((f.name?.length ?? 0) > 256 || (f.name?.length ?? 0) === 0)
        return 'Invalid Form Body: embeds.fields.name BASE_TYPE_MAX_LENGTH'
      if ((f.value?.length ?? 0) > 1_024 || (f.value?.length ?? 0) === 0)
        return 'Invalid Form Body: embeds.fields.value BASE_TYPE_MAX_LENGTH'
      total += (f.name?.length ?? 0) + (f.value?.length ?? 0)
    }
    total +=
      description.length +
      (typeof e.title === 'string' ? e.title.length : 0) +
      ((e.footer as { text?: string })?.text?.length ?? 0)
  }
  if (total > 6_000) return 'Invalid Form Body: embeds total over 6000'
  return undefined
}
