import { DelayedError, Queue, WaitingError, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
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
}

const QUEUE = 'runs'
/** A run given back because this worker cannot answer on its platform is tried again after this. */
const UNAVAILABLE_DELAY_MS = 5_000

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
  #worker: Worker | undefined
  #subscriber: Redis | undefined

  constructor(options: BullQueueOptions) {
    this.#options = options
    this.describe = `bullmq:${options.prefix}`
    // BullMQ: connections used by workers must retry forever rather than fail commands.
    this.#connection = new Redis(options.url, { maxRetriesPerRequest: null })
    this.#connection.on('error', (err) => options.log.error({ err }, 'queue.redis_error'))
    this.#queue = new Queue(QUEUE, { connection: this.#connection, prefix: `${options.prefix}:bull` })
    this.#channel = `${options.prefix}:stop`
  }

  async enqueue(runId: string): Promise<void> {
    await this.#queue.add(
      'run',
      { runId },
      { jobId: runId, removeOnComplete: true, removeOnFail: { age: 7 * 24 * 3600 }, attempts: 1 },
    )
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
        const outcome = await handler(runId)
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
    this.#worker.on('failed', (job, err) => log.error({ err, runId: job?.id }, 'queue.job_failed'))
    this.#worker.on('error', (err) => log.error({ err }, 'queue.worker_error'))
    await this.#worker.waitUntilReady()
  }

  async isActive(runId: string): Promise<boolean> {
    return (await this.#queue.getJobState(runId)) === 'active'
  }

  async publishStop(runId: string, by: string): Promise<void> {
    await this.#connection.publish(this.#channel, JSON.stringify({ runId, by }))
  }

  async onStop(listener: (runId: string, by: string) => void): Promise<void> {
    this.#subscriber ??= this.#connection.duplicate()
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return
      try {
        const { runId, by } = JSON.parse(message) as { runId: string; by: string }
        listener(runId, by)
      } catch (err) {
        this.#options.log.warn({ err }, 'queue.bad_stop_message')
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
    await this.#worker?.close()
    await this.#queue.close()
    this.#subscriber?.disconnect()
    await this.#connection.quit().catch(() => this.#connection.disconnect())
  }
}
