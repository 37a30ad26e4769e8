import type { Check } from '../bot/index.ts'
import type { RunStore } from '../store/index.ts'

/** The store answers a read (a run id that cannot exist): SQLite is open, Redis is reachable. */
export function storeCheck(store: RunStore): () => Promise<Check> {
  return async () => {
    await store.get('readyz-probe')
    return { ok: true }
  }
}
