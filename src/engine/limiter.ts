/** Bounds work (model calls) in flight, fair between keys (runs): in one process, or across many. */
export interface Limiter {
  /** Runs `fn` when a slot is free; a signal that aborts while waiting withdraws it and rejects. */
  run<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T>
}

/**
 * Bounds concurrent work (model calls) across all runs, fair between keys (runs): waiting jobs are
 * served round-robin by key, so one run's 20-way fan-out cannot starve another user's run.
 */
export class FairLimiter implements Limiter {
  readonly concurrency: number
  #active = 0
  /** key → waiting jobs; Map order is the round-robin order. */
  readonly #queues = new Map<string, Job[]>()

  constructor(concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError(`concurrency must be a whole number >= 1, got ${concurrency}`)
    this.concurrency = concurrency
  }

  get active(): number {
    return this.#active
  }

  get waiting(): number {
    let n = 0
    for (const q of this.#queues.values()) n += q.length
    return n
  }

  /** Runs `fn` when a slot is free; a signal that aborts while waiting removes the job and rejects. */
  run<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        start: () => {
          signal?.removeEventListener('abort', onAbort)
          this.#active++
          fn()
            .then(resolve, reject)
            .finally(() => {
              this.#active--
              this.#next()
            })
        },
      }
      const onAbort = (): void => {
        const queue = this.#queues.get(key)
        const i = queue?.indexOf(job) ?? -1
        if (queue !== undefined && i >= 0) {
          queue.splice(i, 1)
          if (queue.length === 0) this.#queues.delete(key)
        }
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      const queue = this.#queues.get(key)
      if (queue === undefined) this.#queues.set(key, [job])
      else queue.push(job)
      this.#next()
    })
  }

  #next(): void {
    while (this.#active < this.concurrency) {
      const entry = this.#queues.entries().next()
      if (entry.done) return
      const [key, queue] = entry.value
      const job = queue.shift() as Job
      this.#queues.delete(key)
      if (queue.length > 0) this.#queues.set(key, queue)
      job.start()
    }
  }
}

interface Job {
  start(): void
}
