import type { Logger } from 'pino'
import type { BotObserver } from '../bot/index.ts'
import type { Config } from '../config/index.ts'

/** Traces for this process: the observer that writes them, and a flush before it exits. */
export interface Tracing {
  readonly observer: BotObserver
  /** Sends the spans still buffered and stops the exporter. */
  shutdown(): Promise<void>
}

/** Whether traces are wanted: an OTLP endpoint is set and the SDK is not disabled. */
export function tracingOn(config: Config): boolean {
  if (config.OTEL_SDK_DISABLED) return false
  return (
    config.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined ||
    config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined
  )
}

/**
 * Starts tracing when `tracingOn`: only then is the OpenTelemetry SDK imported, so a Chorus without an
 * endpoint loads none of it and spends nothing on spans.
 */
export async function startTracing(
  config: Config,
  logger: Logger,
  role: 'receiver' | 'worker' | 'console',
): Promise<Tracing | undefined> {
  if (!tracingOn(config)) return undefined
  const t0 = performance.now()
  const { openTracing } = await import('./setup.ts')
  return openTracing(config, logger, role, t0)
}
