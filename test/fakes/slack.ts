/**
 * A fake Slack on 127.0.0.1 for the real @slack/bolt: the Web API methods Chorus uses, with token
 * checks and injectable 429s; `apps.connections.open` plus a Socket Mode WebSocket (hello, envelopes,
 * acks timed against Slack's 3-second rule, raw frames, disconnects as Slack sends them);
 * `response_url` endpoints (5 uses within 30 minutes; an in-channel post through a command's URL is
 * a message that later posts with `replace_original` replace, a click's URL replaces the message
 * clicked); Slack's posting limits (Tier 3 per workspace and method, about one message a second per
 * channel however it is posted); and signed HTTP deliveries for HTTP mode.
 * Users click buttons, pick options and submit modals as Slack's client would: only controls that
 * are on the message, only forms that pass the inputs' own checks, and an app that must answer a
 * view_submission within 3 s with errors only under the modal's input blocks. Everything posted is
 * recorded in order.
 */
import { createHmac, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type WebSocket, WebSocketServer } from 'ws'
import { listen, readBody } from './http.ts'
import { type FakeOAuth, fakeOAuth, uninstallEvent } from './slack-oauth.ts'

export const BOT_TOKEN = 'xoxb-1-test'
export const APP_TOKEN = 'xapp-1-test'
export const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5'

export interface ApiCall {
  method: string
  args: Record<string, unknown>
  token: string | undefined
  at: number
  /** Set on 429 answers. */
  rateLimited?: boolean
}

export interface Ack {
  envelopeId: string
  payload: unknown
  /** Milliseconds from sending the envelope to receiving its ack. */
  ms: number
}

export interface Message {
  channel: string
  ts: string
  threadTs: string | undefined
  text: string
  blocks: unknown[]
  /** Every version: the post, then each update. */
  history: Array<{ text: string; blocks: unknown[]; at: number }>
  /** Set when the message was posted through a response_url (its id), not with the bot token. */
  responseUrl?: string
  /** `Date.now()` when posted: what `conversations.history`'s oldest/latest compare with (the fake's ts are not clock times). */
  postedAt?: number
  /** The workspace (and org) of the token that posted it: clicks on it come from there. Default T1. */
  teamId?: string
  enterpriseId?: string
}

export interface Link {
  /** Milliseconds since the fake started. */
  openedAt: number
  closedAt: number | undefined
}

/** A person in the fake workspace. */
export interface SlackUser {
  id: string
  name: string
}

/** How an interaction reaches the app: the Socket Mode link, or a signed POST to its HTTP endpoint. */
export type Via = 'socket' | { url: string }

export interface ClickOptions {
  via?: Via
  /** The message's blocks as the user's client showed them; default the message as it is now. */
  seen?: unknown[]
}

/** A click or a pick, as delivered: the app's acknowledgement and what the payload carried. */
export interface Interaction {
  /** Milliseconds from sending to the acknowledgement. */
  ms: number
  /** The ack's payload (Socket Mode) or the response body (HTTP); undefined when empty. */
  payload: unknown
  responseUrl: string
  triggerId: string
}

/** A modal submission and what Slack made of the app's answer to it. */
export interface Submission {
  ms: number
  payload: unknown
  /**
   * `closed`: acked without errors, the modal closed. `errors`: the modal stays open with a reason
   * under each named input. `failed`: Slack showed its generic error (no ack within 3 s, or errors
   * under blocks that are not inputs of the modal); the modal stays open.
   */
  result: 'closed' | 'errors' | 'failed'
  errors?: Record<string, string>
  reason?: string
}

/** Slack's client refused to send a form (a required input empty, a length outside min/max). */
export class FormRefused extends Error {}

export interface FakeSlackOptions {
  /** How long a socket stays usable after a `warning` disconnect before the server closes it. */
  warningGraceMs?: number
  /** Delays each `apps.connections.open` answer (a slow Web API). */
  openDelayMs?: number
  /** Delays the `hello` on each new socket (Slack sends it once the link is set up). */
  helloDelayMs?: number
  /**
   * Tier 3 as enforced per workspace (bot token) and method on chat.postMessage and chat.update: at
   * most `limit` calls in any `windowMs`, else 429 with Retry-After. Default Slack's ~50 a minute;
   * tests with many runs scale the window down (and Chorus' CHORUS_SLACK_WRITES_PER_MIN up).
   */
  tier3?: { limit: number; windowMs: number }
  /**
   * Messages posted in one channel, by chat.postMessage or through a response_url: a bucket of
   * `burst` posts that refills one every `intervalMs`, else 429 with Retry-After. Slack: about one a
   * second per channel, short bursts allowed (it publishes no burst size). Default CHANNEL_POSTS;
   * a `tier3` faster than Slack's makes it refill faster by the same factor.
   */
  channelPosts?: { burst: number; intervalMs: number }
  /** How long a response_url works: Slack's 30 minutes, shortened by tests of what comes after. */
  responseUrlMs?: number
}

/** Slack's Tier 3, about 50 calls a minute per workspace and method. */
export const TIER3 = { limit: 50, windowMs: 60_000 }
/** About one message a second per channel, with a short burst (Slack publishes no burst size). */
export const CHANNEL_POSTS = { burst: 4, intervalMs: 1_000 }
/** Tier 3 at 10x Slack's rate with room to spare, for tests whose subject is not rate limits. */
export const FAST_TIER = { limit: 500, windowMs: 1_000 }
/** The CHORUS_SLACK_WRITES_PER_MIN that stays inside FAST_TIER (90% of it). */
export const FAST_WRITES_PER_MIN = '27000'

export interface FakeSlack {
  /** Web API base for `clientOptions.slackApiUrl`. */
  apiUrl: string
  /** Installs in many workspaces: the authorize page, oauth.v2.access, tokens per workspace (slack-oauth.ts). */
  oauth: FakeOAuth
  baseUrl: string
  calls: ApiCall[]
  messages: Map<string, Message>
  ephemeral: ApiCall[]
  /** Every post to a response_url; `ts` is the message it posted or replaced in the channel, if any. */
  responses: Array<{ id: string; body: Record<string, unknown>; at: number; status: number; ts?: string }>
  acks: Ack[]
  /** Envelopes not acked within 3 s. */
  late: string[]
  /** The next `count` calls of `method` answer 429 with this Retry-After (seconds). */
  rateLimit(method: string, retryAfterSec: number, count?: number): void
  /** Sends an envelope on the open socket; resolves with its ack (rejects after 3 s without one). */
  send(
    type: 'slash_commands' | 'events_api' | 'interactive',
    payload: unknown,
    extra?: Record<string, unknown>,
  ): Promise<Ack>
  /**
   * Sends any JSON value (even `null`) as one frame on the open socket. A frame with an
   * `envelope_id` resolves with its ack (rejects after 3 s without one); others resolve at once.
   */
  sendRaw(frame: unknown): Promise<Ack | undefined>
  /** Modals open now (opened with `views.open`, not yet closed), by view id, as sent. */
  views: Map<string, Record<string, unknown>>
  /**
   * Submits an open modal as its user would (a `view_submission` over Socket Mode); `values` maps
   * block id → action id → the typed text. Resolves with the ack.
   */
  submitView(
    viewId: string,
    values: Record<string, Record<string, string>>,
    user?: string,
  ): Promise<Submission>
  /**
   * Submits an open modal as `user` (default whoever opened it), `values` by input block id. Throws
   * FormRefused where Slack's client would not send it; see Submission for what happens after.
   */
  submit(
    viewId: string,
    values: Record<string, string>,
    options?: { user?: SlackUser; via?: Via },
  ): Promise<Submission>
  /** Modal submissions that ended in Slack's generic error, with why. */
  modalErrors: Array<{ viewId: string; reason: string }>
  /**
   * Clicks the button `actionId` on `message` as `user` sees it: as it is now (it must be there), or
   * as `seen` (the blocks a client still showed when its click raced an edit).
   */
  click(message: Message, actionId: string, user: SlackUser, options?: ClickOptions): Promise<Interaction>
  /** Picks the option labelled `label` of the select `actionId` on `message`, as `click` does. */
  pick(
    message: Message,
    actionId: string,
    label: string,
    user: SlackUser,
    options?: ClickOptions,
  ): Promise<Interaction>
  /** What `userId` was told privately, in order: ephemeral messages and response_url notes. */
  notes(userId: string): string[]
  /** A fresh trigger_id, as Slack puts on each command and click; `views.open` takes it for 3 s. */
  triggerId(): string
  /** A slash command payload with a fresh response_url and trigger_id. */
  slashPayload(command: string, text: string, overrides?: Record<string, string>): Record<string, string>
  /**
   * A `block_actions` payload for a click on a button of `message`, with a fresh trigger_id and
   * (unless given) a fresh response_url, as Slack sends it.
   */
  blockAction(
    message: { ts: string; text: string; channel?: string },
    action: { actionId: string; value: string },
    options?: { user?: string; responseUrl?: string },
  ): Record<string, unknown>
  /** Resolves once a Socket Mode client is connected, said hello to, and not told to disconnect. */
  connected(): Promise<void>
  /**
   * Sends a `disconnect` frame. Slack keeps a `warning` socket usable for about 10 s
   * (`warningGraceMs`) and then closes it; for any other reason it closes the socket right away.
   */
  disconnect(reason: string): void
  /** Every Socket Mode connection, in the order opened. */
  links: Link[]
  /** Milliseconds since the fake started, on the clock of `links` and `at`. */
  now(): number
  /** Messages in post order. */
  posted(): Message[]
  /**
   * Uninstalls the app from a workspace (or an org-wide install) as Slack does: its tokens are
   * revoked, then `app_uninstalled` and `tokens_revoked` go to the app's event URL, signed, in `order`
   * (Slack does not promise one). Resolves with the app's HTTP statuses.
   */
  uninstall(
    where: { teamId?: string; enterpriseId?: string; orgWide?: boolean },
    url: string,
    order?: Array<'app_uninstalled' | 'tokens_revoked'>,
  ): Promise<number[]>
  close(): Promise<void>
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const { warningGraceMs = 10_000, openDelayMs = 0, helloDelayMs = 0, tier3 = TIER3 } = options
  const scale = tier3.windowMs / tier3.limit / (TIER3.windowMs / TIER3.limit)
  // Scaled, the bucket refills that much faster and still spans 4 s of posts: a test at 60x speed is
  // not about 4 posts landing a few milliseconds apart on a busy machine.
  const factor = Math.min(1, scale)
  const channelPosts = options.channelPosts ?? {
    burst: CHANNEL_POSTS.burst / factor,
    intervalMs: CHANNEL_POSTS.intervalMs * factor,
  }
  /** `${token} ${method}` → times of the calls Tier 3 counted. */
  const windows = new Map<string, number[]>()
  /** Channel → its bucket of posts: how many are left, as of when. */
  const buckets = new Map<string, { tokens: number; at: number }>()
  const calls: ApiCall[] = []
  const messages = new Map<string, Message>()
  const ephemeral: ApiCall[] = []
  const responses: FakeSlack['responses'] = []
  const acks: Ack[] = []
  const late: string[] = []
  const limits = new Map<string, { retryAfter: number; count: number }>()
  const responseUrls = new Map<string, ResponseUrl>()
  const pendingAcks = new Map<string, { sentAt: number; resolve: (a: Ack) => void }>()
  const links: Link[] = []
  /** The socket new envelopes go to: the newest one, even while it is retiring after a `warning`. */
  let ws: WebSocket | undefined
  /** Sockets told to disconnect; `connected()` waits for one that is not. */
  const retiring = new WeakSet<WebSocket>()
  let onConnect: Array<() => void> = []
  let tsCounter = 0
  const t0 = performance.now()
  const oauth = fakeOAuth()

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const raw = await readBody(req)
    if (url.pathname === '/oauth/v2/authorize' && req.method === 'GET')
      return oauth.authorize(url.searchParams, res)
    if (url.pathname.startsWith('/api/')) return api(url.pathname.slice(5), req, raw, res)
    if (url.pathname.startsWith('/commands/')) return responseUrl(url.pathname.slice(10), raw, res)
    json(res, 404, { ok: false, error: 'unknown_path' })
  })

  function api(method: string, req: IncomingMessage, raw: string, res: ServerResponse) {
    const args = parseBody(req.headers['content-type'], raw)
    const token =
      (req.headers.authorization ?? '').replace(/^Bearer /, '') || (args.token as string | undefined)
    const call: ApiCall = { method, args, token, at: performance.now() - t0 }
    calls.push(call)
    const limit = limits.get(method)
    if (limit !== undefined && limit.count > 0) {
      limit.count--
      call.rateLimited = true
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(limit.retryAfter) })
      res.end(JSON.stringify({ ok: false, error: 'ratelimited' }))
      return
    }
    if (method === 'oauth.v2.access') {
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1]
      const answer = oauth.access(
        args,
        basic === undefined ? undefined : Buffer.from(basic, 'base64').toString(),
      )
      setTimeout(() => json(res, 200, answer), oauth.accessDelayMs)
      return
    }
    // SLACK_BOT_TOKEN's workspace (T1), or a token an install issued (live, not expired or revoked).
    const refused = token === BOT_TOKEN ? undefined : oauth.refusal(token)
    if (TIERED.has(method) && refused === undefined) {
      // Slack gives no number for chat.postMessage's workspace-wide limit; the fake uses Tier 3's.
      const channel = method === 'chat.postMessage' ? String(args.channel) : undefined
      const retryAfter = spend(`${token} ${method}`, channel)
      if (retryAfter !== undefined) {
        call.rateLimited = true
        return tooMany(res, retryAfter)
      }
    }
    if (method === 'apps.connections.open') {
      if (token !== APP_TOKEN) return json(res, 200, { ok: false, error: 'invalid_auth' })
      const { port } = server.address() as AddressInfo
      const body = { ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=${randomUUID()}&app_id=A1` }
      setTimeout(() => json(res, 200, body), openDelayMs)
      return
    }
    if (refused !== undefined) return json(res, 200, { ok: false, error: refused })
    switch (method) {
      case 'auth.test':
        if (token !== BOT_TOKEN) return json(res, 200, oauth.authTest(token))
        return json(res, 200, {
          ok: true,
          url: 'https://fake.slack/',
          team: 'Fake',
          user: 'chorus',
          team_id: 'T1',
          user_id: 'UBOT',
          bot_id: 'B1',
        })
      case 'chat.postMessage': {
        const invalid = invalidBlocks(args.blocks)
        if (invalid !== undefined)
          return json(res, 200, { ok: false, error: 'invalid_blocks', errors: [invalid] })
        const channel = String(args.channel ?? '')
        if (channel === 'CPRIVATE') return json(res, 200, { ok: false, error: 'not_in_channel' })
        if (channel === 'CARCHIVED') return json(res, 200, { ok: false, error: 'is_archived' })
        const text = String(args.text ?? '')
        const ts = addMessage(channel, args.thread_ts as string | undefined, text, args.blocks, call.at)
        const issued = oauth.tokens.find((t) => t.token === token)
        if (issued !== undefined) {
          const posted = messages.get(ts) as Message
          if (issued.teamId !== undefined) posted.teamId = issued.teamId
          if (issued.enterpriseId !== undefined) posted.enterpriseId = issued.enterpriseId
        }
        return json(res, 200, { ok: true, channel, ts, message: { text, ts } })
      }
      case 'chat.update': {
        const invalid = invalidBlocks(args.blocks)
        if (invalid !== undefined)
          return json(res, 200, { ok: false, error: 'invalid_blocks', errors: [invalid] })
        const message = messages.get(String(args.ts))
        if (message === undefined || message.channel !== args.channel)
          return json(res, 200, { ok: false, error: 'message_not_found' })
        message.text = String(args.text ?? '')
        message.blocks = (args.blocks as unknown[] | undefined) ?? []
        message.history.push({ text: message.text, blocks: message.blocks, at: call.at })
        return json(res, 200, { ok: true, channel: message.channel, ts: message.ts })
      }
      case 'conversations.history': {
        // A channel's messages (not thread replies), newest first, posted between oldest and latest.
        const oldest = Number(args.oldest ?? 0) * 1000
        const latest = args.latest === undefined ? Number.POSITIVE_INFINITY : Number(args.latest) * 1000
        const found = [...messages.values()]
          .filter((m) => m.channel === args.channel && m.threadTs === undefined)
          .filter((m) => (m.postedAt ?? 0) >= oldest && (m.postedAt ?? 0) <= latest)
          .reverse()
          .slice(0, Number(args.limit ?? 100))
          .map((m) => ({ type: 'message', ts: m.ts, text: m.text, blocks: m.blocks, bot_id: 'B1' }))
        return json(res, 200, { ok: true, messages: found, has_more: false })
      }
      case 'conversations.replies': {
        // The thread's parent, then its replies, oldest first, as Slack lists them.
        const ts = String(args.ts ?? '')
        const thread = [...messages.values()]
          .filter((m) => m.channel === args.channel && (m.ts === ts || m.threadTs === ts))
          .sort((a, b) => a.ts.localeCompare(b.ts))
          .map((m) => ({
            type: 'message',
            ts: m.ts,
            thread_ts: m.threadTs ?? ts,
            text: m.text,
            blocks: m.blocks,
            bot_id: 'B1',
          }))
        if (thread.length === 0) return json(res, 200, { ok: false, error: 'thread_not_found' })
        return json(res, 200, { ok: true, messages: thread, has_more: false })
      }
      case 'views.open': {
        // Slack: a trigger_id is good for one views.open within 3 s of the interaction that carried it.
        const trigger = String(args.trigger_id ?? '')
        const issued = triggers.get(trigger)
        if (issued === undefined) return json(res, 200, { ok: false, error: 'invalid_trigger_id' })
        triggers.delete(trigger)
        if (performance.now() - issued.at > 3_000)
          return json(res, 200, { ok: false, error: 'expired_trigger_id' })
        const view = (typeof args.view === 'string' ? JSON.parse(args.view) : args.view) as Record<
          string,
          unknown
        >
        const invalid = invalidModal(view)
        if (invalid !== undefined)
          return json(res, 200, { ok: false, error: 'invalid_arguments', errors: [invalid] })
        const id = `V${String(++tsCounter).padStart(8, '0')}`
        views.set(id, view)
        const teamId = oauth.tokens.find((t) => t.token === token)?.teamId
        if (teamId !== undefined) viewTeams.set(id, teamId)
        if (issued.user !== undefined) viewOwners.set(id, issued.user)
        return json(res, 200, { ok: true, view: { id, ...view } })
      }
      case 'chat.postEphemeral': {
        // Slack: channel and user are required, and text or blocks; blocks obey the message limits.
        if (args.channel === undefined || args.user === undefined)
          return json(res, 200, { ok: false, error: 'invalid_arguments' })
        if (args.text === undefined && args.blocks === undefined)
          return json(res, 200, { ok: false, error: 'no_text' })
        const invalid = invalidBlocks(args.blocks)
        if (invalid !== undefined)
          return json(res, 200, { ok: false, error: 'invalid_blocks', errors: [invalid] })
        ephemeral.push(call)
        return json(res, 200, { ok: true, message_ts: `1700000000.${String(++tsCounter).padStart(6, '0')}` })
      }
      default:
        return json(res, 200, { ok: false, error: 'unknown_method' })
    }
  }

  /**
   * A post to a response_url. Slack: up to 5 within 30 minutes. `in_channel` posts a message in the
   * channel (a message like any other: about one a second per channel); `replace_original` replaces
   * the app's message posted earlier through this URL (a command's), or the message whose control
   * was used (a click's), keeping its visibility; it can never replace the user's command.
   */
  function responseUrl(id: string, raw: string, res: ServerResponse) {
    const entry = responseUrls.get(id)
    const body = JSON.parse(raw || '{}') as Record<string, unknown>
    const at = performance.now() - t0
    const done = (status: number, ts?: string) => {
      responses.push({ id, body, at, status, ...(ts === undefined ? {} : { ts }) })
      if (status === 200) json(res, 200, { ok: true })
      else json(res, status, { ok: false, error: status === 404 ? 'no_message_to_replace' : 'expired_url' })
    }
    if (entry === undefined) return done(404)
    if (entry.uses >= 5 || Date.now() - entry.createdAt > (options.responseUrlMs ?? 30 * 60_000))
      return done(410)
    const replace = body.replace_original === true || body.replace_original === 'true'
    if (replace) {
      const ts = entry.kind === 'command' ? entry.posted : entry.source
      const message = ts === undefined ? undefined : messages.get(ts)
      if (message === undefined) return done(404)
      entry.uses++
      message.text = String(body.text ?? '')
      message.blocks = (body.blocks as unknown[] | undefined) ?? []
      message.history.push({ text: message.text, blocks: message.blocks, at })
      return done(200, message.ts)
    }
    if (body.response_type !== 'in_channel') {
      entry.uses++
      return done(200)
    }
    const retryAfter = spend(undefined, entry.channel)
    if (retryAfter !== undefined) {
      responses.push({ id, body, at, status: 429 })
      return tooMany(res, retryAfter)
    }
    entry.uses++
    const threadTs = body.thread_ts as string | undefined
    const ts = addMessage(entry.channel, threadTs, String(body.text ?? ''), body.blocks, at, id)
    if (entry.kind === 'command') entry.posted = ts
    return done(200, ts)
  }

  /** Records a new message in `channel` and returns its ts. */
  function addMessage(
    channel: string,
    threadTs: string | undefined,
    text: string,
    blocks: unknown,
    at: number,
    viaResponseUrl?: string,
  ): string {
    const ts = `1700000000.${String(++tsCounter).padStart(6, '0')}`
    const list = (blocks as unknown[] | undefined) ?? []
    messages.set(ts, {
      channel,
      ts,
      threadTs,
      text,
      blocks: list,
      history: [{ text, blocks: list, at }],
      postedAt: Date.now(),
      ...(viaResponseUrl === undefined ? {} : { responseUrl: viaResponseUrl }),
    })
    return ts
  }

  /**
   * Whether one more call fits Tier 3 for `key` (workspace and method) and the posts of `channel`:
   * undefined (and counted) when it does, else the Retry-After Slack would send, in whole seconds,
   * at least 1.
   */
  function spend(key: string | undefined, channel: string | undefined): number | undefined {
    const now = performance.now()
    let wait = 0
    const recent = key === undefined ? [] : (windows.get(key) ?? []).filter((t) => t > now - tier3.windowMs)
    if (key !== undefined) windows.set(key, recent)
    if (recent.length >= tier3.limit) wait = (recent[0] as number) + tier3.windowMs - now
    const bucket =
      channel === undefined ? undefined : (buckets.get(channel) ?? { tokens: channelPosts.burst, at: now })
    if (bucket !== undefined) {
      bucket.tokens = Math.min(
        channelPosts.burst,
        bucket.tokens + (now - bucket.at) / channelPosts.intervalMs,
      )
      bucket.at = now
      buckets.set(channel as string, bucket)
      if (bucket.tokens < 1) wait = Math.max(wait, (1 - bucket.tokens) * channelPosts.intervalMs)
    }
    if (wait > 0) return Math.max(1, Math.ceil(wait / 1000))
    if (key !== undefined) recent.push(now)
    if (bucket !== undefined) bucket.tokens -= 1
    return undefined
  }

  const wss = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith('/link/')) return socket.destroy()
    wss.handleUpgrade(req, socket, head, (client) => {
      ws = client
      const link: Link = { openedAt: performance.now() - t0, closedAt: undefined }
      links.push(link)
      client.on('close', () => {
        link.closedAt = performance.now() - t0
        if (ws === client) ws = undefined
      })
      client.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown }
        if (frame.envelope_id === undefined) return
        const pending = pendingAcks.get(frame.envelope_id)
        if (pending === undefined) return
        pendingAcks.delete(frame.envelope_id)
        const ack = {
          envelopeId: frame.envelope_id,
          payload: frame.payload,
          ms: performance.now() - pending.sentAt,
        }
        acks.push(ack)
        pending.resolve(ack)
      })
      setTimeout(() => {
        if (client.readyState !== client.OPEN) return
        client.send(
          JSON.stringify({
            type: 'hello',
            connection_info: { app_id: 'A1' },
            num_connections: 1,
            debug_info: { host: 'fake-applink', build_number: 1, approximate_connection_time: 3600 },
          }),
        )
        const waiting = onConnect
        onConnect = []
        for (const fn of waiting) fn()
      }, helloDelayMs)
    })
  })
  function deliver(frame: unknown): Promise<Ack | undefined> {
    const socket = ws
    if (socket === undefined) return Promise.reject(new Error('no Socket Mode client connected'))
    const envelopeId = (frame as { envelope_id?: unknown } | null)?.envelope_id
    if (typeof envelopeId !== 'string') {
      socket.send(JSON.stringify(frame))
      return Promise.resolve(undefined)
    }
    return new Promise<Ack>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Slack: no ack within 3 seconds is a failed delivery.
        if (pendingAcks.delete(envelopeId)) {
          late.push(envelopeId)
          reject(new Error(`envelope ${envelopeId} was not acknowledged within 3 s`))
        }
      }, 3_000)
      pendingAcks.set(envelopeId, {
        sentAt: performance.now(),
        resolve: (ack) => {
          clearTimeout(timer)
          resolve(ack)
        },
      })
      socket.send(JSON.stringify(frame))
    })
  }

  /** trigger_id → when it was issued and to whom; Slack lets `views.open` use one within 3 s, once. */
  const triggers = new Map<string, { at: number; user: SlackUser | undefined }>()
  /** A response_url Slack would hand out with a command or a click: 5 uses within 30 minutes. */
  function newResponseUrl(where: Omit<ResponseUrl, 'uses' | 'createdAt'>): string {
    const id = randomUUID()
    responseUrls.set(id, { ...where, uses: 0, createdAt: Date.now() })
    return `${baseUrl}/commands/${id}`
  }

  function newTrigger(user?: SlackUser): string {
    const id = `${Date.now()}.${randomUUID()}`
    triggers.set(id, { at: performance.now(), user })
    return id
  }

  /** Modals open now, by view id, and whom each was opened for (the user of its trigger_id). */
  const views = new Map<string, Record<string, unknown>>()
  const viewOwners = new Map<string, SlackUser>()
  /** Modals opened with an installed workspace's token, by view id: their submissions come from there. */
  const viewTeams = new Map<string, string>()
  const modalErrors: FakeSlack['modalErrors'] = []

  /** Delivers an interactive payload as Slack does, over the socket or signed over HTTP; 3 s to ack. */
  async function interact(
    payload: Record<string, unknown>,
    via: Via = 'socket',
  ): Promise<{ ms: number; payload: unknown }> {
    if (via === 'socket') {
      const ack = (await deliver({
        envelope_id: randomUUID(),
        type: 'interactive',
        accepts_response_payload: true,
        payload,
      })) as Ack
      return { ms: ack.ms, payload: ack.payload }
    }
    const res = await deliverInteraction(via.url, payload).catch((error: unknown) => {
      late.push(String(payload.trigger_id))
      throw error
    })
    if (res.status !== 200) throw new Error(`the app answered the ${String(payload.type)} with ${res.status}`)
    return { ms: res.ms, payload: res.body === '' ? undefined : JSON.parse(res.body) }
  }

  /** A block_actions payload for `action` on `message` as it is now, with the message as Slack sends it. */
  function actionPayload(
    message: Message,
    user: SlackUser,
    block: Record<string, unknown>,
    action: Record<string, unknown>,
    state: Record<string, unknown> = {},
  ): Record<string, unknown> {
    const thread = message.threadTs === undefined ? {} : { thread_ts: message.threadTs }
    const team = message.teamId ?? 'T1'
    return {
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: team },
      api_app_id: 'A1',
      token: 'legacy',
      container: {
        type: 'message',
        message_ts: message.ts,
        channel_id: message.channel,
        is_ephemeral: false,
        ...thread,
      },
      trigger_id: newTrigger(user),
      team: { id: team, domain: 'fake' },
      enterprise: message.enterpriseId === undefined ? null : { id: message.enterpriseId, name: 'Org' },
      is_enterprise_install: false,
      channel: { id: message.channel, name: 'general' },
      message: {
        type: 'message',
        subtype: 'bot_message',
        bot_id: 'B1',
        app_id: 'A1',
        user: 'UBOT',
        team,
        text: message.text,
        ts: message.ts,
        ...thread,
        blocks: message.blocks,
      },
      state: { values: state },
      response_url: newResponseUrl({
        kind: 'click',
        user: user.id,
        channel: message.channel,
        source: message.ts,
      }),
      actions: [
        {
          block_id: block.block_id ?? 'auto',
          action_ts: `${Math.floor(Date.now() / 1000)}.000100`,
          ...action,
        },
      ],
    }
  }

  /** The element `actionId` of a message as it is now, with its block; a control that is not there cannot be used. */
  function control(message: Message, actionId: string, type: string, seen?: unknown[]) {
    const now = messages.get(message.ts)
    if (now === undefined) throw new Error(`no message ${message.ts}`)
    const current = seen === undefined ? now : { ...now, blocks: seen }
    for (const block of current.blocks as Array<Record<string, unknown>>) {
      for (const element of (block.elements ?? []) as Array<Record<string, unknown>>)
        if (element.action_id === actionId && element.type === type) return { current, block, element }
    }
    throw new Error(`no ${type} ${actionId} on message ${message.ts}${seen === undefined ? ' now' : ''}`)
  }

  async function click(
    message: Message,
    actionId: string,
    user: SlackUser,
    { via, seen }: ClickOptions = {},
  ): Promise<Interaction> {
    const { current, block, element } = control(message, actionId, 'button', seen)
    const { type, action_id, text, value, style } = element
    const payload = actionPayload(current, user, block, {
      type,
      action_id,
      text,
      value,
      ...(style ? { style } : {}),
    })
    const ack = await interact(payload, via)
    return { ...ack, responseUrl: String(payload.response_url), triggerId: String(payload.trigger_id) }
  }

  async function pick(
    message: Message,
    actionId: string,
    label: string,
    user: SlackUser,
    { via, seen }: ClickOptions = {},
  ): Promise<Interaction> {
    const { current, block, element } = control(message, actionId, 'static_select', seen)
    const options = (element.options ?? []) as Array<{ text: { text: string }; value: string }>
    const selected = options.find((o) => o.text.text === label)
    if (selected === undefined) throw new Error(`no option "${label}" in ${actionId}`)
    const blockId = String(block.block_id ?? 'auto')
    const state = { [blockId]: { [actionId]: { type: 'static_select', selected_option: selected } } }
    const payload = actionPayload(
      current,
      user,
      block,
      {
        type: 'static_select',
        action_id: actionId,
        selected_option: selected,
        placeholder: element.placeholder,
      },
      state,
    )
    const ack = await interact(payload, via)
    return { ...ack, responseUrl: String(payload.response_url), triggerId: String(payload.trigger_id) }
  }

  async function submit(
    viewId: string,
    values: Record<string, string>,
    options: { user?: SlackUser; via?: Via } = {},
  ): Promise<Submission> {
    const view = views.get(viewId)
    if (view === undefined) throw new Error(`no open view ${viewId}`)
    const owner = viewOwners.get(viewId)
    const user = options.user ?? owner ?? { id: 'U2', name: 'grace' }
    if (owner !== undefined && owner.id !== user.id)
      throw new Error(`view ${viewId} is open for ${owner.id}, not ${user.id}`)
    const inputs = ((view.blocks ?? []) as Array<Record<string, unknown>>).filter((b) => b.type === 'input')
    for (const key of Object.keys(values))
      if (!inputs.some((b) => b.block_id === key)) throw new Error(`view ${viewId} has no input ${key}`)
    const state: Record<string, Record<string, unknown>> = {}
    for (const input of inputs) {
      const element = input.element as {
        type: string
        action_id: string
        min_length?: number
        max_length?: number
      }
      const value = values[String(input.block_id)] ?? ''
      // What Slack's client checks before it sends anything.
      if (input.optional !== true && value.trim() === '')
        throw new FormRefused(`${String(input.block_id)} is required`)
      if (value !== '' && element.min_length !== undefined && value.length < element.min_length)
        throw new FormRefused(`${String(input.block_id)} needs at least ${element.min_length} characters`)
      if (element.max_length !== undefined && value.length > element.max_length)
        throw new FormRefused(`${String(input.block_id)} takes at most ${element.max_length} characters`)
      state[String(input.block_id)] = {
        [element.action_id]: { type: element.type, value: value === '' ? null : value },
      }
    }
    // The workspace whose token opened the modal.
    const team = viewTeams.get(viewId) ?? 'T1'
    const payload = {
      type: 'view_submission',
      team: { id: team, domain: 'fake' },
      user: { id: user.id, username: user.name, name: user.name, team_id: team },
      api_app_id: 'A1',
      token: 'legacy',
      trigger_id: newTrigger(user),
      view: {
        id: viewId,
        team_id: team,
        app_id: 'A1',
        bot_id: 'B1',
        hash: 'h',
        previous_view_id: null,
        root_view_id: viewId,
        ...view,
        state: { values: state },
      },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    }
    const fail = (reason: string, ms: number, ack?: unknown): Submission => {
      modalErrors.push({ viewId, reason })
      return { ms, payload: ack, result: 'failed', reason }
    }
    const t0 = performance.now()
    let ack: { ms: number; payload: unknown }
    try {
      ack = await interact(payload, options.via)
    } catch (error) {
      return fail(`no acknowledgement within 3 s (${(error as Error).message})`, performance.now() - t0)
    }
    const answer = ack.payload as { response_action?: string; errors?: Record<string, string> } | undefined
    if (answer?.response_action === 'errors') {
      const errors = answer.errors ?? {}
      const stray = Object.keys(errors).filter((k) => !inputs.some((b) => b.block_id === k))
      // Slack: error keys must be block_ids of input blocks in the view; anything else is a generic error.
      if (stray.length > 0 || Object.keys(errors).length === 0)
        return fail(
          `errors for blocks that are not inputs: ${stray.join(', ') || '(none given)'}`,
          ack.ms,
          answer,
        )
      return { ms: ack.ms, payload: answer, result: 'errors', errors }
    }
    if (answer?.response_action !== undefined && answer.response_action !== 'clear')
      return fail(`response_action ${answer.response_action} is not modelled by the fake`, ack.ms, answer)
    views.delete(viewId)
    viewOwners.delete(viewId)
    return { ms: ack.ms, payload: answer, result: 'closed' }
  }

  function notes(userId: string): string[] {
    const seen: Array<{ at: number; text: string }> = []
    for (const r of responses) {
      const b = r.body
      if (r.status !== 200 || responseUrls.get(r.id)?.user !== userId) continue
      if (b.response_type === 'in_channel' || b.replace_original === true || b.delete_original === true)
        continue
      seen.push({ at: r.at, text: String(b.text ?? '') })
    }
    for (const c of ephemeral)
      if (c.args.user === userId) seen.push({ at: c.at, text: String(c.args.text ?? '') })
    return seen.sort((a, b) => a.at - b.at).map((n) => n.text)
  }

  const { port, close: closeServer } = await listen(server)
  const baseUrl = `http://127.0.0.1:${port}`

  return {
    apiUrl: `${baseUrl}/api/`,
    oauth,
    baseUrl,
    calls,
    messages,
    ephemeral,
    responses,
    acks,
    late,
    rateLimit(method, retryAfterSec, count = 1) {
      limits.set(method, { retryAfter: retryAfterSec, count })
    },
    send(type, payload, extra = {}) {
      return deliver({
        envelope_id: randomUUID(),
        type,
        accepts_response_payload: type !== 'events_api',
        payload,
        ...extra,
      }) as Promise<Ack>
    },
    sendRaw: deliver,
    views,
    submitView(viewId, values, who = 'grace') {
      const flat = Object.fromEntries(
        Object.entries(values).map(([block, fields]) => [block, Object.values(fields)[0] ?? '']),
      )
      return submit(viewId, flat, { user: { id: 'U2', name: who } })
    },
    submit,
    modalErrors,
    click,
    pick,
    notes,
    triggerId: () => newTrigger(),
    blockAction(message, action, options = {}) {
      const user = options.user ?? 'grace'
      const channel = message.channel ?? 'C1'
      return {
        type: 'block_actions',
        user: { id: 'U2', name: user, username: user, team_id: 'T1' },
        api_app_id: 'A1',
        token: 'legacy',
        trigger_id: newTrigger({ id: 'U2', name: user }),
        team: { id: 'T1', domain: 'fake' },
        channel: { id: channel, name: 'general' },
        container: { type: 'message', message_ts: message.ts, channel_id: channel, is_ephemeral: false },
        message: { ts: message.ts, text: message.text, type: 'message' },
        response_url:
          options.responseUrl ?? newResponseUrl({ kind: 'click', user: 'U2', channel, source: message.ts }),
        actions: [
          {
            action_id: action.actionId,
            block_id: 'b',
            type: 'button',
            value: action.value,
            action_ts: '1700000001.000001',
            text: { type: 'plain_text', text: action.actionId },
          },
        ],
      }
    },
    slashPayload(command, text, overrides = {}) {
      return {
        token: 'legacy',
        team_id: 'T1',
        team_domain: 'fake',
        channel_id: 'C1',
        channel_name: 'general',
        user_id: 'U1',
        user_name: 'ada',
        command,
        text,
        api_app_id: 'A1',
        is_enterprise_install: 'false',
        response_url: newResponseUrl({
          kind: 'command',
          user: overrides.user_id ?? 'U1',
          channel: overrides.channel_id ?? 'C1',
        }),
        trigger_id: newTrigger({ id: overrides.user_id ?? 'U1', name: overrides.user_name ?? 'ada' }),
        ...overrides,
      }
    },
    connected() {
      return ws !== undefined && !retiring.has(ws)
        ? Promise.resolve()
        : new Promise((resolve) => onConnect.push(resolve))
    },
    disconnect(reason) {
      const socket = ws
      if (socket === undefined) return
      retiring.add(socket)
      socket.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'fake-applink' } }))
      if (reason !== 'warning') {
        ws = undefined
        socket.close(1000, reason)
        return
      }
      setTimeout(() => socket.close(1000, 'warning grace over'), warningGraceMs).unref()
    },
    links,
    now: () => performance.now() - t0,
    async uninstall(where, url, order = ['app_uninstalled', 'tokens_revoked']) {
      const revoked = oauth.revoke(where)
      const statuses: number[] = []
      for (const type of order) {
        const bots = revoked.map((t) => t.botUserId)
        const body = uninstallEvent(type, where, type === 'tokens_revoked' ? { bot: bots } : {})
        statuses.push((await deliverEvent(url, body)).status)
      }
      return statuses
    },
    posted() {
      return [...messages.values()]
    },
    close: async () => {
      // bolt's stop() resolves before its socket is closed; give it a moment to close cleanly.
      for (let i = 0; i < 50 && [...wss.clients].some((c) => c.readyState === c.OPEN); i++) {
        await new Promise((r) => setTimeout(r, 10))
      }
      for (const client of wss.clients) client.terminate()
      wss.close()
      await closeServer()
    },
  }
}

/** Web API methods the fake holds to Tier 3 per workspace and method. */
const TIERED = new Set(['chat.postMessage', 'chat.update', 'conversations.history'])

/** A response_url as Slack hands it out, and what has been done with it. */
interface ResponseUrl {
  /** A slash command's, or a click's (block_actions). */
  kind: 'command' | 'click'
  user: string | undefined
  /** Where its in-channel posts go. */
  channel: string
  uses: number
  createdAt: number
  /** A click's: the message whose control was used, which `replace_original` replaces. */
  source?: string
  /** A command's: the message it last posted in the channel, which `replace_original` replaces. */
  posted?: string
}

function tooMany(res: ServerResponse, retryAfter: number): void {
  res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(retryAfter) })
  res.end(JSON.stringify({ ok: false, error: 'ratelimited' }))
}

/** Signs a body the way Slack does: v0=hex(HMAC-SHA256(secret, `v0:${ts}:${body}`)). */
export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`
}

/** POSTs a form-encoded slash command to an HTTP-mode app, signed (or deliberately not). */
export async function deliverCommand(
  url: string,
  fields: Record<string, string>,
  options: { secret?: string; timestamp?: number; signature?: string; omitHeaders?: boolean } = {},
): Promise<{ status: number; body: string; ms: number }> {
  const body = new URLSearchParams(fields).toString()
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000)
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  if (!options.omitHeaders) {
    headers['x-slack-request-timestamp'] = String(timestamp)
    headers['x-slack-signature'] =
      options.signature ?? sign(options.secret ?? SIGNING_SECRET, timestamp, body)
  }
  const t0 = performance.now()
  const res = await fetch(url, { method: 'POST', headers, body })
  return { status: res.status, body: await res.text(), ms: performance.now() - t0 }
}

/** POSTs an Events API delivery (JSON) to an HTTP-mode app, signed as Slack signs it. */
export async function deliverEvent(url: string, body: unknown): Promise<{ status: number; body: string }> {
  const raw = JSON.stringify(body)
  const timestamp = Math.floor(Date.now() / 1000)
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': sign(SIGNING_SECRET, timestamp, raw),
    },
    body: raw,
    signal: AbortSignal.timeout(3_000),
  })
  return { status: res.status, body: await res.text() }
}

/**
 * POSTs an interactive payload to an HTTP-mode app as Slack does (form-encoded `payload=<json>`,
 * signed); Slack gives up after 3 s, and so does this (it rejects).
 */
export async function deliverInteraction(
  url: string,
  payload: unknown,
): Promise<{ status: number; body: string; ms: number }> {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString()
  const timestamp = Math.floor(Date.now() / 1000)
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': sign(SIGNING_SECRET, timestamp, body),
  }
  const t0 = performance.now()
  const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(3_000) })
  return { status: res.status, body: await res.text(), ms: performance.now() - t0 }
}

function parseBody(contentType: string | undefined, raw: string): Record<string, unknown> {
  if (contentType?.startsWith('application/json')) return JSON.parse(raw || '{}') as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const [k, v] of new URLSearchParams(raw)) {
    // The WebClient JSON-encodes nested values (blocks, metadata) inside form fields.
    out[k] = k === 'blocks' || k === 'attachments' || k === 'metadata' ? JSON.parse(v) : v
  }
  return out
}

/**
 * Block Kit limits Slack enforces with `invalid_blocks`: ≤ 50 blocks (100 in a modal); block_id ≤ 255
 * and unique; a header is plain_text of ≤ 150 characters; section text 1–3,000; a context 1–10
 * elements; an actions block 1–25 elements with distinct action_ids; and each element's own limits.
 */
export function invalidBlocks(blocks: unknown, most = 50): string | undefined {
  if (blocks === undefined) return undefined
  if (!Array.isArray(blocks)) return 'blocks must be an array'
  if (blocks.length > most) return `${blocks.length} blocks; the most is ${most}`
  const ids = new Set<string>()
  for (const [i, block] of (blocks as Array<Record<string, unknown>>).entries()) {
    const at = `blocks[${i}]`
    if (block.block_id !== undefined) {
      const id = String(block.block_id)
      if (id.length === 0 || id.length > 255) return `${at}: block_id of 1-255 characters`
      if (ids.has(id)) return `${at}: block_id ${id} is not unique`
      ids.add(id)
    }
    const text = block.text as { type?: string; text?: string } | undefined
    const elements = (block.elements as Array<Record<string, unknown>> | undefined) ?? []
    if (block.type === 'header' && (text?.type !== 'plain_text' || (text.text?.length ?? 0) > 150))
      return `${at}: a header needs plain_text of at most 150 characters`
    if (block.type === 'section') {
      if (text === undefined && block.fields === undefined) return `${at}: a section needs text or fields`
      if (text !== undefined && ((text.text?.length ?? 0) === 0 || (text.text?.length ?? 0) > 3_000))
        return `${at}: section text of 1-3000 characters`
    }
    if (block.type === 'context' && (elements.length === 0 || elements.length > 10))
      return `${at}: a context has 1-10 elements`
    if (block.type === 'actions') {
      if (elements.length === 0 || elements.length > 25) return `${at}: an actions block has 1-25 elements`
      const actionIds = elements.map((e) => e.action_id).filter((a) => a !== undefined)
      if (new Set(actionIds).size !== actionIds.length) return `${at}: action_ids in a block must differ`
    }
    if (block.type === 'input') {
      const label = block.label as { type?: string; text?: string } | undefined
      if (
        label?.type !== 'plain_text' ||
        (label.text?.length ?? 0) === 0 ||
        (label.text?.length ?? 0) > 2_000
      )
        return `${at}: an input needs a plain_text label of 1-2000 characters`
      if (block.element === undefined) return `${at}: an input needs an element`
    }
    const own = [
      ...elements,
      ...(block.element === undefined ? [] : [block.element as Record<string, unknown>]),
    ]
    for (const [j, element] of own.entries()) {
      const invalid = invalidElement(element)
      if (invalid !== undefined) return `${at}.elements[${j}]: ${invalid}`
    }
  }
  return undefined
}

/**
 * An element's limits: action_id ≤ 255; a button's plain_text ≤ 75 and value ≤ 2,000; a
 * static_select's 1–100 options, each plain_text ≤ 75 with a value ≤ 75 (@slack/types), placeholder ≤ 150;
 * a plain_text_input's min_length 0–3,000 and max_length 1–3,000, min ≤ max.
 */
function invalidElement(e: Record<string, unknown>): string | undefined {
  const plain = (t: unknown, most: number): boolean => {
    const o = t as { type?: string; text?: string } | undefined
    return o?.type === 'plain_text' && (o.text?.length ?? 0) > 0 && (o.text?.length ?? 0) <= most
  }
  if (e.action_id !== undefined && (String(e.action_id).length === 0 || String(e.action_id).length > 255))
    return 'action_id of 1-255 characters'
  switch (e.type) {
    case 'button':
      if (!plain(e.text, 75)) return 'a button needs plain_text of 1-75 characters'
      if (e.value !== undefined && String(e.value).length > 2_000)
        return 'a button value over 2000 characters'
      return undefined
    case 'static_select': {
      const options = (e.options as Array<{ text?: unknown; value?: string }> | undefined) ?? []
      if (options.length === 0 || options.length > 100) return 'a select has 1-100 options'
      if (e.placeholder !== undefined && !plain(e.placeholder, 150)) return 'placeholder of 1-150 characters'
      for (const o of options) {
        if (!plain(o.text, 75)) return 'an option needs plain_text of 1-75 characters'
        if ((o.value?.length ?? 0) === 0 || (o.value?.length ?? 0) > 75)
          return 'an option value of 1-75 characters'
      }
      if (new Set(options.map((o) => o.value)).size !== options.length) return 'option values must differ'
      return undefined
    }
    case 'plain_text_input': {
      const min = e.min_length as number | undefined
      const max = e.max_length as number | undefined
      if (min !== undefined && (min < 0 || min > 3_000)) return 'min_length of 0-3000'
      if (max !== undefined && (max < 1 || max > 3_000)) return 'max_length of 1-3000'
      if (min !== undefined && max !== undefined && min > max) return 'min_length over max_length'
      if (e.placeholder !== undefined && !plain(e.placeholder, 150)) return 'placeholder of 1-150 characters'
      return undefined
    }
    default:
      return undefined
  }
}

/**
 * What Slack checks on a modal: type modal; title, submit and close plain_text of ≤ 24 characters;
 * callback_id ≤ 255; private_metadata ≤ 3,000; 1–100 blocks, each within the Block Kit limits.
 */
export function invalidModal(view: Record<string, unknown>): string | undefined {
  if (view.type !== 'modal') return 'view.type must be modal'
  for (const key of ['title', 'submit', 'close']) {
    const t = view[key] as { type?: string; text?: string } | undefined
    if (t === undefined && key !== 'title') continue
    if (t?.type !== 'plain_text' || (t.text?.length ?? 0) === 0 || (t.text?.length ?? 0) > 24)
      return `view.${key} must be plain_text of 1-24 characters`
  }
  if (String(view.callback_id ?? '').length > 255) return 'view.callback_id over 255 characters'
  if (String(view.private_metadata ?? '').length > 3_000) return 'view.private_metadata over 3000 characters'
  const blocks = view.blocks as unknown[] | undefined
  if (!Array.isArray(blocks) || blocks.length === 0 || blocks.length > 100)
    return 'view.blocks must hold 1-100 blocks'
  return invalidBlocks(blocks, 100)
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}
