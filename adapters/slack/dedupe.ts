/** Remembers keys for a while, so a redelivered command or event starts no second run. */
export class RecentKeys {
  readonly #ttlMs: number
  readonly #seen = new Map<string, number>()

  constructor(ttlMs = 10 * 60_000) {
    this.#ttlMs = ttlMs
  }

  /** True the first time a key is seen within the TTL. */
  first(key: string): boolean {
    const now = Date.now()
    for (const [k, at] of this.#seen) {
      if (now - at < this.#ttlMs) break
      this.#seen.delete(k)
    }
    if (this.#seen.has(key)) return false
    this.#seen.set(key, now)
    return true
  }
}
