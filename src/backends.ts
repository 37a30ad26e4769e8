import { join, resolve } from 'node:path'
import type { Logger } from 'pino'
import { type EditBudget, RedisEditBudget } from './bot/index.ts'
import { type Config, ConfigError } from './config/index.ts'
import { FairLimiter, type Limiter } from './engine/index.ts'
import { BullQueue, LocalQueue, RedisFairLimiter, type RunQueue } from './queue/index.ts'
import { JOURNAL_FILE, RedisHealth, RedisStore, type RunStore, SqliteStore } from './store/index.ts'

/** Where a deployment keeps its runs, how they reach workers, and how model calls are bounded. */
export interface Backends {
  store: RunStore
  queue: RunQueue
  limiter: Limiter
  /** Platform edit budgets shared by every process (Redis); absent, each process keeps its own. */
  budget?: EditBudget
  /** `sqlite` (one process) or `redis` (any number of receivers and workers). */
  kind: 'sqlite' | 'redis'
  /** Whether Redis answers now (with REDIS_URL): readiness, metrics and new commands go by it. */
  health?: RedisHealth
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
    const store = openJournal(config.CHORUS_DATA_DIR)
    return {
      kind: 'sqlite',
      store,
      queue: new LocalQueue(),
      limiter: new FairLimiter(config.CHORUS_CONCURRENCY),
      close: () => store.close(),
    }
  }
  const prefix = config.CHORUS_REDIS_PREFIX
  const { redis, health } = RedisHealth.connect(url, log)
  const store = new RedisStore({ redis, prefix })
  const queue = new BullQueue({
    url,
    prefix,
    log,
    lockMs: config.CHORUS_WORKER_LOCK_MS,
    stalledMs: config.CHORUS_WORKER_STALLED_MS,
    health,
  })
  const limiter = new RedisFairLimiter({ redis, prefix, concurrency: config.CHORUS_CONCURRENCY })
  const budget = new RedisEditBudget({ redis, prefix })
  return {
    kind: 'redis',
    store,
    queue,
    limiter,
    budget,
    health,
    async close() {
      health.close()
      await queue.close()
      await limiter.close()
      await budget.close()
      await store.close()
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}

/** The SQLite journal under CHORUS_DATA_DIR, written once at start: a folder it cannot write stops start-up, saying so. */
function openJournal(dir: string): SqliteStore {
  let store: SqliteStore | undefined
  try {
    store = new SqliteStore(join(dir, JOURNAL_FILE))
    store.probeWrite()
    return store
  } catch (err) {
    void store?.close()
    const reason = (err as { message?: string }).message ?? String(err)
    throw new ConfigError(
      'data_dir_unwritable',
      `Chorus cannot write its run journal in CHORUS_DATA_DIR (${resolve(dir)}): ${reason}. Point CHORUS_DATA_DIR at a folder Chorus can write to with free space (default ./.chorus), or make room on that disk.`,
      { cause: err },
    )
  }
}
