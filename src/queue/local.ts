import type { QueueStats, RunQueue, WorkOutcome } from './types.ts'

/**
 * The embedded queue: runs are worked in this process as soon as they are accepted. A run this
 * process gives back (shutdown) stays in the journal, and the next start enqueues it again.
 */
export class LocalQueue implements RunQueue {
  readonly describe = 'local'
  readonly #pending: string[] = []
  readonly #active = new Set<string>()
  #handler: ((runId: string) => Promise<WorkOutcome>) | undefined
  #concurrency = Number.POSITIVE_INFINITY
  #closed = false

  async enqueue(runId: string): Promise<void> {
    if (this.#closed || this.#active.has(runId) || this.#pending.includes(runId)) return
    this.#pending.push(runId)
    this.#next()
  }

  async work(
    handler: (runId: string) => Promise<WorkOutcome>,
    options: { concurrency: number },
  ): Promise<void> {
    this.#handler = handler
    this.#concurrency = options.concurrency
    this.#next()
  }

  async isActive(runId: string): Promise<boolean> {
    return this.#active.has(runId)
  }

  /** Every run of this queue lives in this process, so there is nobody else to tell. */
  async publishStop(): Promise<void> {}

  async onStop(): Promise<void> {}

  async stats(): Promise<QueueStats> {
    return { waiting: this.#pending.length, active: this.#active.size, delayed: 0 }
  }

  async pause(): Promise<void> {
    this.#handler = undefined
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#pending.length = 0
  }

  #next(): void {
    const handler = this.#handler
    if (handler === undefined) return
    while (!this.#closed && this.#active.size < this.#concurrency && this.#pending.length > 0) {
      const runId = this.#pending.shift() as string
      this.#active.add(runId)
      handler(runId)
        .catch(() => 'done' as const)
        .finally(() => {
          this.#active.delete(runId)
          this.#next()
        })
    }
  }
}
