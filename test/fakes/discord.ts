/**
 * A fake Discord on 127.0.0.1 for the real discord.js: REST (`/gateway/bot`, interaction callbacks,
 * webhook edits and follow-ups, the bot's channel messages, command registration, rate-limit headers
 * and injectable 429s) and a gateway WebSocket (HELLO, IDENTIFY → READY, heartbeats,
 * INTERACTION_CREATE: commands, autocomplete, button clicks, select picks and modal submits, also with
 * fields removed or overridden as Discord has shipped them). It is as strict as Discord: the
 * 3-second first-response rule (10062), one response per interaction (40060), which response types
 * each interaction takes, the token's 15 minutes (50027; shorter when a test says so), channel
 * messages only with the bot's token and only where the bot has access (50001/50013), the message
 * limits and the component rules (50035), modals (≤ 5 text inputs, labels ≤ 45); and the Discord
 * client's own checks when it sends a select or a modal. Every request is recorded with its time;
 * messages are kept in one store, so an edit through any route shows on the same message.
 *
 * With `deliverTo(url)`, interactions go to an Interactions Endpoint URL instead of the gateway: signed
 * with the app's real Ed25519 key (`publicKey`), answered inline (200 and a response) or by the
 * callback then 202, and every few deliveries preceded by a copy with a broken signature that must
 * get 401, as Discord's own checks (see `discord-http.ts`).
 */
import { createHash, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type WebSocket, WebSocketServer } from 'ws'
import { brokenHeaders, type Delivery, newSigner, post, type Signer, signedHeaders } from './discord-http.ts'
import { listen, readBody } from './http.ts'

export const TOKEN = 'fake-bot-token.abc.def'
export const APP_ID = '111111111111111111'
export const GUILD_ID = '222222222222222222'
export const CHANNEL_ID = '333333333333333333'
/** The bot user (author of every message the app makes). */
export const BOT_USER_ID = '555555555555555555'
/** Discord: an interaction token lives 15 minutes. */
export const TOKEN_LIFETIME_MS = 15 * 60_000
/** Discord's bucket for one interaction webhook: 5 requests per 2 s. */
const WEBHOOK_LIMIT = 5
const WEBHOOK_WINDOW_MS = 2_000
const EPHEMERAL = 64

/** The user id the fake gives a user name (stable: the same name is the same user in every fake). */
export function userIdOf(name: string): string {
  const n = BigInt(`0x${createHash('sha256').update(name).digest('hex').slice(0, 12)}`) % 10n ** 14n
  return `4444${n.toString().padStart(14, '0')}`
}

export interface RestCall {
  method: string
  path: string
  body: unknown
  status: number
  at: number
  authorization: string | undefined
}

/** A message as the fake keeps it: wherever it was made, edits from any route land on it. */
export interface FakeMessage {
  id: string
  channelId: string
  /** The message's fields as last set (content, embeds, components, …). */
  body: Record<string, unknown>
  ephemeral: boolean
  /** The interaction token whose webhook made it; undefined for a bot's channel message. */
  token: string | undefined
}

interface Interaction {
  id: string
  /** The interaction type as dispatched: 2 command, 3 component, 4 autocomplete, 5 modal submit. */
  type: number
  token: string
  channelId: string
  /** The modal it was answered with (callback type 9), until submitted. */
  modal?: Record<string, unknown> | undefined
  /** The message a component was on (a modal submitted from one carries it too). */
  messageId?: string
  dispatchedAt: number
  /** Date.now() when created; moved back to simulate the token expiring. */
  createdAt: number
  ack: { type: number; at: number } | undefined
  /** The interaction's `@original`: its response's message, or the message its component is on. */
  originalId: string | undefined
  /** Messages made by its webhook (follow-ups). */
  followUps: string[]
}

export interface FakeDiscordOptions {
  /** How long an interaction token lives (Discord: 15 minutes); tests shorten it rather than wait. */
  tokenLifetimeMs?: number
  /** Over HTTP: every this many interactions, a copy with a broken signature goes first (default 3; 0 never). */
  securityCheckEvery?: number
}

/** A delivery to the Interactions Endpoint URL, with what was wrong about its answer, if anything. */
export type HttpDelivery = Delivery & { problem: string | undefined }

export interface FakeDiscord {
  /** REST base for `rest.api` / DISCORD_API_URL. */
  api: string
  calls: RestCall[]
  /** Command registrations: route and body. */
  registrations: Array<{ path: string; body: unknown }>
  /** Resolves once a client has identified and been sent READY. */
  ready(): Promise<void>
  /** The app's Ed25519 public key, hex (DISCORD_PUBLIC_KEY); `signer` signs as Discord does. */
  publicKey: string
  signer: Signer
  /** From now on, interactions are POSTed to `url` (an Interactions Endpoint URL), not the gateway. */
  deliverTo(url: string): void
  /** Every POST to the endpoint, in the order answered. */
  deliveries: HttpDelivery[]
  /** Resolves with the delivery of the interaction `id` once the endpoint answered it. */
  delivery(id: string): Promise<HttpDelivery>
  /** Sends Discord's PING to the endpoint (as when the URL is saved in the Developer Portal). */
  ping(): Promise<HttpDelivery>
  /** POSTs `body` to the endpoint with exactly `headers` (a test's own signature or timestamp). */
  postRaw(body: string, headers: Record<string, string>): Promise<HttpDelivery>
  /**
   * Dispatches a slash command; returns the interaction id and token. `mintedAgoMs` dates the
   * interaction back: its snowflake and its token's lifetime both start that long before the dispatch.
   */
  command(
    name: string,
    options: Array<{ name: string; type: number; value: unknown }>,
    user?: string,
    opts?: { mintedAgoMs?: number; channelId?: string },
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
  /**
   * Dispatches a click on a button of a message, as `user`. The button need not be on the message
   * any more: a client that had not yet seen an edit can still send it.
   */
  click(customId: string, messageId: string, user?: string): { id: string; token: string }
  /**
   * Dispatches a pick in a string select of a message, as `user`. Like the Discord client, it throws
   * unless the select is on the message and `values` are among its options, within its min and max.
   */
  select(customId: string, messageId: string, values: string[], user?: string): { id: string; token: string }
  /**
   * Submits the modal the interaction `clickToken` answered with (type 9), as a MODAL_SUBMIT (from the
   * clicked message, when a component opened it); `values` maps each text input's custom_id to the
   * typed text. Like the Discord client, it throws for an unknown input, an empty required one, or
   * a length outside the input's min and max.
   */
  submitModal(
    clickToken: string,
    values: Record<string, string>,
    user?: string,
  ): { id: string; token: string }
  /** Every call for one interaction (callback and webhook), in order. */
  callsFor(token: string): RestCall[]
  /** Every call on the bot's channel message routes, in order. */
  channelCalls(): RestCall[]
  /** The id of the interaction's original message. */
  originalId(token: string): string | undefined
  /** The interaction's original message as last edited. */
  original(token: string): Record<string, unknown> | undefined
  /** A message by id, as last edited. */
  message(id: string): FakeMessage | undefined
  /** The messages made by an interaction's webhook after its response (follow-ups), in order. */
  followUps(token: string): FakeMessage[]
  /** The bot's own (non-interaction) messages in a channel, in order. */
  channelMessages(channelId?: string): FakeMessage[]
  /** What only the user of an interaction saw: its ephemeral response and follow-ups, in order. */
  ephemerals(token: string): string[]
  /** The bot may not see (50001, the default) or post in (50013) `channelId`. */
  denyChannel(channelId: string, code?: 50001 | 50013): void
  /** Gives the bot its access to `channelId` back. */
  allowChannel(channelId: string): void
  /** The next `count` webhook edits answer 429 with this Retry-After (seconds). */
  rateLimitEdits(retryAfterSec: number, count?: number): void
  /** Ages every interaction token by `ms` (to reach the token's end without waiting). */
  age(ms: number): void
  /** Milliseconds since the fake started: the clock of every call's `at`. */
  now(): number
  /** Webhook requests answered 429 because their route bucket was spent (not the injected ones). */
  routeLimited(): number
  close(): Promise<void>
}

export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const lifetimeMs = options.tokenLifetimeMs ?? TOKEN_LIFETIME_MS
  const signer = newSigner()
  const checkEvery = options.securityCheckEvery ?? 3
  let endpoint: string | undefined
  const deliveries: HttpDelivery[] = []
  const deliveryWaiters = new Map<string, Array<(d: HttpDelivery) => void>>()
  let sent = 0
  const calls: RestCall[] = []
  const registrations: FakeDiscord['registrations'] = []
  const interactions = new Map<string, Interaction>()
  const byToken = new Map<string, Interaction>()
  const messages = new Map<string, FakeMessage>()
  /** Channels the bot cannot use, with the code Discord answers. */
  const denied = new Map<string, 50001 | 50013>()
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

  type Reply = (status: number, payload?: unknown, headers?: Record<string, string>) => void
  interface Request {
    method: string
    path: string
    body: unknown
    authed: boolean
    reply: Reply
    error(status: number, code: number, message: string): void
  }

  /** Makes a message; `token` when an interaction's webhook made it. */
  function store(
    channelId: string,
    body: Record<string, unknown>,
    token: string | undefined,
    flags: unknown,
  ): FakeMessage {
    const msg: FakeMessage = {
      id: nextId(),
      channelId,
      body: withoutRequestFields(body),
      ephemeral: ((Number(flags) || 0) & EPHEMERAL) !== 0,
      token,
    }
    messages.set(msg.id, msg)
    return msg
  }

  function edit(msg: FakeMessage, body: Record<string, unknown>): void {
    msg.body = { ...msg.body, ...withoutRequestFields(body) }
  }

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
    const reply: Reply = (status, payload, headers = {}) => {
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
    const request: Request = {
      method: req.method ?? '',
      path,
      body,
      authed: req.headers.authorization === `Bot ${TOKEN}`,
      reply,
      error: (status, code, message) => reply(status, { message, code }),
    }
    if (gatewayRoutes(request) || callbackRoute(request) || webhookRoutes(request) || channelRoutes(request))
      return
    request.error(404, 0, `404: Not Found (${req.method} ${path})`)
  })

  /** `/gateway/bot` and command registration: bot routes outside messages. */
  function gatewayRoutes({ method, path, body, authed, reply, error }: Request): boolean {
    if (method === 'GET' && path === '/gateway/bot') {
      if (!authed) error(401, 0, '401: Unauthorized')
      else {
        const { port } = server.address() as AddressInfo
        reply(200, {
          url: `ws://127.0.0.1:${port}`,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 1000, reset_after: 14_400_000, max_concurrency: 1 },
        })
      }
      return true
    }
    const m = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path)
    if (m === null || method !== 'PUT') return false
    if (!authed) error(401, 0, '401: Unauthorized')
    else {
      registrations.push({ path, body })
      reply(
        200,
        (body as Array<Record<string, unknown>>).map((c) => ({
          id: nextId(),
          application_id: m[1],
          version: '1',
          ...c,
        })),
      )
    }
    return true
  }

  /** `POST /interactions/{id}/{token}/callback`: the one initial response, within 3 s, of a type the interaction takes. */
  function callbackRoute({ method, path, body, reply, error }: Request): boolean {
    const m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path)
    if (m === null || method !== 'POST') return false
    const interaction = interactions.get(m[1] as string)
    if (interaction === undefined || interaction.token !== m[2]) {
      error(404, 10062, 'Unknown interaction')
      return true
    }
    const refused = respond(interaction, body as { type: number; data?: Record<string, unknown> })
    if (refused === undefined) reply(204)
    else error(refused.status, refused.code, refused.message)
    return true
  }

  /** The interaction's one first response (by the callback route, or inline over HTTP); why not, if refused. */
  function respond(
    interaction: Interaction,
    cb: { type: number; data?: Record<string, unknown> },
  ): { status: number; code: number; message: string } | undefined {
    if (interaction.ack !== undefined)
      return { status: 400, code: 40060, message: 'Interaction has already been acknowledged.' }
    // Discord: the first response must come within 3 seconds of the dispatch.
    if (performance.now() - interaction.dispatchedAt > 3_000)
      return { status: 404, code: 10062, message: 'Unknown interaction' }
    const data = cb.data ?? {}
    const invalid = invalidCallback(interaction, cb.type, data)
    if (invalid !== undefined) return { status: 400, code: 50035, message: invalid }
    interaction.ack = { type: cb.type, at: performance.now() - t0 }
    if (cb.type === 9) interaction.modal = data
    if (cb.type === 4 || cb.type === 5)
      interaction.originalId = store(
        interaction.channelId,
        cb.type === 4 ? data : {},
        interaction.token,
        data.flags,
      ).id
    if (cb.type === 6 || cb.type === 7) interaction.originalId = interaction.messageId
    if (cb.type === 7) edit(messages.get(interaction.messageId as string) as FakeMessage, data)
    return undefined
  }

  /** Why a response of `type` is wrong for `interaction`, or undefined. */
  function invalidCallback(
    interaction: Interaction,
    type: number,
    data: Record<string, unknown>,
  ): string | undefined {
    const kind = interaction.type
    const onMessage = interaction.messageId !== undefined && messages.has(interaction.messageId)
    // Discord: autocomplete takes only choices (8); 6 and 7 answer a component or a modal sent from a
    // message; a modal (9) answers a command or a component, never a modal submit.
    const allowed: Record<number, boolean> = {
      4: kind !== 4,
      5: kind !== 4,
      6: (kind === 3 || kind === 5) && onMessage,
      7: (kind === 3 || kind === 5) && onMessage,
      8: kind === 4,
      9: kind === 2 || kind === 3,
    }
    if (allowed[type] !== true)
      return `Invalid interaction response type ${type} for interaction type ${kind}`
    if (type === 8) {
      const choices = (data as { choices?: unknown[] }).choices
      if (!Array.isArray(choices) || choices.length > 25)
        return 'data.choices: must be a list of at most 25 choices'
    }
    if (type === 9) return invalidModal(data)
    if (type === 4) return validate(data, true)
    if (type === 7) return validate(data, false)
    return undefined
  }

  /** Interaction webhooks: follow-ups, and the original and follow-ups read, edited and deleted. */
  function webhookRoutes({ method, path, body, reply, error }: Request): boolean {
    const m = /^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/(@original|\d+))?$/.exec(path)
    if (m === null) return false
    const token = m[2] as string
    const interaction = byToken.get(token)
    if (interaction === undefined || m[1] !== APP_ID) {
      error(404, 10015, 'Unknown Webhook')
      return true
    }
    if (Date.now() - interaction.createdAt > lifetimeMs) {
      error(401, 50027, 'Invalid Webhook Token')
      return true
    }
    if (interaction.ack === undefined) {
      error(404, 10015, 'Unknown Webhook')
      return true
    }
    // Discord: each interaction webhook is its own route bucket, 5 requests per 2 s (GETs aside);
    // interaction webhooks are not under the bot's global limit.
    const now = performance.now()
    const bucket = (buckets.get(token) ?? []).filter((t) => t > now - WEBHOOK_WINDOW_MS)
    buckets.set(token, bucket)
    const resetAfter =
      bucket.length === 0 ? WEBHOOK_WINDOW_MS : (bucket[0] as number) + WEBHOOK_WINDOW_MS - now
    const headers = {
      'x-ratelimit-limit': String(WEBHOOK_LIMIT),
      'x-ratelimit-remaining': String(Math.max(0, WEBHOOK_LIMIT - bucket.length - 1)),
      'x-ratelimit-reset-after': (resetAfter / 1000).toFixed(3),
      'x-ratelimit-bucket': `webhook-${token.slice(0, 8)}`,
    }
    if (method !== 'GET' && bucket.length >= WEBHOOK_LIMIT) {
      routeLimited++
      const retryAfter = resetAfter / 1000
      reply(
        429,
        { message: 'You are being rate limited.', retry_after: retryAfter, global: false },
        {
          ...headers,
          'x-ratelimit-remaining': '0',
          'retry-after': String(Math.ceil(retryAfter)),
          'x-ratelimit-scope': 'user',
        },
      )
      return true
    }
    if (method !== 'GET') bucket.push(now)
    if (limited.count > 0 && method !== 'GET') {
      limited.count--
      reply(
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
      return true
    }
    const data = (body ?? {}) as Record<string, unknown>
    if (method === 'POST' && m[3] === undefined) {
      const invalid = validate(data, true)
      if (invalid !== undefined) error(400, invalid.startsWith('Cannot') ? 50006 : 50035, invalid)
      else {
        const msg = store(interaction.channelId, data, token, data.flags)
        interaction.followUps.push(msg.id)
        reply(200, messageJson(msg), headers)
      }
      return true
    }
    // The original, or a follow-up of this webhook; anything else is not its message.
    const id = m[3] === '@original' ? interaction.originalId : m[3]
    const msg = id === undefined ? undefined : messages.get(id)
    const own = msg !== undefined && (id === interaction.originalId || interaction.followUps.includes(msg.id))
    if (msg === undefined || !own) {
      error(404, 10008, 'Unknown Message')
      return true
    }
    if (method === 'GET') reply(200, messageJson(msg))
    else if (method === 'DELETE') {
      messages.delete(msg.id)
      reply(204)
    } else if (method === 'PATCH') {
      const invalid = validate(data, false)
      if (invalid !== undefined) error(400, 50035, invalid)
      else {
        edit(msg, data)
        reply(200, messageJson(msg), headers)
      }
    } else error(405, 0, '405: Method Not Allowed')
    return true
  }

  /** The bot's channel messages: `POST /channels/{id}/messages`, `PATCH /channels/{id}/messages/{id}`. */
  function channelRoutes({ method, path, body, authed, reply, error }: Request): boolean {
    const m = /^\/channels\/(\d+)\/messages(?:\/(\d+))?$/.exec(path)
    if (m === null) return false
    const channelId = m[1] as string
    // Discord: channel routes take the bot's token, and only where the bot can see and post.
    if (!authed) {
      error(401, 0, '401: Unauthorized')
      return true
    }
    const code = denied.get(channelId)
    if (code !== undefined) {
      error(403, code, code === 50001 ? 'Missing Access' : 'Missing Permissions')
      return true
    }
    const data = (body ?? {}) as Record<string, unknown>
    if (method === 'POST' && m[2] === undefined) {
      if (((Number(data.flags) || 0) & EPHEMERAL) !== 0) {
        error(400, 50035, 'Invalid Form Body: flags (a channel message cannot be ephemeral)')
        return true
      }
      const invalid = validate(data, true)
      if (invalid !== undefined) error(400, invalid.startsWith('Cannot') ? 50006 : 50035, invalid)
      else reply(200, messageJson(store(channelId, data, undefined, 0)))
      return true
    }
    const msg = m[2] === undefined ? undefined : messages.get(m[2])
    // Ephemeral messages exist only for their user: the bot cannot reach them in the channel.
    if (msg === undefined || msg.channelId !== channelId || msg.ephemeral) {
      error(404, 10008, 'Unknown Message')
      return true
    }
    if (method === 'GET') reply(200, messageJson(msg))
    else if (method === 'PATCH') {
      const invalid = validate(data, false)
      if (invalid !== undefined) error(400, 50035, invalid)
      else {
        edit(msg, data)
        reply(200, messageJson(msg))
      }
    } else error(405, 0, '405: Method Not Allowed')
    return true
  }

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
            id: BOT_USER_ID,
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
    return { id: userIdOf(name), username: name, discriminator: '0', global_name: name, avatar: null }
  }

  function create(
    type: number,
    data: Record<string, unknown>,
    name: string,
    opts: {
      mutate?: (d: Record<string, unknown>) => void
      mintedAgoMs?: number
      channelId?: string
      messageId?: string
    } = {},
  ): { id: string; token: string } {
    const createdAt = Date.now() - (opts.mintedAgoMs ?? 0)
    const id = nextId(createdAt)
    const token = randomBytes(24).toString('base64url')
    const channelId = opts.channelId ?? CHANNEL_ID
    const clicked = opts.messageId === undefined ? undefined : messages.get(opts.messageId)
    const interaction: Interaction = {
      id,
      type,
      token,
      channelId,
      ...(opts.messageId === undefined ? {} : { messageId: opts.messageId }),
      dispatchedAt: performance.now(),
      createdAt,
      ack: undefined,
      originalId: undefined,
      followUps: [],
    }
    interactions.set(id, interaction)
    byToken.set(token, interaction)
    const d: Record<string, unknown> = {
      id,
      application_id: APP_ID,
      type,
      data,
      guild_id: GUILD_ID,
      channel: { id: channelId, type: 0, guild_id: GUILD_ID },
      channel_id: channelId,
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
      ...(clicked === undefined ? {} : { message: messageJson(clicked) }),
    }
    opts.mutate?.(d)
    interaction.type = d.type as number
    if (endpoint === undefined) dispatch('INTERACTION_CREATE', d)
    else void overHttp(endpoint, interaction, JSON.stringify(d))
    return { id, token }
  }

  /**
   * One interaction to the endpoint: now and then a copy with a broken signature first (it must get
   * 401), then the signed one, whose answer must be a response inline (200) or 202 after the callback.
   */
  async function overHttp(url: string, interaction: Interaction, body: string): Promise<void> {
    sent++
    if (checkEvery > 0 && sent % checkEvery === 0) {
      const check = await post(url, body, brokenHeaders(signer, body))
      const problem = check.status === 401 ? undefined : `a broken signature was answered ${check.status}`
      record({ ...check, id: interaction.id, type: interaction.type, kind: 'check', problem })
    }
    const answer = await post(url, body, signedHeaders(signer, body))
    record({
      ...answer,
      id: interaction.id,
      type: interaction.type,
      kind: 'interaction',
      problem: problemOf(interaction, answer),
    })
  }

  /** What is wrong with the endpoint's answer to `interaction`, after applying a response given inline. */
  function problemOf(
    interaction: Interaction,
    answer: { status: number; body: string; contentType: string | undefined },
  ) {
    if (answer.status === 202) {
      if (answer.body !== '') return 'a 202 with a body'
      return interaction.ack === undefined ? 'a 202 with no response through the callback' : undefined
    }
    if (answer.status !== 200) return `answered ${answer.status || 'nothing'}`
    if (!answer.contentType?.startsWith('application/json')) return 'a 200 without a JSON content type'
    const refused = respond(
      interaction,
      JSON.parse(answer.body) as { type: number; data?: Record<string, unknown> },
    )
    return refused === undefined ? undefined : `an inline response Discord refuses: ${refused.message}`
  }

  function record(delivery: HttpDelivery): HttpDelivery {
    deliveries.push(delivery)
    if (delivery.kind === 'interaction' && delivery.id !== undefined) {
      for (const fn of deliveryWaiters.get(delivery.id) ?? []) fn(delivery)
      deliveryWaiters.delete(delivery.id)
    }
    return delivery
  }

  function messageJson(msg: FakeMessage) {
    const { body } = msg
    return {
      id: msg.id,
      channel_id: msg.channelId,
      // 20: a response to a command; 0: a message the bot posted itself.
      type: msg.token === undefined ? 0 : 20,
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
      flags: msg.ephemeral ? EPHEMERAL : 0,
      author: {
        id: BOT_USER_ID,
        username: 'chorus',
        discriminator: '0',
        bot: true,
        avatar: null,
        global_name: null,
      },
      ...(msg.token === undefined ? {} : { webhook_id: APP_ID }),
      application_id: APP_ID,
    }
  }

  /** The component `customId` on message `messageId`, or undefined. */
  function componentOn(messageId: string, customId: string): Record<string, unknown> | undefined {
    const rows = (messages.get(messageId)?.body.components as Array<{ components?: unknown[] }>) ?? []
    return rows
      .flatMap((r) => (r.components ?? []) as Array<Record<string, unknown>>)
      .find((c) => c.custom_id === customId)
  }

  const { port, close: closeServer } = await listen(server)
  const interactionOf = (token: string) => byToken.get(token)

  return {
    api: `http://127.0.0.1:${port}/api`,
    calls,
    now: () => performance.now() - t0,
    registrations,
    ready: () => (isReady ? Promise.resolve() : new Promise((resolve) => readyWaiters.push(resolve))),
    publicKey: signer.publicKeyHex,
    signer,
    deliverTo(url) {
      endpoint = url
    },
    deliveries,
    delivery(id) {
      const done = deliveries.find((d) => d.kind === 'interaction' && d.id === id)
      if (done !== undefined) return Promise.resolve(done)
      return new Promise((resolve) => deliveryWaiters.set(id, [...(deliveryWaiters.get(id) ?? []), resolve]))
    },
    async ping() {
      if (endpoint === undefined) throw new Error('deliverTo(url) first')
      const body = JSON.stringify({
        id: nextId(),
        application_id: APP_ID,
        type: 1,
        token: randomBytes(24).toString('base64url'),
        version: 1,
        user: user('discord'),
      })
      const answer = await post(endpoint, body, signedHeaders(signer, body))
      const pong =
        answer.status === 200 &&
        answer.contentType?.startsWith('application/json') === true &&
        answer.body === '{"type":1}'
      return record({
        ...answer,
        id: undefined,
        type: 1,
        kind: 'raw',
        problem: pong ? undefined : `PING answered ${answer.status} ${answer.body}`,
      })
    },
    async postRaw(body, headers) {
      if (endpoint === undefined) throw new Error('deliverTo(url) first')
      const answer = await post(endpoint, body, headers)
      return record({ ...answer, id: undefined, type: 0, kind: 'raw', problem: undefined })
    },
    command(name, options, who = 'alice', opts = {}) {
      const data = { id: '900000000000000000', name, type: 1, options }
      return create(2, data, who, {
        ...(opts.mintedAgoMs === undefined ? {} : { mintedAgoMs: opts.mintedAgoMs }),
        ...(opts.channelId === undefined ? {} : { channelId: opts.channelId }),
      })
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
      return create(2, { id: '900000000000000000', name: 'brainstorm', type: 1, options }, 'alice', {
        mutate,
      })
    },
    click(customId, messageId, who = 'bob') {
      const msg = messages.get(messageId)
      if (msg === undefined) throw new Error(`no message ${messageId} to click on`)
      const found = componentOn(messageId, customId)
      if (found !== undefined && found.type !== 2) throw new Error(`${customId} is not a button`)
      return create(3, { custom_id: customId, component_type: 2 }, who, {
        channelId: msg.channelId,
        messageId,
      })
    },
    select(customId, messageId, values, who = 'bob') {
      const msg = messages.get(messageId)
      const menu = componentOn(messageId, customId)
      if (msg === undefined || menu?.type !== 3)
        throw new Error(`no select ${customId} on message ${messageId}`)
      const options = (menu.options as Array<{ value: string }>).map((o) => o.value)
      const min = (menu.min_values as number | undefined) ?? 1
      const max = (menu.max_values as number | undefined) ?? 1
      if (values.length < min || values.length > max || values.some((v) => !options.includes(v)))
        throw new Error(`the Discord client would not send ${JSON.stringify(values)} from ${customId}`)
      return create(3, { custom_id: customId, component_type: 3, values }, who, {
        channelId: msg.channelId,
        messageId,
      })
    },
    submitModal(clickToken, values, who = 'bob') {
      const clicked = byToken.get(clickToken)
      const modal = clicked?.modal as
        | { custom_id: string; components: Array<{ components: Array<Record<string, unknown>> }> }
        | undefined
      if (clicked === undefined || modal === undefined)
        throw new Error('no modal was opened for that interaction')
      const inputs = modal.components.map((r) => r.components[0] as Record<string, unknown>)
      const refused = refusedByClient(inputs, values)
      if (refused !== undefined) throw new Error(`the Discord client would not submit this: ${refused}`)
      clicked.modal = undefined
      const components = inputs.map((input) => ({
        type: 1,
        components: [{ type: 4, custom_id: input.custom_id, value: values[String(input.custom_id)] ?? '' }],
      }))
      return create(5, { custom_id: modal.custom_id, components }, who, {
        channelId: clicked.channelId,
        ...(clicked.messageId === undefined ? {} : { messageId: clicked.messageId }),
      })
    },
    callsFor(token) {
      return calls.filter((c) => c.path.includes(token))
    },
    channelCalls() {
      return calls.filter((c) => c.path.startsWith('/channels/'))
    },
    originalId(token) {
      return interactionOf(token)?.originalId
    },
    original(token) {
      const id = interactionOf(token)?.originalId
      return id === undefined ? undefined : messages.get(id)?.body
    },
    message: (id) => messages.get(id),
    followUps(token) {
      const ids = interactionOf(token)?.followUps ?? []
      return ids.map((id) => messages.get(id)).filter((m) => m !== undefined)
    },
    channelMessages(channelId = CHANNEL_ID) {
      return [...messages.values()].filter((m) => m.channelId === channelId && m.token === undefined)
    },
    ephemerals(token) {
      const interaction = interactionOf(token)
      if (interaction === undefined) return []
      const ids = [
        ...(interaction.ack?.type === 4 || interaction.ack?.type === 5 ? [interaction.originalId] : []),
        ...interaction.followUps,
      ]
      return ids
        .map((id) => (id === undefined ? undefined : messages.get(id)))
        .filter((m) => m?.ephemeral === true)
        .map((m) => String(m?.body.content ?? ''))
    },
    denyChannel(channelId, code = 50001) {
      denied.set(channelId, code)
    },
    allowChannel(channelId) {
      denied.delete(channelId)
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

/** Fields of a request that are instructions, not part of the message. */
function withoutRequestFields(body: Record<string, unknown>): Record<string, unknown> {
  const { allowed_mentions: _m, flags: _f, tts: _t, enforce_nonce: _n, message_reference: _r, ...rest } = body
  return rest
}

/** What the Discord client itself refuses to submit: unknown inputs, empty required ones, lengths out of range. */
function refusedByClient(
  inputs: Array<Record<string, unknown>>,
  values: Record<string, string>,
): string | undefined {
  const ids = inputs.map((i) => String(i.custom_id))
  const unknown = Object.keys(values).find((k) => !ids.includes(k))
  if (unknown !== undefined) return `the modal has no input ${unknown}`
  for (const input of inputs) {
    const value = values[String(input.custom_id)] ?? ''
    if (value === '') {
      if (input.required !== false) return `${String(input.label)} is required`
      continue
    }
    if (typeof input.min_length === 'number' && value.length < input.min_length)
      return `${String(input.label)} is shorter than ${input.min_length}`
    if (typeof input.max_length === 'number' && value.length > input.max_length)
      return `${String(input.label)} is longer than ${input.max_length}`
  }
  return undefined
}

/**
 * Discord's modal rules: custom_id 1–100, title 1–45, 1–5 action rows of one text input each
 * (custom_id 1–100, unique, label 1–45, style 1 or 2, lengths within 0–4,000).
 */
function invalidModal(data: Record<string, unknown>): string | undefined {
  const id = String(data.custom_id ?? '')
  const title = String(data.title ?? '')
  if (id.length === 0 || id.length > 100) return 'Invalid Form Body: data.custom_id'
  if (title.length === 0 || title.length > 45) return 'Invalid Form Body: data.title'
  const rows = (data.components as Array<{ type?: number; components?: unknown[] }> | undefined) ?? []
  if (rows.length === 0 || rows.length > 5) return 'Invalid Form Body: data.components'
  const ids = new Set<string>()
  for (const row of rows) {
    const inputs = (row.components ?? []) as Array<Record<string, unknown>>
    if (row.type !== 1 || inputs.length !== 1) return 'Invalid Form Body: data.components.components'
    const input = inputs[0] as Record<string, unknown>
    if (input.type !== 4 || typeof input.custom_id !== 'string' || ![1, 2].includes(input.style as number))
      return 'Invalid Form Body: text input'
    if (input.custom_id.length === 0 || input.custom_id.length > 100 || ids.has(input.custom_id))
      return 'Invalid Form Body: text input custom_id'
    ids.add(input.custom_id)
    if (String(input.label ?? '').length === 0 || String(input.label).length > 45)
      return 'Invalid Form Body: text input label'
    for (const key of ['min_length', 'max_length'] as const) {
      const n = input[key]
      if (n !== undefined && (typeof n !== 'number' || n < (key === 'min_length' ? 0 : 1) || n > 4_000))
        return `Invalid Form Body: text input ${key}`
    }
    if (typeof input.placeholder === 'string' && input.placeholder.length > 100)
      return 'Invalid Form Body: text input placeholder'
  }
  return undefined
}

/**
 * Discord's message limits: content 2,000; 10 embeds; title 256; description 4,096; ≤ 25 fields of
 * name 256 and value 1,024; footer 2,048; 6,000 in all (title, description, fields, footer); the
 * component rules; a new message (`creating`) not empty.
 */
function validate(data: Record<string, unknown>, creating: boolean): string | undefined {
  const content = typeof data.content === 'string' ? data.content : ''
  const embeds = (data.embeds as Array<Record<string, unknown>> | undefined) ?? []
  if (content.length > 2_000) return 'Invalid Form Body: content BASE_TYPE_MAX_LENGTH'
  if (embeds.length > 10) return 'Invalid Form Body: embeds BASE_TYPE_MAX_LENGTH'
  const components = invalidComponents(data.components)
  if (components !== undefined) return components
  if (creating && content.trim() === '' && embeds.length === 0) return 'Cannot send an empty message'
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

/**
 * Discord's component rules: ≤ 5 action rows; a row holds 1–5 buttons or one select; custom_id
 * 1–100 and unique in the message (link buttons take a url instead); button labels ≤ 80; a string
 * select has 1–25 options of label and value 1–100, description ≤ 100, placeholder ≤ 150.
 */
function invalidComponents(components: unknown): string | undefined {
  if (components === undefined) return undefined
  if (!Array.isArray(components) || components.length > 5)
    return 'Invalid Form Body: components (at most 5 action rows)'
  const ids = new Set<string>()
  for (const row of components as Array<{ type?: number; components?: unknown }>) {
    const items = row.components as Array<Record<string, unknown>> | undefined
    if (row.type !== 1 || !Array.isArray(items) || items.length === 0 || items.length > 5)
      return 'Invalid Form Body: components (an action row holds 1 to 5 components)'
    if (items.some((c) => c.type !== 2) && items.length !== 1)
      return 'Invalid Form Body: components (a select menu fills its row)'
    for (const c of items) {
      const bad = c.type === 2 ? invalidButton(c) : c.type === 3 ? invalidSelect(c) : 'unknown component type'
      if (bad !== undefined) return `Invalid Form Body: components (${bad})`
      if (typeof c.custom_id === 'string') {
        if (ids.has(c.custom_id)) return 'Invalid Form Body: components (custom_id must be unique)'
        ids.add(c.custom_id)
      }
    }
  }
  return undefined
}

function invalidButton(c: Record<string, unknown>): string | undefined {
  const id = c.custom_id
  if (c.style === 5) {
    if (typeof c.url !== 'string' || id !== undefined) return 'a link button takes a url and no custom_id'
  } else if (typeof id !== 'string' || id.length === 0 || id.length > 100) return 'custom_id must be 1 to 100'
  if (c.label === undefined && c.emoji === undefined) return 'a button needs a label or an emoji'
  if (typeof c.label === 'string' && c.label.length > 80) return 'button label over 80'
  return undefined
}

function invalidSelect(c: Record<string, unknown>): string | undefined {
  const id = c.custom_id
  if (typeof id !== 'string' || id.length === 0 || id.length > 100) return 'custom_id must be 1 to 100'
  if (typeof c.placeholder === 'string' && c.placeholder.length > 150) return 'placeholder over 150'
  const options = c.options as Array<Record<string, unknown>> | undefined
  if (!Array.isArray(options) || options.length === 0 || options.length > 25)
    return 'a select has 1 to 25 options'
  const values = new Set<unknown>()
  for (const o of options) {
    for (const key of ['label', 'value'] as const) {
      const v = o[key]
      if (typeof v !== 'string' || v.length === 0 || v.length > 100) return `option ${key} must be 1 to 100`
    }
    if (typeof o.description === 'string' && o.description.length > 100) return 'option description over 100'
    if (values.has(o.value)) return 'option values must be unique'
    values.add(o.value)
  }
  const min = (c.min_values as number | undefined) ?? 1
  const max = (c.max_values as number | undefined) ?? 1
  if (min < 0 || max < 1 || min > max || max > options.length) return 'min_values and max_values out of range'
  return undefined
}
