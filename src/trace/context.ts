import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  trace,
} from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'

const propagator = new W3CTraceContextPropagator()

/** A span's context as a W3C `traceparent` (what the journal keeps with a run). */
export function traceparentOf(span: Span): string {
  const carrier: Record<string, string> = {}
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter)
  return carrier.traceparent ?? ''
}

/** The remote parent a `traceparent` names; the root context when it is missing or malformed. */
export function contextOf(traceparent: string | undefined): Context {
  if (traceparent === undefined || traceparent === '') return ROOT_CONTEXT
  return propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter)
}
