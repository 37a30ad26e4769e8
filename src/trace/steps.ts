import type { Context, Span, Tracer } from '@opentelemetry/api'
import type { FlowEvent } from '../engine/index.ts'
import { errorType, failSpan } from './errors.ts'

type StepEvent = Extract<
  FlowEvent,
  { type: 'step.started' | 'step.retrying' | 'step.completed' | 'step.failed' | 'step.cancelled' }
>

/**
 * A run's step spans, `step <name>` per step call: opened by the step's start (or its first model
 * call, whichever comes first), with its retries as events, ended as completed, failed, cancelled, or
 * resumed (its outcome replayed from the journal, not called again).
 */
export class StepSpans {
  readonly #tracer: Tracer
  readonly #parent: Context
  /** Open spans by `<step>#<call>`. */
  readonly #open = new Map<string, { span: Span; retries: number }>()
  /** Each step's newest call (the events after its start do not say which call). */
  readonly #latest = new Map<string, string>()

  constructor(tracer: Tracer, parent: Context) {
    this.#tracer = tracer
    this.#parent = parent
  }

  /** The span of this step call, opened if it is not yet. */
  open(step: string, call: number): Span {
    const key = `${step}#${call}`
    let open = this.#open.get(key)
    if (open === undefined) {
      const span = this.#tracer.startSpan(
        `step ${step}`,
        { attributes: { 'chorus.step.name': step, 'chorus.step.call': call } },
        this.#parent,
      )
      open = { span, retries: 0 }
      this.#open.set(key, open)
      this.#latest.set(step, key)
    }
    return open.span
  }

  event(event: FlowEvent): void {
    if (!isStepEvent(event)) return
    if (event.type === 'step.started') {
      this.open(event.step, event.call).setAttribute('chorus.step.resumed', event.resumed)
      return
    }
    const key = this.#latest.get(event.step)
    const open = key === undefined ? undefined : this.#open.get(key)
    if (key === undefined || open === undefined) return
    const { span } = open
    if (event.type === 'step.retrying') {
      open.retries++
      span.addEvent('retry', {
        'chorus.step.attempt': event.attempt,
        'chorus.retry.delay_ms': event.delayMs,
        'error.type': errorType(event.error),
      })
      span.setAttribute('chorus.step.retries', open.retries)
      return
    }
    if (event.type === 'step.completed') {
      span.setAttributes({
        'chorus.step.outcome': event.resumed ? 'resumed' : 'completed',
        'chorus.step.queued_ms': event.queuedMs,
      })
    } else if (event.type === 'step.failed') {
      span.setAttributes({ 'chorus.step.outcome': 'failed', 'chorus.step.queued_ms': event.queuedMs })
      failSpan(span, event.error)
    } else {
      span.setAttributes({
        'chorus.step.outcome': 'cancelled',
        'chorus.step.cancel_reason': event.reason,
        'chorus.step.queued_ms': event.queuedMs,
      })
    }
    span.end()
    this.#open.delete(key)
  }

  /** Ends the spans of step calls the run left open. */
  close(): void {
    for (const { span } of this.#open.values()) {
      span.setAttribute('chorus.step.outcome', 'unfinished')
      span.end()
    }
    this.#open.clear()
  }
}

function isStepEvent(event: FlowEvent): event is StepEvent {
  return event.type.startsWith('step.')
}
