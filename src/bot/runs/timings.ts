import type { FlowEvent } from '../../engine/index.ts'
import type { StepTiming } from '../../store/index.ts'

/** A step call in progress: when it started, its first words, its retries. */
interface Open {
  startedAt: number
  firstTokenAt: number | undefined
  attempts: number
  retries: string[]
}

/**
 * When each step call of a run started, wrote its first words, was retried and ended (wall-clock
 * ms), for the run inspector's waterfall. Fed every engine event as it happens and every piece of
 * streamed text; what it returns rides in the journal writes the run makes anyway.
 */
export class StepTimings {
  readonly #open = new Map<string, Open>()

  /** The timing of the step call `event` ends (undefined for other events, and resumed steps). */
  event(event: FlowEvent, now = Date.now()): StepTiming | undefined {
    if (event.type === 'step.started') {
      if (!event.resumed)
        this.#open.set(event.step, { startedAt: now, firstTokenAt: undefined, attempts: 1, retries: [] })
      return undefined
    }
    if (event.type === 'step.retrying') {
      const open = this.#open.get(event.step)
      if (open !== undefined) {
        open.attempts = event.attempt + 1
        open.retries.push(codeOf(event.error))
      }
      return undefined
    }
    if (event.type !== 'step.completed' && event.type !== 'step.failed' && event.type !== 'step.cancelled')
      return undefined
    const open = this.#open.get(event.step)
    if (open === undefined) return undefined
    this.#open.delete(event.step)
    return {
      startedAt: open.startedAt,
      ...(open.firstTokenAt === undefined ? {} : { firstTokenAt: open.firstTokenAt }),
      finishedAt: now,
      queuedMs: Math.round(event.queuedMs),
      attempts: open.attempts,
      ...(open.retries.length === 0 ? {} : { retries: open.retries }),
      ...(event.type === 'step.cancelled' ? { cancelled: event.reason } : {}),
    }
  }

  /** The step's model wrote text: the first time marks its first token. */
  streamed(step: string, now = Date.now()): void {
    const open = this.#open.get(step)
    if (open !== undefined && open.firstTokenAt === undefined) open.firstTokenAt = now
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'error'
}
