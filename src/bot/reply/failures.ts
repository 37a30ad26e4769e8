/** The step whose failure stopped the run, following `upstream_failed` and `final_not_reached` to the root. */
export function failedStepOf(error: unknown): string | undefined {
  let step: string | undefined
  let e = error as { code?: unknown; failed?: unknown; cause?: unknown } | undefined
  while (e?.code === 'upstream_failed' || e?.code === 'final_not_reached') {
    if (typeof e.failed === 'string') step = e.failed
    e = e.cause as typeof e
  }
  return step
}

/** Short, user-safe words for why a task failed; details go to the log. */
export function describeFailure(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
  switch (code) {
    case 'cancelled':
      return 'stopped'
    case 'step_timeout':
    case 'model_timeout':
      return 'the model took too long'
    case 'model_rate_limited':
      return 'the model provider is rate limiting us'
    case 'model_unavailable':
      return 'the model provider is unavailable'
    case 'model_bad_response':
      return 'the model sent back an unreadable answer'
    case 'model_auth':
      return 'the model provider rejected our API key'
    case 'model_bad_request':
      return 'the model provider rejected the request'
    case 'deadline_exceeded':
      return 'it ran out of time'
    case 'upstream_failed':
    case 'final_not_reached':
      return describeFailure((error as { cause?: unknown }).cause)
    case 'straggler':
      return 'the model took too long'
    // The flow's own question and the platform's reason: both written for the people asked.
    case 'no_answer':
      return (error as Error).message
    case 'route_unmatched':
      return `the model picked none of the ways on (${((error as { labels?: string[] }).labels ?? []).join(', ')})`
    case 'ask':
      return (error as { reason?: string }).reason ?? 'a question could not be asked'
    default:
      return 'something went wrong'
  }
}
