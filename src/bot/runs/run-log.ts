import type { Logger } from 'pino'
import type { FlowEvent } from '../../engine/index.ts'

/** One log line per engine event: warnings for failures and retries, debug for the routine. */
export function logEvent(log: Logger, event: FlowEvent): void {
  switch (event.type) {
    case 'run.started':
      log.info({ event: event.type, steps: event.steps.length }, 'run.started')
      break
    case 'step.failed':
      log.warn(
        { event: event.type, step: event.step, err: event.error, ms: Math.round(event.durationMs) },
        'step.failed',
      )
      break
    case 'step.retrying':
      log.warn(
        {
          event: event.type,
          step: event.step,
          attempt: event.attempt,
          delayMs: event.delayMs,
          err: event.error,
        },
        'step.retrying',
      )
      break
    case 'step.cancelled':
      log.info({ event: event.type, step: event.step, reason: event.reason }, 'step.cancelled')
      break
    case 'run.first':
      log.info({ event: event.type, step: event.step, ms: Math.round(event.at) }, 'run.first')
      break
    case 'run.completed': {
      const r = event.result
      log.info(
        {
          event: event.type,
          status: r.status,
          ms: Math.round(r.durationMs),
          usage: r.usage,
          reason: r.reason,
          err: r.error,
          failures: r.failures.map((f) => f.step),
        },
        'run.completed',
      )
      break
    }
    default:
      log.debug({ event: event.type, step: 'step' in event ? event.step : undefined }, event.type)
  }
}
