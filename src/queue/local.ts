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
  /** Parked runs' wake times (see `#later`). */
  readonly #wakes = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined
  #timerAt: number | undefined
  readonly #wake: Array<(runId: string) => void> = []
  #handler: ((runId: string) => Promise<WorkOutcome>) | undefined
  #concurrency = Number.POSITIVE_INFINITY
  #closed = false

  async enqueue(runId: string, options: { at?: number; key?: string } = {}): Promise<void> {
    if (this.#closed) return
    if (options.at !== undefined && options.at > Date.now()) {
      this.#later(runId, options.at)
      return
    }
    // Woken now: an earlier-set wake of this run is not needed any more.
    this.#wakes.delete(runId)
    if (this.#active.has(runId)) {
      if (options.key !== undefined || options.at !== undefined) this.#again.add(runId)
      return
    }
    if (this.#pending.includes(runId)) return
    this.#pending.push(runId)
    this.#next()
  }

  /**
   * Runs to wake later (parked runs' deadlines), earliest per run, behind one timer for the earliest
   * of all: a parked run costs an entry here, not a timer. Unref'd: the next start's journal scan
   * sets them again.
   */
  #later(runId: string, at: number): void {
    const known = this.#wakes.get(runId)
    if (known !== undefined && known <= at) return
    this.#wakes.set(runId, at)
    if (this.#timerAt !== undefined && this.#timerAt <= at) return
    clearTimeout(this.#timer)
    this.#timerAt = at
    this.#timer = setTimeout(() => this.#due(), Math.min(at - Date.now(), 2 ** 31 - 1))
    this.#timer.unref()
  }

  #due(): void {
    this.#timer = undefined
    this.#timerAt = undefined
    const now = Date.now()
    let next: number | undefined
    for (const [runId, at] of [...this.#wakes]) {
      if (at <= now) void this.enqueue(runId, { key: 'deadline' })
      else next = next === undefined ? at : Math.min(next, at)
    }
    if (next !== undefined) {
      const at = next
      this.#timerAt = at
      this.#timer = setTimeout(() => this.#due(), Math.min(at - Date.now(), 2 ** 31 - 1))
      this.#timer.unref()
    }
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
    clearTimeout(this.#timer)
    this.#wakes.clear()
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
