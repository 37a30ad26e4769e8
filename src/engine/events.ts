import type { UsageReport } from './flow.ts'
import type { RunResult } from './result.ts'

/**
 * Every event's place in the run: `id` counts from 1 in emission order; `causeId` is the event that
 * led to it (CrewAI's `triggered_by_event_id`): for a step.started, the completion (or run.started)
 * that fired its trigger; for a step's other events, its step.started; for run.first and
 * run.completed, the completion of the first or final step. Only run.started has none.
 */
export interface EventMeta {
  id: number
  causeId: number | undefined
}

/** What a run reports, in order; `at` is milliseconds since the run started. */
export type FlowEvent = EventMeta & FlowEventBody

/** An event before the engine numbers it. */
export type FlowEventBody =
  | {
      type: 'run.started'
      runId: string
      flow: string
      at: number
      /** Every step in declared order (shared by every run of the flow's shape: read, never change). */
      steps: ReadonlyArray<{ readonly name: string; readonly kind: string }>
      /** The parsed flow input. */
      input: unknown
    }
  | {
      type: 'step.started'
      runId: string
      step: string
      /** Which call of this step (1 for the first; router cycles call a step again). */
      call: number
      attempt: number
      /** True when the outcome comes from `resume` and the step is not called. */
      resumed: boolean
      at: number
    }
  | {
      type: 'step.retrying'
      runId: string
      step: string
      attempt: number
      delayMs: number
      error: unknown
      at: number
    }
  | {
      type: 'step.completed'
      runId: string
      step: string
      call: number
      resumed: boolean
      value: unknown
      durationMs: number
      /** Of `durationMs`, the time its model calls waited for a limiter slot. */
      queuedMs: number
      at: number
    }
  | {
      type: 'step.failed'
      runId: string
      step: string
      error: unknown
      durationMs: number
      queuedMs: number
      at: number
    }
  | { type: 'step.cancelled'; runId: string; step: string; reason: string; queuedMs: number; at: number }
  | { type: 'router.routed'; runId: string; step: string; label: string; at: number }
  | { type: 'usage'; runId: string; step: string; usage: UsageReport; at: number }
  | { type: 'run.first'; runId: string; step: string; value: unknown; at: number }
  | { type: 'run.completed'; runId: string; result: RunResult; at: number }

export type FlowEventType = FlowEvent['type']

/** An append-only log that any number of readers iterate from the beginning. */
export class EventLog<E> {
  readonly items: E[] = []
  #closed = false
  #wake: Array<() => void> = []

  push(event: E): void {
    this.items.push(event)
    this.#notify()
  }

  close(): void {
    this.#closed = true
    this.#notify()
  }

  #notify(): void {
    if (this.#wake.length === 0) return
    const wake = this.#wake
    this.#wake = []
    for (const fn of wake) fn()
  }

  async *read(): AsyncGenerator<E, void, undefined> {
    let i = 0
    for (;;) {
      if (i < this.items.length) yield this.items[i++] as E
      else if (this.#closed) return
      else await new Promise<void>((resolve) => this.#wake.push(resolve))
    }
  }
}
