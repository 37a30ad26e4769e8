/**
 * The OAuth side of the fake Slack, as strict as Slack's: the authorize page (the user approves for
 * a workspace, or for a whole Enterprise Grid org; it redirects with a code and the app's state),
 * `oauth.v2.access` (a code once, within 10 minutes, with the redirect_uri it was issued for; with
 * token rotation a refresh token works once: a second use is `invalid_refresh_token`), tokens per
 * workspace (`auth.test` answers for each; expired ones are `token_expired`, revoked ones
 * `token_revoked`), and uninstalls, which revoke a workspace's tokens and send `app_uninstalled` and
 * `tokens_revoked` signed to the app's event URL, in either order.
 */
import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'

export const CLIENT_ID = '1111.2222'
export const CLIENT_SECRET = 'fake-client-secret'

/** Who approves the next install on the authorize page. */
export interface Approval {
  teamId?: string
  teamName?: string
  enterpriseId?: string
  /** An org-wide install: no team, keyed by enterprise. */
  orgWide?: boolean
  userId?: string
}

/** A bot token Slack issued, and for whom. */
export interface IssuedToken {
  token: string
  teamId: string | undefined
  enterpriseId: string | undefined
  orgWide: boolean
  botId: string
  botUserId: string
  /** Seconds since the epoch; undefined without rotation. */
  expiresAt: number | undefined
  revoked: boolean
}

export interface FakeOAuth {
  /** Who approves the next visit of the authorize page. */
  approveAs(approval: Approval): void
  /** Every authorize page visit, as its query arrived. */
  authorizations: Array<Record<string, string>>
  /** Bot tokens issued, in order. */
  tokens: IssuedToken[]
  /** Each successful refresh, and each refused one (`invalid_refresh_token`). */
  refreshes: Array<{ ok: boolean; refreshToken: string }>
  /** Issue rotating tokens (refresh token + expiry) from now on. */
  rotation: boolean
  /** How long issued tokens live, in seconds (Slack: 12 hours). */
  lifetimeSec: number
  /** Delays each oauth.v2.access answer (a slow Slack: refreshes overlap). */
  accessDelayMs: number
  /** The Redirect URL of the app's settings: redirect_uri must be it, and without one it is used. */
  redirectUrl: string | undefined
  /** Revokes the tokens of a workspace (or an org-wide install's, by enterprise id). */
  revoke(where: { teamId?: string; enterpriseId?: string }): IssuedToken[]
  /** The live token for a workspace, if any. */
  tokenOf(where: { teamId?: string; enterpriseId?: string }): IssuedToken | undefined
}

export interface OAuthHandlers extends FakeOAuth {
  /** GET /oauth/v2/authorize */
  authorize(query: URLSearchParams, res: ServerResponse): void
  /** POST /api/oauth.v2.access */
  access(args: Record<string, unknown>, basic: string | undefined): Record<string, unknown>
  /** Why Slack would refuse `token`, or undefined when it is live. */
  refusal(token: string | undefined): string | undefined
  /** auth.test's answer for an installed token (undefined: not one of these). */
  authTest(token: string | undefined): Record<string, unknown> | undefined
}

export function fakeOAuth(): OAuthHandlers {
  let approval: Approval = {}
  const codes = new Map<
    string,
    { approval: Approval; redirectUri: string | undefined; at: number; used: boolean }
  >()
  const refreshTokens = new Map<string, { used: boolean; issued: IssuedToken }>()
  let n = 0
  const self: OAuthHandlers = {
    authorizations: [],
    tokens: [],
    refreshes: [],
    rotation: false,
    lifetimeSec: 12 * 3600,
    redirectUrl: undefined,
    accessDelayMs: 0,
    approveAs(next) {
      approval = next
    },
    authorize(query, res) {
      self.authorizations.push(Object.fromEntries(query))
      if (query.get('client_id') !== CLIENT_ID) return page(res, 400, 'Invalid client_id parameter')
      if ((query.get('scope') ?? '') === '') return page(res, 400, 'Invalid permissions requested')
      const redirect = query.get('redirect_uri') ?? self.redirectUrl
      if (redirect === undefined) return page(res, 400, 'No redirect URL is configured for this app')
      if (self.redirectUrl !== undefined && redirect !== self.redirectUrl)
        return page(res, 400, 'redirect_uri did not match any configured URIs')
      const code = `code-${randomBytes(8).toString('hex')}`
      codes.set(code, {
        approval,
        redirectUri: query.get('redirect_uri') ?? undefined,
        at: Date.now(),
        used: false,
      })
      const to = new URL(redirect)
      to.searchParams.set('code', code)
      const state = query.get('state')
      if (state !== null) to.searchParams.set('state', state)
      res.writeHead(302, { location: to.toString() })
      res.end()
    },
    access(args, basic) {
      const [id, secret] = basic === undefined ? [args.client_id, args.client_secret] : basic.split(':')
      if (id !== CLIENT_ID) return { ok: false, error: 'invalid_client_id' }
      if (secret !== CLIENT_SECRET) return { ok: false, error: 'bad_client_secret' }
      if (args.grant_type === 'refresh_token') return refresh(String(args.refresh_token ?? ''))
      const entry = codes.get(String(args.code ?? ''))
      if (entry === undefined || entry.used || Date.now() - entry.at > 600_000)
        return { ok: false, error: 'invalid_code' }
      entry.used = true
      // Slack: the redirect_uri of the exchange must be the one the authorize page was given.
      if ((args.redirect_uri ?? undefined) !== entry.redirectUri)
        return { ok: false, error: 'bad_redirect_uri' }
      return grant(entry.approval)
    },
    refusal(token) {
      const issued = self.tokens.find((t) => t.token === token)
      if (issued === undefined) return 'invalid_auth'
      if (issued.revoked) return 'token_revoked'
      if (issued.expiresAt !== undefined && issued.expiresAt < Date.now() / 1000) return 'token_expired'
      return undefined
    },
    authTest(token) {
      const issued = self.tokens.find((t) => t.token === token)
      if (issued === undefined) return undefined
      return {
        ok: true,
        url: issued.orgWide
          ? `https://${issued.enterpriseId}.enterprise.fake.slack/`
          : `https://${issued.teamId}.fake.slack/`,
        team: issued.teamId ?? null,
        user: 'chorus',
        team_id: issued.teamId ?? null,
        user_id: issued.botUserId,
        bot_id: issued.botId,
        ...(issued.enterpriseId === undefined ? {} : { enterprise_id: issued.enterpriseId }),
        is_enterprise_install: issued.orgWide,
      }
    },
    revoke(where) {
      const hit = self.tokens.filter((t) => !t.revoked && matches(t, where))
      for (const t of hit) t.revoked = true
      return hit
    },
    tokenOf(where) {
      return self.tokens.findLast((t) => !t.revoked && matches(t, where))
    },
  }

  function grant(a: Approval): Record<string, unknown> {
    const orgWide = a.orgWide === true
    const issued = issue({
      teamId: orgWide ? undefined : (a.teamId ?? 'T1'),
      enterpriseId: a.enterpriseId,
      orgWide,
      botId: `B${orgWide ? a.enterpriseId : a.teamId}`,
      botUserId: `U${orgWide ? a.enterpriseId : a.teamId}BOT`,
    })
    return {
      ok: true,
      app_id: 'A1',
      authed_user: { id: a.userId ?? 'U1' },
      scope: 'commands,chat:write,chat:write.public,app_mentions:read,channels:history,groups:history',
      token_type: 'bot',
      access_token: issued.token,
      bot_user_id: issued.botUserId,
      team: orgWide ? null : { id: issued.teamId, name: a.teamName ?? `Team ${issued.teamId}` },
      enterprise: a.enterpriseId === undefined ? null : { id: a.enterpriseId, name: `Org ${a.enterpriseId}` },
      is_enterprise_install: orgWide,
      ...pairOf(issued),
    }
  }

  function refresh(token: string): Record<string, unknown> {
    const entry = refreshTokens.get(token)
    if (entry === undefined || entry.used || entry.issued.revoked) {
      self.refreshes.push({ ok: false, refreshToken: token })
      return { ok: false, error: 'invalid_refresh_token' }
    }
    // One use: Slack revokes a refresh token as it issues the next pair.
    entry.used = true
    const old = entry.issued
    const issued = issue({ ...old })
    self.refreshes.push({ ok: true, refreshToken: token })
    return { ok: true, app_id: 'A1', token_type: 'bot', access_token: issued.token, ...pairOf(issued) }
  }

  function issue(
    who: Pick<IssuedToken, 'teamId' | 'enterpriseId' | 'orgWide' | 'botId' | 'botUserId'>,
  ): IssuedToken {
    n++
    const prefix = self.rotation ? 'xoxe.xoxb' : 'xoxb'
    const issued: IssuedToken = {
      ...who,
      token: `${prefix}-${who.orgWide ? who.enterpriseId : who.teamId}-${n}-${randomBytes(6).toString('hex')}`,
      expiresAt: self.rotation ? Math.floor(Date.now() / 1000) + self.lifetimeSec : undefined,
      revoked: false,
    }
    self.tokens.push(issued)
    return issued
  }

  function pairOf(issued: IssuedToken): Record<string, unknown> {
    if (issued.expiresAt === undefined) return {}
    const refreshToken = `xoxe-1-${randomBytes(12).toString('hex')}`
    refreshTokens.set(refreshToken, { used: false, issued })
    return { refresh_token: refreshToken, expires_in: issued.expiresAt - Math.floor(Date.now() / 1000) }
  }

  return self
}

function matches(t: IssuedToken, where: { teamId?: string; enterpriseId?: string }): boolean {
  return where.teamId !== undefined
    ? t.teamId === where.teamId
    : t.orgWide && t.enterpriseId === where.enterpriseId
}

function page(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/html' })
  res.end(`<html><body>${text}</body></html>`)
}

/** An Events API delivery of an uninstall event, as Slack sends it to the app's request URL. */
export function uninstallEvent(
  type: 'app_uninstalled' | 'tokens_revoked',
  where: { teamId?: string; enterpriseId?: string; orgWide?: boolean },
  tokens: { bot?: string[]; oauth?: string[] } = {},
): Record<string, unknown> {
  const event =
    type === 'app_uninstalled'
      ? { type, event_ts: `${Date.now() / 1000}` }
      : {
          type,
          tokens: {
            ...(tokens.oauth ? { oauth: tokens.oauth } : {}),
            ...(tokens.bot ? { bot: tokens.bot } : {}),
          },
          event_ts: `${Date.now() / 1000}`,
        }
  return {
    token: 'legacy',
    team_id: where.teamId ?? where.enterpriseId,
    ...(where.enterpriseId === undefined ? {} : { enterprise_id: where.enterpriseId }),
    api_app_id: 'A1',
    event,
    type: 'event_callback',
    event_id: `Ev${randomBytes(6).toString('hex')}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: where.enterpriseId ?? null,
        team_id: where.orgWide ? null : (where.teamId ?? null),
        user_id: 'UBOT',
        is_bot: true,
        is_enterprise_install: where.orgWide === true,
      },
    ],
    is_ext_shared_channel: false,
  }
}
