import type { Check } from '../bot/index.ts'
import type { RedisHealth, RunStore } from '../store/index.ts'

/**
 * The store answers a read (a run id that cannot exist): SQLite is open, Redis is reachable. While
 * Redis is known to be down it fails at once rather than waiting for the read.
 */
export function storeCheck(store: RunStore, health?: RedisHealth): () => Promise<Check> {
  return async () => {
    if (health?.up === false) return { ok: false, reason: 'the store is on Redis, which is unreachable' }
    await store.get('readyz-probe')
    return { ok: true }
  }
}

/** Redis answers its health probe (a ping a second, and the connection's events). */
export function redisCheck(health: RedisHealth): () => Promise<Check> {
  return async () =>
    health.up
      ? { ok: true }
      : { ok: false, reason: `Redis is unreachable (for ${Math.round(health.forMs / 1000)} s)` }
}
