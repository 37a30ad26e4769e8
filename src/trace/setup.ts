import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { DiagLogLevel, diag } from '@opentelemetry/api'
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources'
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import type { Logger } from 'pino'
import type { Config } from '../config/index.ts'
import type { Tracing } from './index.ts'
import { RunTracer } from './run-tracer.ts'

/** A process exits at most this late for its last spans (a collector that does not answer is not waited for). */
const FLUSH_BOUND_MS = 3_000

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version

/**
 * The smallest OpenTelemetry set that sends traces: a tracer provider with a batch processor and one
 * OTLP/HTTP exporter (JSON by default, protobuf with `http/protobuf`), no auto-instrumentation, no
 * global registration. The spans are written by hand (RunTracer) after the GenAI conventions.
 */
export async function openTracing(
  config: Config,
  logger: Logger,
  role: 'receiver' | 'worker' | 'console',
  /** performance.now() before the SDK was imported: the start-up cost is logged. */
  t0: number,
): Promise<Tracing> {
  const protocol =
    config.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? config.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/json'
  const { OTLPTraceExporter } =
    protocol === 'http/protobuf'
      ? await import('@opentelemetry/exporter-trace-otlp-proto')
      : await import('@opentelemetry/exporter-trace-otlp-http')
  const url = tracesUrl(config)
  const exporter = new OTLPTraceExporter({ url, headers: headersOf(config.OTEL_EXPORTER_OTLP_HEADERS) })
  // The exporter reports failed sends through `diag`; they go to the log (never the headers: they hold keys).
  diag.setLogger(
    {
      error: (message) =>
        logger.warn({ event: 'trace.export_failed', detail: message }, 'trace.export_failed'),
      warn: (message) => logger.warn({ event: 'trace.warning', detail: message }, 'trace.warning'),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    DiagLogLevel.WARN,
  )
  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(
      resourceFromAttributes({
        'service.name': config.OTEL_SERVICE_NAME,
        'service.version': VERSION,
        'service.instance.id': randomUUID(),
        'process.pid': process.pid,
        'chorus.role': role,
      }),
    )
  const provider = new TracerProvider({
    resource,
    spanProcessors: [
      new BatchSpanProcessor({ exporter, scheduledDelayMillis: config.OTEL_BSP_SCHEDULE_DELAY }),
    ],
  })
  const tracer = new RunTracer(provider.getTracer('chorus', VERSION), {
    captureContent: config.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
  })
  const ms = Math.round(performance.now() - t0)
  logger.info(
    { event: 'trace.started', url, protocol, service: config.OTEL_SERVICE_NAME, ms },
    'trace.started',
  )
  return {
    observer: tracer.observer,
    shutdown: async () => {
      tracer.close()
      const flushed = provider.shutdown().then(
        () => true,
        (err: unknown) => logger.warn({ err }, 'trace.shutdown_failed'),
      )
      const bound = new Promise<false>((resolve) => setTimeout(resolve, FLUSH_BOUND_MS, false).unref())
      if ((await Promise.race([flushed, bound])) === false)
        logger.warn({ event: 'trace.flush_timeout', boundMs: FLUSH_BOUND_MS }, 'trace.flush_timeout')
    },
  }
}

/** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, or `v1/traces` under OTEL_EXPORTER_OTLP_ENDPOINT (the spec's rule). */
function tracesUrl(config: Config): string {
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined)
    return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318'
  return `${base.endsWith('/') ? base : `${base}/`}v1/traces`
}

/** `key=value,key2=value2`, values URL-encoded (checked by the config schema). */
function headersOf(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const pair of (value ?? '').split(',')) {
    const at = pair.indexOf('=')
    if (at <= 0) continue
    headers[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim())
  }
  return headers
}
