/**
 * One call of a step as its run makes it: its tries, each within the time left (clock.ts), the
 * waits between them (attempt.ts), and the race between the step and its signal: a call settles as
 * soon as it is aborted or times out, even if the step ignores its signal. No listener, timer or
 * promise is made for what a call does not use (a signal nobody reads, a timeout nobody set).
 */
import { abortedOutcome, retryDelay } from './attempt.ts'
import { StepClock } from './clock.ts'
import { TryContext, type TryOwner } from './context.ts'
import { StepTimeoutError } from './errors.ts'
import type { FlowEventBody } from './events.ts'
import type { NodeDef, StartFn, UsageReport } from './flow.ts'
import type { Outcome } from './gates.ts'
import { DEFAULT_STEP_OPTIONS, type RunOptions } from './options.ts'
import type { StepRecord } from './result.ts'

/** What a call needs of its run. */
export interface CallHost {
  readonly runId: string
  readonly options: RunOptions
  /** Milliseconds since the run started. */
  now(): number
  /** Numbers and reports an event; returns its id. */
  emit(body: FlowEventBody, causeId: number): number
  /** Adds a step's token usage to the run's. */
  addUsage(usage: UsageReport): void
  /** The call ended with `outcome` (always after the call that started it returned). */
  settled(call: Call, outcome: Outcome): void
}

/** One call of a step, in flight. */
export class Call implements TryOwner {
  readonly node: NodeDef
  /** The epoch it started in: 0 at kickoff, then one per settlement (see gates.ts). */
  readonly epoch: number
  readonly payload: unknown
  readonly startedAt: number
  /** Id of its step.started event. */
  eventId = 0
  /** Time its calls spent waiting for a limiter slot while none of them held one. */
  queuedMs = 0
  /** Its outcome comes from `resume`: the step is not called. */
  resumed = false
  readonly #host: CallHost
  readonly #record: StepRecord
  #clock: StepClock | undefined
  /** The try in flight; undefined between tries. */
  #try: TryContext | undefined
  /** The wait before the next try. */
  #wait: ReturnType<typeof setTimeout> | undefined
  #aborted: { reason: unknown } | undefined
  #budgetSpent = false
  #done = false

  constructor(host: CallHost, node: NodeDef, record: StepRecord, epoch: number, payload: unknown) {
    this.#host = host
    this.node = node
    this.#record = record
    this.epoch = epoch
    this.payload = payload
    this.startedAt = host.now()
  }

  get runId(): string {
    return this.#host.runId
  }
  get step(): string {
    return this.node.name
  }
  /** The step's call number in the run (1 for the first). */
  get call(): number {
    return this.#record.calls
  }
  get asker(): RunOptions['asker'] {
    return this.#host.options.asker
  }
  get limiter(): RunOptions['limiter'] {
    return this.#host.options.limiter
  }
  get clock(): StepClock {
    this.#clock ??= new StepClock(undefined, () => {})
    return this.#clock
  }

  /** Calls the step: its tries under its options, else its run's `defaults`, else the engine's. */
  start(): void {
    const timeoutMs = this.#option('timeoutMs')
    if (timeoutMs !== undefined)
      this.#clock = new StepClock(timeoutMs, () => this.#spent(new StepTimeoutError(this.step, timeoutMs)))
    this.#attempt(1)
  }

  /** Settles the call as `outcome` on its own (resumed from the journal, or curtailed before it began). */
  settle(outcome: Outcome): void {
    this.#done = true
    queueMicrotask(() => this.#host.settled(this, outcome))
  }

  /**
   * Aborts the call: its step's signal aborts with `reason`, and the call settles at once as
   * cancelled (failed when `reason` is a StragglerError), whatever the step does.
   */
  abort(reason: unknown): void {
    if (this.#done || this.#aborted !== undefined) return
    this.#aborted = { reason }
    clearTimeout(this.#wait)
    this.#try?.abort(reason)
    queueMicrotask(() => this.#finish(abortedOutcome(reason)))
  }

  reportUsage(usage: UsageReport): void {
    const host = this.#host
    host.addUsage(usage)
    host.emit({ type: 'usage', runId: host.runId, step: this.step, usage, at: host.now() }, this.eventId)
  }

  waited(ms: number): void {
    this.queuedMs += ms
  }

  #attempt(n: number): void {
    this.#wait = undefined
    this.#record.attempts = n
    if (this.#aborted !== undefined) {
      this.#finish(abortedOutcome(this.#aborted.reason))
      return
    }
    const ctx = new TryContext(this, n, this.#host.options.services)
    this.#try = ctx
    const attemptMs = this.#option('attemptTimeoutMs')
    if (attemptMs !== undefined)
      this.clock.startTry(attemptMs, () => this.#timedOut(ctx, new StepTimeoutError(this.step, attemptMs)))
    let pending: unknown
    try {
      const { node } = this
      pending =
        node.kind === 'start'
          ? (node.fn as unknown as StartFn<unknown>)(ctx.view)
          : node.fn(this.payload, ctx.view)
    } catch (error) {
      queueMicrotask(() => this.#failed(ctx, error))
      return
    }
    Promise.resolve(pending).then(
      (value) => {
        // An abort or a timeout already decided this try (its settlement is queued).
        if (this.#try === ctx && ctx.aborted === undefined && this.#aborted === undefined)
          this.#finish({ ok: true, value })
      },
      (error: unknown) => this.#failed(ctx, error),
    )
  }

  /** Try `ctx` failed with `thrown`: retried after a wait while the policy and the budget allow. */
  #failed(ctx: TryContext, thrown: unknown): void {
    if (this.#try !== ctx || this.#done) return
    this.#endTry()
    if (this.#aborted !== undefined) {
      this.#finish(abortedOutcome(this.#aborted.reason))
      return
    }
    const error = ctx.aborted === undefined ? thrown : ctx.aborted.reason
    const delayMs = retryDelay({
      attempt: ctx.attempt,
      error,
      retries: this.#option('retries'),
      budgetSpent: this.#budgetSpent,
      budgetMs: this.#clock?.budgetMs(),
    })
    if (delayMs === undefined) {
      this.#finish({ ok: false, error, cancelled: false })
      return
    }
    const host = this.#host
    host.emit(
      {
        type: 'step.retrying',
        runId: host.runId,
        step: this.step,
        attempt: ctx.attempt,
        delayMs,
        error,
        at: host.now(),
      },
      this.eventId,
    )
    this.#wait = setTimeout(() => this.#attempt(ctx.attempt + 1), delayMs)
  }

  /** The try's own limit, or the call's budget, ran out: the try fails with `error` (and may be retried). */
  #timedOut(ctx: TryContext, error: StepTimeoutError): void {
    if (this.#try !== ctx || this.#done) return
    ctx.abort(error)
    queueMicrotask(() => this.#failed(ctx, error))
  }

  #spent(error: StepTimeoutError): void {
    this.#budgetSpent = true
    if (this.#try !== undefined) this.#timedOut(this.#try, error)
  }

  #endTry(): void {
    this.#try = undefined
    this.#clock?.endTry()
  }

  #finish(outcome: Outcome): void {
    if (this.#done) return
    this.#done = true
    this.#endTry()
    this.#clock?.stop()
    this.#host.settled(this, outcome)
  }

  #option<K extends 'timeoutMs' | 'attemptTimeoutMs' | 'retries'>(key: K) {
    return this.node.options[key] ?? this.#host.options.defaults?.[key] ?? DEFAULT_STEP_OPTIONS[key]
  }
}
