import type { LanguageModel, Samples } from './types.ts'

interface Deferred<T> {
  promise: Promise<T>
  settled: boolean
  resolve(value: T): void
  reject(error: unknown): void
}

function deferred<T>(): Deferred<T> {
  const d = { settled: false } as Deferred<T>
  d.promise = new Promise<T>((resolve, reject) => {
    d.resolve = (v) => {
      d.settled = true
      resolve(v)
    }
    d.reject = (e) => {
      d.settled = true
      reject(e)
    }
  })
  // A consumer that was cancelled never awaits its promise; that is not an unhandled rejection.
  d.promise.catch(() => {})
  return d
}

/** What a consumer step gives the feed: its model, its signal and which try it is. */
export interface Consumer {
  llm: LanguageModel
  signal: AbortSignal
  attempt: number
}

/**
 * One sampling shared by several flow steps: `answer(i)` is the i-th sample to arrive, `done()` the
 * whole sampling. The first consumer starts it; it is aborted once every consumer still waiting was
 * aborted (Stop, or the flow no longer needs them), and started again by a retry after it failed.
 */
export class SampleFeed {
  readonly #k: number
  readonly #run: (
    llm: LanguageModel,
    signal: AbortSignal,
    arrived: (text: string) => void,
  ) => Promise<Samples>
  readonly #slots: Array<Deferred<string>>
  #result: Deferred<Samples> = deferred()
  #state: 'idle' | 'running' | 'failed' | 'done' = 'idle'
  #arrived = 0
  #live = 0
  #controller = new AbortController()

  constructor(
    k: number,
    run: (llm: LanguageModel, signal: AbortSignal, arrived: (text: string) => void) => Promise<Samples>,
  ) {
    this.#k = k
    this.#run = run
    this.#slots = Array.from({ length: k }, () => deferred<string>())
  }

  /** The i-th sample to arrive (0-based). */
  answer(i: number, consumer: Consumer): Promise<string> {
    if (i < 0 || i >= this.#k) throw new RangeError(`no sample ${i} of ${this.#k}`)
    this.#ensure(consumer)
    return this.#watch(this.#slots[i] as Deferred<string>, consumer.signal)
  }

  /** The whole sampling, once it ended. */
  done(consumer: Consumer): Promise<Samples> {
    this.#ensure(consumer)
    return this.#watch(this.#result, consumer.signal)
  }

  #ensure(consumer: Consumer): void {
    if (this.#state === 'idle' || (this.#state === 'failed' && consumer.attempt > 1))
      this.#start(consumer.llm)
  }

  #start(llm: LanguageModel): void {
    this.#state = 'running'
    const controller = new AbortController()
    this.#controller = controller
    if (this.#result.settled) this.#result = deferred()
    for (let i = this.#arrived; i < this.#k; i++) if (this.#slots[i]?.settled) this.#slots[i] = deferred()
    const result = this.#result
    this.#run(llm, controller.signal, (text) => this.#slots[this.#arrived++]?.resolve(text)).then(
      (samples) => {
        this.#state = 'done'
        const failedUntil = this.#arrived + samples.failed
        for (let i = this.#arrived; i < failedUntil && i < this.#k; i++)
          this.#slots[i]?.reject(samples.error ?? new Error('the sample failed'))
        result.resolve(samples)
      },
      (error: unknown) => {
        this.#state = 'failed'
        for (const slot of this.#slots) if (!slot.settled) slot.reject(error)
        result.reject(error)
      },
    )
  }

  /** Counts the consumer as waiting until its promise settles or its signal aborts. */
  #watch<T>(d: Deferred<T>, signal: AbortSignal): Promise<T> {
    if (d.settled) return d.promise
    this.#live++
    const controller = this.#controller
    const onAbort = (): void => {
      if (--this.#live === 0) controller.abort(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    const release = (): void => {
      if (signal.aborted) return
      signal.removeEventListener('abort', onAbort)
      this.#live--
    }
    d.promise.then(release, release)
    return d.promise
  }
}
