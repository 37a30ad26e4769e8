/**
 * Replies on the bot token per workspace, in this process: each is edited with chat.update, whose
 * Tier 3 (about 50 a minute) the whole workspace shares. One reply that streams spends about one
 * edit a second while its model writes, so the budget streams only a few at once; a slash command
 * that starts while they are live answers through its own response_url instead.
 */

/** How long a reply counts as live at most: one waiting for people (parked for hours) stops counting. */
const LIVE_MS = 60_000

export class BotReplies {
  readonly #slots: number
  /** Workspace → when each live reply started. */
  readonly #live = new Map<string, Map<symbol, number>>()

  /** `writesPerMin`: the workspace's chat.update budget (CHORUS_SLACK_WRITES_PER_MIN). */
  constructor(writesPerMin: number) {
    // At the default 45 a minute, one streaming reply at a time.
    this.#slots = Math.max(1, Math.floor(writesPerMin / 45))
  }

  /** Whether the workspace's chat.update budget already serves as many live replies as it streams. */
  busy(team: string): boolean {
    return this.#prune(team).size >= this.#slots
  }

  /** Counts a reply on the bot token until the returned function is called (or LIVE_MS passed). */
  begin(team: string): () => void {
    const live = this.#prune(team)
    const id = Symbol(team)
    live.set(id, performance.now())
    this.#live.set(team, live)
    return () => {
      live.delete(id)
      if (live.size === 0 && this.#live.get(team) === live) this.#live.delete(team)
    }
  }

  #prune(team: string): Map<symbol, number> {
    const live = this.#live.get(team) ?? new Map<symbol, number>()
    const since = performance.now() - LIVE_MS
    for (const [id, at] of live) if (at < since) live.delete(id)
    if (live.size === 0) this.#live.delete(team)
    return live
  }
}
