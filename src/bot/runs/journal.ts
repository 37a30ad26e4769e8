import type { Logger } from 'pino'
import type { FlowEvent, RunResult } from '../../engine/index.ts'
import type { DeliveredView, ReplyTarget, RunStore, RunSummary } from '../../store/index.ts'
import { asMarkdown, describeFailure, type UsageLine } from '../reply/index.ts'
import { FINAL_STEP } from './refine.ts'
import { StepTimings } from './timings.ts'

/** Ended runs stay in the journal this long, so Retry and Stop can still find them. */
export const KEEP_ENDED_MS = 7 * 24 * 60 * 60_000
/** A journal write at the end of a run waits for the store at most this long when the run has no reply deadline. */
const FINAL_WRITE_BOUND_MS = 10 * 60_000

/** Starts a journal write the run does not wait for; a failure is logged. */
export function record(log: Logger, what: () => Promise<unknown>): void {
  what().catch((err: unknown) => log.error({ err }, 'journal.write_failed'))
}

/** One journaled run's writes: its steps as they end, its views as they are shown, its final output and its end. */
export class RunJournal {
  readonly #store: RunStore
  readonly #runId: string
  readonly #log: Logger
  readonly #boundMs: number
  /** Each step's call number, from `step.started`, for the failure of that call. */
  readonly #calls = new Map<string, number>()
  /** When each step call ran; cancelled ones wait for `finish` (they write no outcome). */
  readonly #timings = new StepTimings()
  readonly #cancelled: NonNullable<RunSummary['cancelled']> = []
  /** When this process began working the run. */
  readonly #startedAt = Date.now()
  /** A changed reply target not yet written: the view shown with it (a placeholder's message id) takes it along. */
  #target: ReplyTarget | undefined
  /** When the final view was shown: written with the run's end. */
  #finalShownAt: number | undefined

  constructor(store: RunStore, runId: string, log: Logger, deadlineMs: number | undefined) {
    this.#store = store
    this.#runId = runId
    this.#log = log
    // A write the run waits for waits for the store (an outage delays the run, it does not fail it),
    // but not past the reply's own deadline: then the run ends and the next pick-up finds the rest.
    this.#boundMs = Math.max(5_000, deadlineMs ?? FINAL_WRITE_BOUND_MS)
  }

  /** Journals a step's outcome from its engine event (a resumed step is journaled already). */
  step(event: FlowEvent): void {
    const runId = this.#runId
    const timing = this.#timings.event(event)
    const timed = timing === undefined ? {} : { timing }
    if (event.type === 'step.completed' && !event.resumed) {
      const outcome = { step: event.step, call: event.call, ok: true as const, value: event.value, ...timed }
      record(this.#log, () => this.#store.recordStep(runId, outcome))
    } else if (event.type === 'step.failed') {
      const call = this.#calls.get(event.step) ?? 1
      const error = (event.error as { code?: string } | undefined)?.code ?? describeFailure(event.error)
      record(this.#log, () =>
        this.#store.recordStep(runId, { step: event.step, call, ok: false, error, ...timed }),
      )
    } else if (event.type === 'step.cancelled' && timing !== undefined) {
      this.#cancelled.push({ step: event.step, call: this.#calls.get(event.step) ?? 1, ...timing })
    }
    if (event.type === 'step.started') this.#calls.set(event.step, event.call)
  }

  /** A step's model wrote text (its first words mark the step's first token). */
  streamed(step: string): void {
    this.#timings.streamed(step)
  }

  /**
   * The reply's target changed (the message id of a new post). Written once this turn of the event
   * loop is over, together with the view whose showing changed it when that follows in the turn.
   */
  target(next: ReplyTarget): void {
    if (this.#target === undefined) setImmediate(() => this.#writeTarget())
    this.#target = next
  }

  #writeTarget(): void {
    const target = this.#target
    this.#target = undefined
    if (target !== undefined) record(this.#log, () => this.#store.setTarget(this.#runId, target))
  }

  /**
   * A view reached the user: a resumed run does not show it again. The final view is written with
   * the run's end (`finish` follows it at once; a process killed between the two shows it again).
   */
  delivered(view: DeliveredView): void {
    const target = this.#target
    this.#target = undefined
    if (view === 'final' && target === undefined) {
      this.#finalShownAt = Date.now()
      return
    }
    record(this.#log, () => this.#store.markDelivered(this.#runId, view, target))
  }

  /** Keeps a completed run's final output, for Refine. */
  final(output: unknown): Promise<void> {
    return this.#settle(
      this.#store.recordStep(this.#runId, { step: FINAL_STEP, call: 0, ok: true, value: asMarkdown(output) }),
    )
  }

  /**
   * Ends the run in the journal: completed, stopped (and by whom) or failed (and why), with what it
   * spent and its cancelled steps' timings (for the inspector, in the same write).
   */
  finish(result: RunResult, stoppedBy: string | undefined, usage: UsageLine): Promise<void> {
    const status =
      result.status === 'completed' ? 'completed' : result.status === 'cancelled' ? 'stopped' : 'failed'
    const summary: RunSummary = {
      startedAt: this.#startedAt,
      calls: usage.calls,
      tokens: usage.tokens,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      ...(usage.costUsd === undefined ? {} : { costUsd: usage.costUsd }),
      models: usage.models,
      ...(this.#cancelled.length === 0 ? {} : { cancelled: this.#cancelled }),
    }
    return this.#settle(
      this.#store.finish(this.#runId, status, {
        ...(stoppedBy === undefined ? {} : { stoppedBy }),
        ...(status === 'failed' ? { note: describeFailure(result.error) } : {}),
        summary,
        ...(this.#finalShownAt === undefined ? {} : { finalShownAt: this.#finalShownAt }),
      }),
    )
  }

  #settle(what: Promise<unknown>): Promise<void> {
    const boundMs = this.#boundMs
    return within(what, boundMs).then(
      (landed) => {
        if (!landed)
          this.#log.warn({ event: 'journal.write_waited_out', boundMs }, 'journal.write_waited_out')
      },
      (err: unknown) => this.#log.error({ err }, 'journal.write_failed'),
    )
  }
}

/** True when `what` settles within `ms`, false when it is still pending then (it may land later). */
async function within(what: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([what.then(() => true as const), late])
  } finally {
    clearTimeout(timer)
  }
}
