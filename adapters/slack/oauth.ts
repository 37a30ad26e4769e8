/**
 * Installing Chorus in many workspaces: bolt serves /slack/install and /slack/oauth_redirect (state
 * signed with SLACK_STATE_SECRET and checked against the browser's cookie) and keeps each install in
 * the run store; `app_uninstalled` and `tokens_revoked` delete what they name (bolt-js never calls
 * deleteInstallation), idempotently and in any order; events of a workspace that removed Chorus are
 * acknowledged and dropped, logged once in a while rather than each time.
 */
import type { App } from '@slack/bolt'
import { WebClient } from '@slack/web-api'
import type { Logger } from 'pino'
import type { Config } from '../../src/bot/index.ts'
import { type Installations, Sealer } from '../../src/store/index.ts'
import { type SlackOAuth, webApiOptions } from './config.ts'
import { type InstallKey, SlackInstallations, WorkspaceRemovedError } from './installations.ts'
import { BOT_SCOPES } from './manifest.ts'

/** A removed workspace's events are logged at info at most this often (then at debug). */
const REMOVED_LOG_EVERY_MS = 10 * 60_000

/** The installations in the store, sealed with CHORUS_ENCRYPTION_KEY: what receivers and workers share. */
export function slackInstallations(
  auth: SlackOAuth,
  store: Installations,
  config: Config,
  log: Logger,
): SlackInstallations {
  return new SlackInstallations({
    store,
    sealer: new Sealer(auth.key),
    // One try, well inside the refresh lock's 15 s: a retried refresh would spend the token twice.
    client: new WebClient(undefined, {
      ...webApiOptions(config),
      timeout: 10_000,
      retryConfig: { retries: 0 },
    }),
    clientId: auth.clientId,
    clientSecret: auth.clientSecret,
    log,
  })
}

/** What bolt's HTTPReceiver and SocketModeReceiver take to serve the install pages. */
export function installerOptions(auth: SlackOAuth, installations: SlackInstallations, config: Config) {
  const api = config.SLACK_API_URL
  return {
    clientId: auth.clientId,
    clientSecret: auth.clientSecret,
    stateSecret: auth.stateSecret,
    scopes: [...BOT_SCOPES],
    installationStore: installations,
    ...(auth.publicUrl === undefined ? {} : { redirectUri: `${auth.publicUrl}/slack/oauth_redirect` }),
    installerOptions: {
      // /slack/install sends the browser straight to Slack with its state cookie set: the URL to give
      // as the app's install link (Slack's own links carry no state and would fail the check).
      directInstall: true,
      clientOptions: webApiOptions(config),
      // Slack's authorize page beside its Web API (slack.com/api/ → slack.com/oauth/v2/authorize).
      ...(api === undefined ? {} : { authorizationUrl: new URL('../oauth/v2/authorize', api).toString() }),
      // Socket Mode serves the install pages on PORT (events still come over the socket).
      port: config.PORT,
    },
  }
}

/** `app_uninstalled` deletes the installation; `tokens_revoked` the bot's (all of it) or the users' tokens. */
export function registerUninstall(app: App, installations: SlackInstallations, log: Logger): void {
  app.event('app_uninstalled', async ({ context }) => {
    const where = keyOf(context)
    const removed = await installations.remove(where)
    log.info(
      { event: 'slack.uninstalled', teamId: where.teamId, enterpriseId: where.enterpriseId, removed },
      'slack.uninstalled',
    )
  })
  app.event('tokens_revoked', async ({ event, context }) => {
    const where = keyOf(context)
    const bots = event.tokens.bot ?? []
    const users = event.tokens.oauth ?? []
    const removed = bots.length > 0 ? await installations.remove(where) : false
    if (users.length > 0) await installations.revokeUserTokens(where, users)
    log.info(
      {
        event: 'slack.tokens_revoked',
        teamId: where.teamId,
        enterpriseId: where.enterpriseId,
        bots: bots.length,
        users: users.length,
        removed,
      },
      'slack.tokens_revoked',
    )
  })
}

/**
 * app.error for OAuth: an event from a workspace that removed Chorus (bolt has acknowledged it) is
 * logged once per workspace per REMOVED_LOG_EVERY_MS; anything else is `other`'s.
 */
export function quietRemoved(log: Logger, other: (error: Error) => void): (error: Error) => void {
  const lastLogged = new Map<string, number>()
  return (error) => {
    const removed = findCause(error)
    if (removed === undefined) return other(error)
    const now = Date.now()
    const seen = lastLogged.get(removed.message)
    const level = seen === undefined || now - seen > REMOVED_LOG_EVERY_MS ? 'info' : 'debug'
    if (level === 'info') lastLogged.set(removed.message, now)
    if (lastLogged.size > 10_000) lastLogged.clear()
    log[level](
      { event: 'slack.event_from_removed_workspace', reason: removed.message },
      'slack.event_from_removed_workspace',
    )
  }
}

/** bolt wraps authorize's error twice (`original`); the WorkspaceRemovedError at the bottom, if that is what it was. */
function findCause(error: unknown): WorkspaceRemovedError | undefined {
  let e: unknown = error
  for (let i = 0; i < 5 && e !== undefined && e !== null; i++) {
    if (e instanceof WorkspaceRemovedError) return e
    e = (e as { original?: unknown; cause?: unknown }).original ?? (e as { cause?: unknown }).cause
  }
  return undefined
}

function keyOf(context: {
  teamId?: string
  enterpriseId?: string
  isEnterpriseInstall?: boolean
}): InstallKey {
  return {
    teamId: context.teamId,
    enterpriseId: context.enterpriseId,
    isEnterpriseInstall: context.isEnterpriseInstall,
  }
}
