/**
 * Parking: a run whose live steps all wait for people is ended in this process without ending it in
 * the journal. It then holds no worker, no model slot and no memory, only its rows; an answer that
 * decides a question, or the earliest deadline, queues it again (asks/wake.ts).
 */
import type { Logger } from 'pino'
import type { FlowEvent } from '../../engine/index.ts'
import type { JournalAsker } from '../asks/asker.ts'
import type { Runs } from './runs.ts'

export interface ParkPlan {
  runs: Runs
  runId: string
  /** The run's wake count when this process read it: a wake since then makes parking fail. */
  wakes: number
  asker: JournalAsker
  log: Logger
  /** Parked in the journal: end the run here (its asks left open), waking it at `wakeAt`. */
  park(wakeAt: number | undefined): void
}

export class Parker {
  readonly #plan: ParkPlan
  /** Calls in flight per step, from the run's events. */
  readonly #running = new Map<string, number>()
  #wakes: number
  #busy = false
  #parked = false
  #queued = false

  constructor(plan: ParkPlan) {
    this.#plan = plan
    this.#wakes = plan.wakes
  }

  event(event: FlowEvent): void {
    if (event.type === 'step.started') this.#running.set(event.step, (this.#running.get(event.step) ?? 0) + 1)
    else if (
      event.type === 'step.completed' ||
      event.type === 'step.failed' ||
      event.type === 'step.cancelled'
    ) {
      const n = this.#running.get(event.step) ?? 0
      if (n <= 1) this.#running.delete(event.step)
      else this.#running.set(event.step, n - 1)
    } else return
    this.check()
  }

  /** Something changed: after this turn's microtasks, park if every live step waits for people. */
  check(): void {
    if (this.#parked || this.#queued) return
    this.#queued = true
    setImmediate(() => {
      this.#queued = false
      void this.#try()
    })
  }

  #ready(): boolean {
    const { steps } = this.#plan.asker.waiting
    if (steps.size === 0 || this.#running.size === 0) return false
    for (const step of this.#running.keys()) if (!steps.has(step)) return false
    return true
  }

  async #try(): Promise<void> {
    if (this.#busy || this.#parked || !this.#ready()) return
    this.#busy = true
    const { runs, runId, asker, log } = this.#plan
    try {
      const { wakeAt } = asker.waiting
      const parked = await runs.store.park(runId, this.#wakes, wakeAt)
      if (parked && this.#ready()) {
        this.#parked = true
        this.#plan.park(wakeAt)
        return
      }
      // Woken meanwhile (an answer came in), or a step moved on while the store answered.
      if (parked) await runs.store.wake(runId)
      this.#wakes = (await runs.store.get(runId))?.wakes ?? this.#wakes
      // Settled before parking is tried again: a question an answer decided resumes its step first.
      await asker.wake()
    } catch (err) {
      log.warn({ err, event: 'run.park_failed' }, 'run.park_failed')
      return
    } finally {
      this.#busy = false
    }
    this.check()
  }
}
