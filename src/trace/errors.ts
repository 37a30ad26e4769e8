import { type Span, SpanStatusCode } from '@opentelemetry/api'

/** `error.type`: a ChorusError's or ModelError's code, else the error's class name. */
export function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? code : error instanceof Error ? error.name : '_OTHER'
}

/** Marks a span failed with the error's type and message. */
export function failSpan(span: Span, error: unknown): void {
  span.setAttribute('error.type', errorType(error))
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  })
}
