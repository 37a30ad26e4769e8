import { join } from 'node:path'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { type Config, type EditBudget, RedisEditBudget } from './bot/index.ts'
import { FairLimiter, type Limiter } from './engine/index.ts'
import { BullQueue, LocalQueue, RedisFairLimiter, type RunQueue } from './queue/index.ts'
import { JOURNAL_FILE, RedisStore, type RunStore, SqliteStore } from './store/index.ts'

/** Where a deployment keeps its runs, how they reach workers, and how model calls are bounded. */
export interface Backends {
  store: RunStore
  queue: RunQueue
  limiter: Limiter
  /** Platform edit budgets shared by every process (Redis); absent, each process keeps its own. */
  budget?: EditBudget
  /** `sqlite` (one process) or `redis` (any number of receivers and workers). */
  kind: 'sqlite' | 'redis'
  close(): Promise<void>
}

/**
 * Without REDIS_URL: the journal in SQLite under CHORUS_DATA_DIR, runs worked in this process, the
 * limiter and the platform edit budgets in memory. With it: all four on Redis under
 * CHORUS_REDIS_PREFIX (BullMQ for the queue), so limits, budgets, dedupe, Stop and resumption hold
 * across every process.
 */
export function openBackends(config: Config, log: Logger): Backends {
  const url = config.REDIS_URL
  if (url === undefined) {
    const store = new SqliteStore(join(config.CHORUS_DATA_DIR, JOURNAL_FILE))
    return {
      kind: 'sqlite',
      store,
      queue: new LocalQueue(),
      limiter: new FairLimiter(config.CHORUS_CONCURRENCY),
      close: () => store.close(),
    }
  }
  const prefix = config.CHORUS_REDIS_PREFIX
  const redis = new Redis(url, { maxRetriesPerRequest: 3 })
  redis.on('error', (err) => log.error({ err }, 'redis.error'))
  const store = new RedisStore({ redis, prefix })
  const queue = new BullQueue({
    url,
    prefix,
    log,
    lockMs: config.CHORUS_WORKER_LOCK_MS,
    stalledMs: config.CHORUS_WORKER_STALLED_MS,
  })
  const limiter = new RedisFairLimiter({ redis, prefix, concurrency: config.CHORUS_CONCURRENCY })
  const budget = new RedisEditBudget({ redis, prefix })
  return {
    kind: 'redis',
    store,
    queue,
    limiter,
    budget,
    async close() {
      await queue.close()
      await limiter.close()
      await budget.close()
      await store.close()
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}
