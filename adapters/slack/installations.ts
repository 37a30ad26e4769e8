/**
 * Slack installations in the run store, for bolt's OAuth (its InstallationStore) and for workers
 * (`botToken`): each workspace's (or Enterprise Grid org's) tokens sealed with CHORUS_ENCRYPTION_KEY,
 * found by team id, or by enterprise id for an org-wide install. With token rotation, a token that
 * expires within REFRESH_WINDOW_S is refreshed under a lock on the installation that every process
 * on the store respects, and the store is read again inside it: Slack revokes a refresh token on its
 * first use, so two processes trading the same one would leave one of them with a dead pair.
 */
import type { Installation, InstallationQuery, InstallationStore } from '@slack/bolt'
import type { WebClient } from '@slack/web-api'
import type { Logger } from 'pino'
import { ChorusError } from '../../src/errors.ts'
import type { Installations, Sealer } from '../../src/store/index.ts'

/** Refresh a rotating token this long before it expires (Slack's SDKs use 2 hours; tokens live 12). */
export const REFRESH_WINDOW_S = 2 * 3600
/** How long one refresh may hold the lock; a holder that dies frees it after this. */
const LOCK_MS = 15_000
/** How often a process waiting for another's refresh looks again. */
const POLL_MS = 50
/** After a refresh Slack refused, the current token is used this long before trying again. */
const RETRY_REFRESH_MS = 60_000

/** Which installation acts for an event or a reply: what Slack's payloads and a reply target name. */
export interface InstallKey {
  teamId?: string | undefined
  enterpriseId?: string | undefined
  /** An event of an org-wide install: found by enterprise id only. */
  isEnterpriseInstall?: boolean | undefined
}

/** Chorus is not installed (any more) in the workspace an event or a run comes from. */
export class WorkspaceRemovedError extends ChorusError {
  constructor(where: InstallKey) {
    super(
      'slack_workspace_removed',
      `Chorus is not installed in Slack workspace ${where.teamId ?? '-'} (org ${where.enterpriseId ?? '-'})`,
    )
  }
}

type AnyInstallation = Installation<'v1' | 'v2', boolean>

export class SlackInstallations implements InstallationStore {
  readonly #store: Installations
  readonly #sealer: Sealer
  readonly #oauth: { client: WebClient; clientId: string; clientSecret: string }
  readonly #log: Logger
  /** Refreshes this process is making, by key: its callers wait for the one. */
  readonly #refreshing = new Map<string, Promise<AnyInstallation>>()
  /** When a refresh last failed, by key: not retried on every call. */
  readonly #failedAt = new Map<string, number>()

  constructor(opts: {
    store: Installations
    sealer: Sealer
    /** Calls oauth.v2.access (no token of its own). */
    client: WebClient
    clientId: string
    clientSecret: string
    log: Logger
  }) {
    this.#store = opts.store
    this.#sealer = opts.sealer
    this.#oauth = { client: opts.client, clientId: opts.clientId, clientSecret: opts.clientSecret }
    this.#log = opts.log
  }

  /** bolt, after an install: kept under the org for an org-wide install, else under the workspace. */
  async storeInstallation(installation: AnyInstallation): Promise<void> {
    const enterprise = installation.isEnterpriseInstall === true
    const key = enterprise
      ? keyOf('enterprise', installation.enterprise?.id)
      : keyOf('team', installation.team?.id)
    await this.#put(key, installation)
    this.#log.info(
      {
        event: 'slack.installed',
        teamId: installation.team?.id,
        enterpriseId: installation.enterprise?.id,
        orgWide: enterprise,
        rotation: installation.bot?.refreshToken !== undefined,
      },
      'slack.installed',
    )
  }

  /**
   * bolt's authorize, on every event: the installation with a fresh token. Its refresh tokens are
   * left out, so bolt's own refresh (which takes no lock) never runs.
   */
  async fetchInstallation(query: InstallationQuery<boolean>): Promise<AnyInstallation> {
    const { installation } = await this.#current(query)
    const { bot, user, ...rest } = installation
    return {
      ...rest,
      user: withoutRefresh(user),
      ...(bot === undefined ? {} : { bot: withoutRefresh(bot) }),
    } as AnyInstallation
  }

  async deleteInstallation(query: InstallationQuery<boolean>): Promise<void> {
    await this.remove(query)
  }

  /** The bot token that acts for `where` (a worker's reply target), refreshed first when it expires soon. */
  async botToken(where: InstallKey): Promise<string> {
    const { installation } = await this.#current(where)
    const token = installation.bot?.token
    if (token === undefined) throw new WorkspaceRemovedError(where)
    return token
  }

  /** Whether an installation acts for `where`. */
  async installed(where: InstallKey): Promise<boolean> {
    return (await this.#find(where)) !== undefined
  }

  /** Deletes the installation `where` names (the app was uninstalled, or its bot token revoked); true when there was one. */
  async remove(where: InstallKey): Promise<boolean> {
    const found = await this.#find(where)
    if (found === undefined) return false
    return this.#store.deleteInstallation(found.key)
  }

  /** Forgets the user tokens of `userIds` (tokens_revoked); the bot's stays. */
  async revokeUserTokens(where: InstallKey, userIds: string[]): Promise<void> {
    const found = await this.#find(where)
    const user = found?.installation.user
    if (found === undefined || user === undefined || !userIds.includes(user.id) || user.token === undefined)
      return
    await this.#put(found.key, { ...found.installation, user: { id: user.id } } as AnyInstallation)
  }

  /** The installation for `where`, refreshed when its token expires soon. */
  async #current(where: InstallKey): Promise<{ key: string; installation: AnyInstallation }> {
    const found = await this.#find(where)
    if (found === undefined) throw new WorkspaceRemovedError(where)
    if (!expiring(found.installation)) return found
    if (Date.now() - (this.#failedAt.get(found.key) ?? 0) < RETRY_REFRESH_MS) return found
    let refresh = this.#refreshing.get(found.key)
    if (refresh === undefined) {
      refresh = this.#refreshLocked(found.key, where).finally(() => this.#refreshing.delete(found.key))
      this.#refreshing.set(found.key, refresh)
    }
    return { key: found.key, installation: await refresh }
  }

  /** Refreshes under the lock, or waits for the process that holds it to have stored the new pair. */
  async #refreshLocked(key: string, where: InstallKey): Promise<AnyInstallation> {
    const lockKey = `slack-refresh:${key}`
    const giveUpAt = Date.now() + 2 * LOCK_MS
    for (;;) {
      const token = await this.#store.lock(lockKey, LOCK_MS)
      if (token !== undefined) {
        try {
          // Read again inside the lock: another process may have refreshed it just now.
          const inside = await this.#get(key)
          if (inside === undefined) throw new WorkspaceRemovedError(where)
          return expiring(inside) ? await this.#refresh(key, inside) : inside
        } finally {
          await this.#store.unlock(lockKey, token)
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS))
      const now = await this.#get(key)
      if (now === undefined) throw new WorkspaceRemovedError(where)
      if (!expiring(now) || Date.now() > giveUpAt) return now
    }
  }

  /** Trades the bot's refresh token for a new pair (oauth.v2.access) and stores it. */
  async #refresh(key: string, installation: AnyInstallation): Promise<AnyInstallation> {
    const bot = installation.bot
    if (bot?.refreshToken === undefined) return installation
    const nowS = Math.floor(Date.now() / 1000)
    try {
      const res = await this.#oauth.client.oauth.v2.access({
        client_id: this.#oauth.clientId,
        client_secret: this.#oauth.clientSecret,
        grant_type: 'refresh_token',
        refresh_token: bot.refreshToken,
      })
      if (res.access_token === undefined || res.refresh_token === undefined || res.expires_in === undefined)
        throw new Error('oauth.v2.access answered without a token pair')
      const next = {
        ...installation,
        bot: {
          ...bot,
          token: res.access_token,
          refreshToken: res.refresh_token,
          expiresAt: nowS + res.expires_in,
        },
      } as AnyInstallation
      await this.#put(key, next)
      this.#failedAt.delete(key)
      this.#log.info(
        { event: 'slack.token_refreshed', key, expiresIn: res.expires_in },
        'slack.token_refreshed',
      )
      return next
    } catch (error) {
      // The current token may still work until it expires; calls after that fail and say so.
      const code = (error as { data?: { error?: string } }).data?.error
      this.#failedAt.set(key, Date.now())
      this.#log.error({ event: 'slack.token_refresh_failed', key, code }, 'slack.token_refresh_failed')
      return installation
    }
  }

  /** An org-wide install's events are found by org; otherwise the workspace's own install, then its org's. */
  async #find(where: InstallKey): Promise<{ key: string; installation: AnyInstallation } | undefined> {
    const keys =
      where.isEnterpriseInstall === true
        ? [keyOf('enterprise', where.enterpriseId)]
        : [
            ...(where.teamId ? [keyOf('team', where.teamId)] : []),
            ...(where.enterpriseId ? [keyOf('enterprise', where.enterpriseId)] : []),
          ]
    for (const key of keys) {
      const installation = await this.#get(key)
      if (installation !== undefined) return { key, installation }
    }
    return undefined
  }

  async #get(key: string): Promise<AnyInstallation | undefined> {
    const sealed = await this.#store.getInstallation(key)
    return sealed === undefined ? undefined : (JSON.parse(this.#sealer.open(sealed, key)) as AnyInstallation)
  }

  async #put(key: string, installation: AnyInstallation): Promise<void> {
    await this.#store.putInstallation(key, this.#sealer.seal(JSON.stringify(installation), key))
  }
}

function keyOf(kind: 'team' | 'enterprise', id: string | undefined): string {
  if (id === undefined || id === '')
    throw new ChorusError('slack_install_unkeyed', `a Slack install without a ${kind} id`)
  return `slack:${kind}:${id}`
}

/** A rotating bot token that expires within REFRESH_WINDOW_S. */
function expiring(installation: AnyInstallation): boolean {
  const bot = installation.bot
  if (bot?.refreshToken === undefined || bot.expiresAt === undefined) return false
  return bot.expiresAt - Date.now() / 1000 < REFRESH_WINDOW_S
}

function withoutRefresh<T extends { refreshToken?: string | undefined } | undefined>(tokens: T): T {
  if (tokens === undefined) return tokens
  const { refreshToken: _, ...rest } = tokens
  return rest as T
}
