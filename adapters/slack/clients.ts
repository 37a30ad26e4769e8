import { type WebAPICallResult, WebClient, type WebClientOptions } from '@slack/web-api'
import type { InstallKey, SlackInstallations } from './installations.ts'

/** Where a reply or a question acts: the workspace (and org) its run came from. */
export type Workspace = Pick<InstallKey, 'teamId' | 'enterpriseId'>

/**
 * The Web API clients replies are posted with: one per workspace, each calling with that workspace's
 * own token. With SLACK_BOT_TOKEN every workspace is the one.
 */
export interface SlackClients {
  for(where: Workspace): WebClient
  /** Whether Chorus is still installed where a run came from (absent: always, one workspace). */
  installed?(where: Workspace): Promise<boolean>
}

/** One workspace: every reply goes through `client`. */
export function oneClient(client: WebClient): SlackClients {
  return { for: () => client }
}

/**
 * Installed workspaces: each call reads its workspace's token from the store (refreshed there when it
 * expires soon) just before it goes out, so a run that outlives a token, or a worker that never saw
 * the event, still uses a live one; nothing about the token is in the job.
 */
export class InstalledClients implements SlackClients {
  readonly #installations: SlackInstallations
  readonly #options: WebClientOptions
  readonly #clients = new Map<string, WebClient>()

  constructor(installations: SlackInstallations, options: WebClientOptions) {
    this.#installations = installations
    this.#options = options
  }

  for(where: Workspace): WebClient {
    const key = `${where.enterpriseId ?? ''}/${where.teamId ?? ''}`
    let client = this.#clients.get(key)
    if (client === undefined) {
      const at = { teamId: where.teamId, enterpriseId: where.enterpriseId }
      client = new TokenPerCall(() => this.#installations.botToken(at), this.#options)
      this.#clients.set(key, client)
    }
    return client
  }

  installed(where: Workspace): Promise<boolean> {
    return this.#installations.installed(where)
  }
}

/** A WebClient whose every method call carries the token `token()` gives at that moment. */
class TokenPerCall extends WebClient {
  readonly #token: () => Promise<string>

  constructor(token: () => Promise<string>, options: WebClientOptions) {
    super(undefined, options)
    this.#token = token
  }

  override async apiCall(method: string, options: Record<string, unknown> = {}): Promise<WebAPICallResult> {
    return super.apiCall(method, { ...options, token: await this.#token() })
  }
}
