import type { REST } from 'discord.js'

/**
 * Which run each interaction token's webhook calls are for, per REST client, so a 429 that
 * discord.js reports by URL alone is the run's (its trace gets the wait). Entries go when the token
 * would have ended; a token is a credential, so it is kept in memory only, never logged.
 */
const byClient = new WeakMap<REST, Map<string, { runId: string; until: number }>>()

/** Notes that `token`'s webhook calls on `rest` are `runId`'s until `until` (ms since the epoch). */
export function noteTokenRun(rest: REST, token: string, runId: string, until: number): void {
  let runs = byClient.get(rest)
  if (runs === undefined) {
    runs = new Map()
    byClient.set(rest, runs)
  }
  const now = Date.now()
  // Forget ended tokens now and then (a map of live tokens only, however long the process runs).
  if (runs.size > 0 && runs.size % 256 === 0) for (const [t, r] of runs) if (r.until <= now) runs.delete(t)
  runs.set(token, { runId, until })
}

/** The run whose interaction webhook `url` calls, if one was noted on `rest`. */
export function runOfUrl(rest: REST, url: string): string | undefined {
  const token = /\/webhooks\/\d+\/([^/?]+)/.exec(url)?.[1]
  return token === undefined ? undefined : byClient.get(rest)?.get(token)?.runId
}
