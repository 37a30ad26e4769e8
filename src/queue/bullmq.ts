import { randomUUID } from 'node:crypto'
import { DelayedError, Queue, WaitingError, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { REDIS_OPTIONS, type RedisHealth } from '../store/index.ts'
import type { QueueStats, RunQueue, WorkOutcome } from './types.ts'

export interface BullQueueOptions {
  url: string
  /** CHORUS_REDIS_PREFIX: every key this queue writes starts with it. */
  prefix: string
  log: Logger
  /**
   * How long a worker's lock on a run lasts without renewal (renewed every half of it). A killed
   * worker's runs are picked up by another once the lock has expired and a stall check ran:
   * within lockMs + 2 × stalledMs.
   */
  lockMs: number
  stalledMs: number
  /** The deployment's Redis health: outages are logged once by it, and make pick-ups cautious. */
  health?: RedisHealth
}

const QUEUE = 'runs'
/** A run given back because this worker cannot answer on its platform is tried again after this. */
const UNAVAILABLE_DELAY_MS = 5_000
/** A run another live process still works is looked at again after this. */
const OWNED_DELAY_MS = 3_000
/** Each working process says it is alive this often, for this long. */
const ALIVE_EVERY_MS = 2_000
const ALIVE_TTL_MS = 6_000
/** A run's owner mark outlives a process that never cleared it (its alive mark is what counts). */
const OWNER_TTL_MS = 24 * 60 * 60_000

// A job whose lock expired while Redis was down (its keys expire on Redis' clock) is moved back to the
// queue and may be picked up while the process that had it still works it. The run is taken only when
// its owner is gone; `cautious` (Redis came back moments ago, before live owners could say so) counts
// an owner without an alive mark as alive too.
// KEYS: owner. ARGV: me, alive key prefix, ownerTtlMs, cautious (1/0). Returns 1 taken, 0 owned elsewhere.
const OWN = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then
  if ARGV[4] == '1' or redis.call('EXISTS', ARGV[2] .. cur) == 1 then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1`
// KEYS: owner. ARGV: me.
const DISOWN = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`

type Script = (...args: Array<string | number>) => Promise<number>

/**
 * Runs as BullMQ jobs on Redis: the run id is the job id (a second enqueue is a no-op), any number
 * of processes work them, and a killed worker's jobs stall and move back to the queue, where another
 * worker resumes them from the journal's checkpoints. Stop requests travel on a pub/sub channel,
 * because BullMQ's own cancellation reaches only the worker it is called on.
 */
export class BullQueue implements RunQueue {
  readonly describe: string
  readonly #options: BullQueueOptions
  readonly #connection: Redis
  readonly #queue: Queue
  readonly #channel: string
  /** This process, as the owner of the runs it works. */
  readonly #me = randomUUID()
  /** Runs this process works now (a job it picks up again while it still works the run waits). */
  readonly #running = new Set<string>()
  readonly #own: Script
  readonly #disown: Script
  #worker: Worker | undefined
  #subscriber: Redis | undefined
  #alive: NodeJS.Timeout | undefined

  constructor(options: BullQueueOptions) {
    this.#options = options
    this.describe = `bullmq:${options.prefix}`
    // BullMQ: connections used by workers must retry forever rather than fail commands.
    this.#connection = new Redis(options.url, REDIS_OPTIONS)
    this.#connection.on('error', (err) => this.#quiet(err, 'queue.redis_error'))
    this.#queue = new Queue(QUEUE, { connection: this.#connection, prefix: `${options.prefix}:bull` })
    this.#queue.on('error', (err) => this.#quiet(err, 'queue.redis_error'))
    this.#channel = `${options.prefix}:stop`
    this.#connection.defineCommand('chorusQueueOwn', { numberOfKeys: 1, lua: OWN })
    this.#connection.defineCommand('chorusQueueDisown', { numberOfKeys: 1, lua: DISOWN })
    const client = this.#connection as unknown as { chorusQueueOwn: Script; chorusQueueDisown: Script }
    this.#own = client.chorusQueueOwn.bind(client)
    this.#disown = client.chorusQueueDisown.bind(client)
  }

  async enqueue(runId: string, options: { at?: number; key?: string } = {}): Promise<void> {
    const { at, key } = options
    const opts = { removeOnComplete: true, removeOnFail: { age: 7 * 24 * 3600 }, attempts: 1 }
    if (at !== undefined && at > Date.now()) return this.#deadline(runId, at, opts)
    // A wake is a job of its own (the run's first job may still be finishing); it makes the run's
    // deadline job unneeded (BullMQ refuses ':' in a job id).
    if (key !== undefined) await this.#queue.remove(`${runId}.deadline`).catch(() => 0)
    await this.#queue.add('run', { runId }, { ...opts, jobId: key === undefined ? runId : `${runId}.${key}` })
  }

  /** One delayed job per parked run, at its earliest deadline: moved when that changes, gone when woken. */
  async #deadline(runId: string, at: number, opts: Record<string, unknown>): Promise<void> {
    const jobId = `${runId}.deadline`
    const delay = at - Date.now()
    const job = await this.#queue.getJob(jobId)
    if (job !== undefined && (await job.getState()) === 'delayed') {
      if (job.timestamp + (job.opts.delay ?? 0) > at) await job.changeDelay(delay)
      return
    }
    if (job !== undefined) await job.remove().catch(() => undefined)
    await this.#queue.add('run', { runId }, { ...opts, jobId, delay })
  }

  async work(
    handler: (runId: string) => Promise<WorkOutcome>,
    options: { concurrency: number },
  ): Promise<void> {
    const { log, lockMs, stalledMs, prefix } = this.#options
    this.#worker = new Worker(
      QUEUE,
      async (job, token) => {
        const runId = (job.data as { runId: string }).runId
        if (!(await this.#take(runId))) {
          log.info({ event: 'queue.owned_elsewhere', runId }, 'queue.owned_elsewhere')
          await job.moveToDelayed(Date.now() + OWNED_DELAY_MS, token)
          throw new DelayedError()
        }
        let outcome: WorkOutcome | undefined
        try {
          outcome = await handler(runId)
        } finally {
          this.#running.delete(runId)
          await this.#letGo(runId, outcome === 'done').catch((err: unknown) =>
            this.#quiet(err, 'queue.disown_failed'),
          )
        }
        if (outcome === 'suspended') {
          // Shutting down: the job goes back to the queue for another worker.
          await job.moveToWait(token)
          throw new WaitingError()
        }
        if (outcome === 'unavailable') {
          await job.moveToDelayed(Date.now() + UNAVAILABLE_DELAY_MS, token)
          throw new DelayedError()
        }
      },
      {
        connection: this.#connection,
        prefix: `${prefix}:bull`,
        concurrency: options.concurrency,
        lockDuration: lockMs,
        stalledInterval: stalledMs,
        // A run can outlive many killed workers; the journal makes each pick-up cheap.
        maxStalledCount: 1_000,
      },
    )
    this.#worker.on('stalled', (jobId) => log.warn({ event: 'queue.stalled', runId: jobId }, 'queue.stalled'))
    this.#worker.on('failed', (job, err) => {
      if (!lostLock(err)) log.error({ err, runId: job?.id }, 'queue.job_failed')
    })
    this.#worker.on('error', (err) => {
      // A run finished here after its lock lapsed (Redis was away longer than the lock): the job was
      // moved back and whoever picks it up finds the run finished in the journal. Not an error.
      if (lostLock(err)) log.info({ event: 'queue.lock_lost', reason: err.message }, 'queue.lock_lost')
      else this.#quiet(err, 'queue.worker_error')
    })
    await this.#worker.waitUntilReady()
    await this.#sayAlive()
    this.#alive = setInterval(() => void this.#sayAlive(), ALIVE_EVERY_MS)
    this.#alive.unref()
  }

  /** Marks the run as this process's unless a live process works it (or it is this one's already). */
  async #take(runId: string): Promise<boolean> {
    if (this.#running.has(runId)) return false
    const key = this.#ownerKey(runId)
    // A run nobody owns (the common case) is taken in one command; the script decides the rest.
    const free = (await this.#connection.set(key, this.#me, 'PX', OWNER_TTL_MS, 'NX')) === 'OK'
    const health = this.#options.health
    const cautious = health !== undefined && (!health.up || health.forMs < ALIVE_TTL_MS)
    const taken = free
      ? 1
      : await this.#own(key, this.#me, `${this.#options.prefix}:alive:`, OWNER_TTL_MS, cautious ? 1 : 0)
    if (taken !== 1 || this.#running.has(runId)) return false
    this.#running.add(runId)
    return true
  }

  /**
   * Clears the run's owner mark. A run that is done (ended, or parked until a new job wakes it) is
   * let go with one DEL, whoever holds the mark: the journal says where it stands, for whoever takes
   * it next. A run handed back clears the mark only if it is still this process's.
   */
  async #letGo(runId: string, done: boolean): Promise<unknown> {
    const key = this.#ownerKey(runId)
    return done ? this.#connection.del(key) : this.#disown(key, this.#me)
  }

  async #sayAlive(): Promise<void> {
    await this.#connection
      .set(`${this.#options.prefix}:alive:${this.#me}`, '1', 'PX', ALIVE_TTL_MS)
      .catch((err: unknown) => this.#quiet(err, 'queue.alive_failed'))
  }

  #ownerKey(runId: string): string {
    return `${this.#options.prefix}:owner:${runId}`
  }

  #quiet(err: unknown, msg: string): void {
    if (this.#options.health !== undefined) this.#options.health.quiet(err, msg)
    else this.#options.log.error({ err }, msg)
  }

  /** Its first job is active, or a process that is alive owns the run (a woken run's job has its own id). */
  async isActive(runId: string): Promise<boolean> {
    if ((await this.#queue.getJobState(runId)) === 'active') return true
    const owner = await this.#connection.get(this.#ownerKey(runId))
    return owner !== null && (await this.#connection.exists(`${this.#options.prefix}:alive:${owner}`)) === 1
  }

  async publishStop(runId: string, by: string): Promise<void> {
    await this.#connection.publish(this.#channel, JSON.stringify({ runId, by }))
  }

  async onStop(listener: (runId: string, by: string) => void): Promise<void> {
    await this.#listen((m) => {
      if (m.wake !== true && typeof m.by === 'string') listener(m.runId, m.by)
    })
  }

  async publishWake(runId: string): Promise<void> {
    await this.#connection.publish(this.#channel, JSON.stringify({ runId, wake: true }))
  }

  async onWake(listener: (runId: string) => void): Promise<void> {
    await this.#listen((m) => {
      if (m.wake === true) listener(m.runId)
    })
  }

  /** Stop and wake messages share one channel. */
  async #listen(listener: (message: { runId: string; by?: string; wake?: boolean }) => void): Promise<void> {
    if (this.#subscriber === undefined) {
      this.#subscriber = this.#connection.duplicate()
      this.#subscriber.on('error', (err) => this.#quiet(err, 'queue.redis_error'))
    }
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return
      try {
        const parsed = JSON.parse(message) as { runId: string; by?: string; wake?: boolean }
        if (typeof parsed.runId === 'string') listener(parsed)
      } catch (err) {
        this.#options.log.warn({ err }, 'queue.bad_message')
      }
    })
    await this.#subscriber.subscribe(this.#channel)
  }

  async stats(): Promise<QueueStats> {
    const c = await this.#queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed')
    return {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
    }
  }

  async pause(): Promise<void> {
    // Do not wait for the active jobs: they are being suspended and handed back.
    await this.#worker?.pause(true)
  }

  async close(): Promise<void> {
    clearInterval(this.#alive)
    await this.#worker?.close()
    await this.#queue.close()
    this.#subscriber?.disconnect()
    await this.#connection.quit().catch(() => this.#connection.disconnect())
  }
}

/** BullMQ's answer when a worker completes a job whose lock it no longer holds. */
function lostLock(err: Error): boolean {
  return /^Missing lock for job/.test(err.message)
}
