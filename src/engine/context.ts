/**
 * What one try of a step receives: the run's services, usage reporting, `slot`, `ask`, its signal and
 * the time it has left. What a step does not read costs nothing: the signal (an AbortController),
 * `ask` and the functions are made the first time the step reads them.
 */
import { type Ask, type Asker, askFor } from './ask.ts'
import type { StepClock } from './clock.ts'
import type { FlowServices, StepContext, UsageReport } from './flow.ts'
import type { Limiter } from './limiter.ts'
import { inSlot } from './slots.ts'

/** What a services factory gets for one step try. */
export type StepServiceArgs = Pick<StepContext, 'runId' | 'step' | 'reportUsage' | 'slot' | 'remainingMs'> & {
  /** The step's call number in the run. */
  call: number
}

/** Services for every step, or a factory called per step try. */
export type Services = FlowServices | ((step: StepServiceArgs) => FlowServices)

/** What a try's context needs of its step call. */
export interface TryOwner {
  readonly runId: string
  readonly step: string
  /** The step's call number in the run (1 for the first): asks are numbered within it. */
  readonly call: number
  readonly clock: StepClock
  readonly asker: Asker | undefined
  readonly limiter: Limiter | undefined
  reportUsage(usage: UsageReport): void
  /** A model call of this try waited `ms` for its limiter slot. */
  waited(ms: number): void
}

/** The context of one try: the services (built for it by a factory) and the run's own members. */
export class TryContext {
  readonly step: string
  readonly attempt: number
  readonly runId: string
  readonly #owner: TryOwner
  #controller: AbortController | undefined
  /** Set once the try is aborted, with why. */
  #aborted: { reason: unknown } | undefined
  #ask: Ask | undefined
  #slot: StepContext['slot'] | undefined
  #remaining: (() => number | undefined) | undefined
  #report: ((usage: UsageReport) => void) | undefined

  constructor(owner: TryOwner, attempt: number, services: Services | undefined) {
    this.#owner = owner
    const base =
      typeof services === 'function'
        ? services({
            runId: owner.runId,
            step: owner.step,
            reportUsage: this.reportUsage,
            slot: this.slot,
            remainingMs: this.remainingMs,
            call: owner.call,
          })
        : services
    // The services first: the run's own members win over a service of the same name.
    if (base !== undefined) Object.assign(this, base)
    this.step = owner.step
    this.attempt = attempt
    this.runId = owner.runId
  }

  /** Aborted when the run is cancelled, the step times out, or it lost a race it was told to stop for. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#aborted !== undefined) this.#controller.abort(this.#aborted.reason)
    }
    return this.#controller.signal
  }

  get ask(): Ask {
    this.#ask ??= askFor({
      runId: this.#owner.runId,
      step: this.#owner.step,
      call: this.#owner.call,
      asker: this.#owner.asker,
      signal: this.signal,
      pause: () => {
        this.#owner.clock.waiting()
        return () => this.#owner.clock.leftQueue()
      },
    })
    return this.#ask
  }

  get slot(): StepContext['slot'] {
    const owner = this.#owner
    this.#slot ??= <T>(fn: (timeoutMs: number | undefined) => Promise<T>, own?: AbortSignal): Promise<T> =>
      inSlot(
        {
          limiter: owner.limiter,
          key: owner.runId,
          clock: owner.clock,
          signal: () => this.signal,
          onWaited: (ms) => owner.waited(ms),
        },
        fn,
        own,
      )
    return this.#slot
  }

  get remainingMs(): () => number | undefined {
    const clock = this.#owner.clock
    this.#remaining ??= () => clock.remainingMs()
    return this.#remaining
  }

  get reportUsage(): (usage: UsageReport) => void {
    const owner = this.#owner
    this.#report ??= (usage) => owner.reportUsage(usage)
    return this.#report
  }

  /** Aborts this try: its signal now if the step has it, or as soon as it reads it. */
  abort(reason: unknown): void {
    if (this.#aborted !== undefined) return
    this.#aborted = { reason }
    this.#controller?.abort(reason)
  }

  /** Why this try was aborted, if it was. */
  get aborted(): { reason: unknown } | undefined {
    return this.#aborted
  }

  /** The context as steps see it. */
  get view(): StepContext {
    return this as unknown as StepContext
  }
}
