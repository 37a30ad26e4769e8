/**
 * Chorus installed in many workspaces against the fake Slack: an HTTP-mode app with the OAuth
 * variables, and installs driven as a browser drives them (cookies kept from /slack/install to the
 * redirect back).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Logger, pino } from 'pino'
import { startSlack } from '../../adapters/slack/index.ts'
import { Bot, type Config, loadConfig } from '../../src/bot/index.ts'
import { OpenAIModel } from '../../src/llm/index.ts'
import { type RunStore, SqliteStore } from '../../src/store/index.ts'
import { type FakeOpenAI, type Handler, startFakeOpenAI } from '../fakes/openai.ts'
import {
  FAST_TIER,
  FAST_WRITES_PER_MIN,
  type FakeSlack,
  SIGNING_SECRET,
  startFakeSlack,
} from '../fakes/slack.ts'
import { type Approval, CLIENT_ID, CLIENT_SECRET } from '../fakes/slack-oauth.ts'

export const ENCRYPTION_KEY = randomBytes(32).toString('base64')

/** The variables of an OAuth deployment against `slack`. */
export function oauthEnv(slack: FakeSlack, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SLACK_CLIENT_ID: CLIENT_ID,
    SLACK_CLIENT_SECRET: CLIENT_SECRET,
    SLACK_STATE_SECRET: 'a-long-random-state-secret',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    CHORUS_ENCRYPTION_KEY: ENCRYPTION_KEY,
    SLACK_API_URL: slack.apiUrl,
    CHORUS_SLACK_WRITES_PER_MIN: FAST_WRITES_PER_MIN,
    ...extra,
  }
}

export interface OAuthSetup {
  slack: FakeSlack
  openai: FakeOpenAI
  bot: Bot
  store: RunStore
  config: Config
  /** The app's base URL: /slack/events, /slack/install, /slack/oauth_redirect. */
  base: string
  logs: Array<Record<string, unknown>>
  close(): Promise<void>
}

export async function setupOAuth(
  options: { handler?: Handler; store?: RunStore; slack?: FakeSlack; env?: Record<string, string> } = {},
): Promise<OAuthSetup> {
  const slack = options.slack ?? (await startFakeSlack({ tier3: FAST_TIER }))
  const openai = await startFakeOpenAI({ handler: options.handler ?? (() => ({ text: 'A good line' })) })
  const dir = mkdtempSync(join(tmpdir(), 'chorus-oauth-'))
  const store = options.store ?? new SqliteStore(join(dir, 'chorus.db'))
  const logs: Array<Record<string, unknown>> = []
  const logger: Logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) })
  const config = loadConfig(oauthEnv(slack, options.env))
  const model = new OpenAIModel({ apiKey: 'sk-test', baseURL: openai.url, model: 'fake', timeoutMs: 10_000 })
  const bot = await Bot.create({ config, model, logger, store })
  const handle = await startSlack(bot, config, { listen: { port: 0, host: '127.0.0.1' } })
  const address = handle.server?.address()
  if (address === null || typeof address !== 'object' || address === undefined)
    throw new Error('no HTTP server')
  const base = `http://127.0.0.1:${address.port}`
  // The Redirect URL set in the app's settings (OAuth & Permissions).
  slack.oauth.redirectUrl = `${base}/slack/oauth_redirect`
  return {
    slack,
    openai,
    bot,
    store,
    config,
    base,
    logs,
    async close() {
      await handle.stop()
      await bot.shutdown(1_000)
      if (options.store === undefined) await store.close()
      await openai.close()
      if (options.slack === undefined) await slack.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** What a browser keeps: cookies by name, sent back to the same host. */
export class Browser {
  readonly cookies = new Map<string, string>()

  /** GET without following redirects; keeps the Set-Cookie headers it is given. */
  async get(url: string): Promise<{ status: number; location: string | undefined; body: string }> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    const res = await fetch(url, { redirect: 'manual', headers: cookie === '' ? {} : { cookie } })
    for (const set of res.headers.getSetCookie()) {
      const [pair = ''] = set.split(';')
      const at = pair.indexOf('=')
      const value = pair.slice(at + 1)
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(set)) this.cookies.delete(pair.slice(0, at))
      else this.cookies.set(pair.slice(0, at), value)
    }
    return { status: res.status, location: res.headers.get('location') ?? undefined, body: await res.text() }
  }
}

/**
 * Installs Chorus as `approval`'s admin would: /slack/install, Slack's authorize page (approved),
 * back to /slack/oauth_redirect with the state cookie. Returns the last page's status and text.
 */
export async function install(
  setup: Pick<OAuthSetup, 'slack' | 'base'>,
  approval: Approval,
  browser = new Browser(),
): Promise<{ status: number; body: string }> {
  setup.slack.oauth.approveAs(approval)
  const start = await browser.get(`${setup.base}/slack/install`)
  if (start.status !== 302 || start.location === undefined)
    throw new Error(`/slack/install answered ${start.status}`)
  const authorize = await browser.get(start.location)
  if (authorize.status !== 302 || authorize.location === undefined)
    throw new Error(`the authorize page answered ${authorize.status}: ${authorize.body}`)
  return browser.get(authorize.location)
}
