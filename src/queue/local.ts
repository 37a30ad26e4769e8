import type { QueueStats, RunQueue, WorkOutcome } from './types.ts'

/**
 * The embedded queue: runs are worked in this process as soon as they are accepted. A run this
 * process gives back (shutdown) stays in the journal, and the next start enqueues it again.
 */
export class LocalQueue implements RunQueue {
  readonly describe = 'local'
  readonly #pending: string[] = []
  readonly #active = new Set<string>()
  /** Runs queued again while they were being worked: worked once more when that ends. */
  readonly #again = new Set<string>()
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #wake: Array<(runId: string) => void> = []
  #handler: ((runId: string) => Promise<WorkOutcome>) | undefined
  #concurrency = Number.POSITIVE_INFINITY
  #closed = false

  async enqueue(runId: string, options: { at?: number; key?: string } = {}): Promise<void> {
    if (this.#closed) return
    const delay = options.at === undefined ? 0 : options.at - Date.now()
    if (delay > 0) {
      // Unref'd: a timer alone does not keep the process up; the next start's journal scan sets it again.
      const timer = setTimeout(() => {
        this.#timers.delete(timer)
        void this.enqueue(runId, { key: options.key ?? 'deadline' })
      }, delay)
      timer.unref()
      this.#timers.add(timer)
      return
    }
    if (this.#active.has(runId)) {
      if (options.key !== undefined || options.at !== undefined) this.#again.add(runId)
      return
    }
    if (this.#pending.includes(runId)) return
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

  async publishWake(runId: string): Promise<void> {
    for (const listener of this.#wake) listener(runId)
  }

  async onWake(listener: (runId: string) => void): Promise<void> {
    this.#wake.push(listener)
  }

  async stats(): Promise<QueueStats> {
    return { waiting: this.#pending.length, active: this.#active.size, delayed: 0 }
  }

  async pause(): Promise<void> {
    this.#handler = undefined
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#pending.length = 0
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
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
          if (this.#again.delete(runId)) this.#pending.push(runId)
          this.#next()
        })
    }
  }
}
