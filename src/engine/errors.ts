/** Base class for engine errors: a stable `code` and a message that says what to do. */
export class EngineError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** The flow's graph is invalid; raised while building, before any step runs. */
export class FlowDefinitionError extends EngineError {
  constructor(flow: string, message: string) {
    super('flow_definition', `flow '${flow}': ${message}`)
  }
}

/** A step ran past its `timeoutMs`. Transient: the step is retried when it has retries left. */
export class StepTimeoutError extends EngineError {
  readonly transient = true
  constructor(step: string, timeoutMs: number) {
    super('step_timeout', `step '${step}' took longer than ${timeoutMs} ms`)
  }
}

/** A partial `all` stopped waiting for this input: the others settled and its straggler grace ran out. */
export class StragglerError extends EngineError {
  constructor(step: string, graceMs: number) {
    super('straggler', `step '${step}' was still running ${graceMs} ms after the other inputs settled`)
  }
}

/** The run (or this step) was cancelled; reported apart from failures. */
export class CancelledError extends EngineError {
  readonly reason: string
  constructor(reason: string) {
    super('cancelled', `cancelled: ${reason}`)
    this.reason = reason
  }
}

/** The text of an abort reason: a CancelledError's reason, an error's message, or 'cancelled'. */
export function reasonOf(reason: unknown): string {
  if (reason instanceof CancelledError) return reason.reason
  if (reason instanceof Error) return reason.message
  return reason === undefined ? 'cancelled' : String(reason)
}

/** The run passed its `deadlineMs`. */
export class DeadlineExceededError extends EngineError {
  constructor(deadlineMs: number) {
    super('deadline_exceeded', `the run took longer than its ${deadlineMs} ms deadline`)
  }
}

/** A listener's trigger could not be satisfied because an input failed (a strict `all`, say). */
export class UpstreamFailedError extends EngineError {
  /** The input (step or router) that failed. */
  readonly failed: string
  constructor(step: string, failed: string, cause: unknown) {
    super('upstream_failed', `step '${step}' did not run because '${failed}' failed`, { cause })
    this.failed = failed
  }
}

/** A step was called more often than its `maxCalls` (a router cycle that does not end). */
export class CallLimitError extends EngineError {
  constructor(step: string, maxCalls: number) {
    super('call_limit', `step '${step}' was called more than ${maxCalls} times; check the router cycle`)
  }
}

/** The run settled without its `final` step ever running; `cause` is the failure that made it unreachable. */
export class FinalNotReachedError extends EngineError {
  /** The step whose failure made `final` unreachable, when one did. */
  readonly failed: string | undefined
  constructor(flow: string, final: string, because?: { step: string; error: unknown }) {
    const why =
      because === undefined
        ? ''
        : `: step '${because.step}' failed (${(because.error as Error)?.message ?? String(because.error)})`
    super(
      'final_not_reached',
      `flow '${flow}' finished without running its final step '${final}'${why}`,
      because === undefined ? undefined : { cause: because.error },
    )
    this.failed = because?.step
  }
}

/** True for errors worth retrying: the error says so (`transient: true`), or it is a step timeout. */
export function isTransient(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { transient?: unknown }).transient === true
}

/** The server's requested wait, when the error carries one (`retryAfterMs`). */
export function retryAfterOf(error: unknown): number | undefined {
  const value =
    typeof error === 'object' && error !== null
      ? (error as { retryAfterMs?: unknown }).retryAfterMs
      : undefined
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined
}
