/**
 * The shapes of Chorus' spans, recorded in memory around a Bot on a scripted model: retries on the
 * step span, a failed step, cancelled steps after Stop, a 429 wait, a run handed on; and that the
 * OpenTelemetry SDK is not even loaded without an endpoint.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { Bot, loadConfig, type ReplyView } from '../../src/bot/index.ts'
import { ModelError } from '../../src/llm/types.ts'
import { RunTracer } from '../../src/trace/run-tracer.ts'
import { ScriptedModel } from '../fakes/model.ts'
import { startFakeOtlp } from '../fakes/otlp.ts'

const logger = pino({ level: 'silent' })
const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function traced(model: ScriptedModel, captureContent = false) {
  const exporter = new InMemorySpanExporter()
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] })
  cleanup.push(() => provider.shutdown())
  const tracer = new RunTracer(provider.getTracer('test'), { captureContent })
  const bot = await Bot.create({ config: loadConfig({}), model, logger, observer: tracer.observer })
  const views: ReplyView[] = []
  const start = (topic: string, angles: number) =>
    bot.start({
      command: bot.command('brainstorm') ?? (undefined as never),
      input: { topic, angles },
      user: 'U1',
      platform: 'console',
      sink: { show: async (view: ReplyView) => void views.push(view) },
      minIntervalMs: 0,
    })
  const spans = () => exporter.getFinishedSpans()
  return { bot, tracer, start, spans, views }
}

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name)
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId
const angleOf = (prompt: string) => /Angle: (.+?)\./.exec(prompt)?.[1]

describe('span shapes', () => {
  it('a retried call: two chat spans under one step span, the first failed with its error type, the retry an event', async () => {
    let failedOnce = false
    const model = new ScriptedModel((prompt) => {
      if (angleOf(prompt) === 'User pain' && !failedOnce) {
        failedOnce = true
        return {
          text: '',
          error: new ModelError('model_rate_limited', '429', { transient: true, retryAfterMs: 10 }),
        }
      }
      return { text: `- **${angleOf(prompt) ?? 'merged'}**` }
    })
    const { start, spans } = await traced(model)
    await start('cats', 2).done
    await expect.poll(() => named(spans(), 'invoke_workflow brainstorm'), { timeout: 5_000 }).toHaveLength(1)
    const step = spans().find((s) => s.name === 'step angle-user-pain') as ReadableSpan
    expect(step.attributes['chorus.step.retries']).toBe(1)
    expect(step.events.map((e) => [e.name, e.attributes?.['error.type']])).toEqual([
      ['retry', 'model_rate_limited'],
    ])
    const chats = named(spans(), 'chat scripted').filter((c) => parentOf(c) === step.spanContext().spanId)
    expect(chats.map((c) => c.attributes['error.type'])).toEqual(['model_rate_limited', undefined])
    expect(chats[0]?.status.code).toBe(2)
    expect(chats[1]?.attributes['gen_ai.usage.output_tokens']).toBe(5)
    expect(chats[1]?.attributes['gen_ai.provider.name']).toBe('chorus.scripted')
  })

  it('a step that fails for good: its span is an error with the code; the run still completes', async () => {
    const model = new ScriptedModel((prompt) =>
      angleOf(prompt) === 'Contrarian'
        ? { text: '', error: new ModelError('model_bad_request', 'bad request') }
        : { text: `- **${angleOf(prompt) ?? 'merged'}**` },
    )
    const { start, spans } = await traced(model)
    await start('cats', 2).done
    await expect.poll(() => named(spans(), 'invoke_workflow brainstorm'), { timeout: 5_000 }).toHaveLength(1)
    const step = named(spans(), 'step angle-contrarian')[0] as ReadableSpan
    expect(step.attributes['chorus.step.outcome']).toBe('failed')
    expect(step.attributes['error.type']).toBe('model_bad_request')
    expect(step.status).toEqual({ code: 2, message: 'bad request' })
    expect(named(spans(), 'invoke_workflow brainstorm')[0]?.attributes['chorus.run.outcome']).toBe(
      'completed',
    )
  })

  it('Stop: the unfinished steps are cancelled (not failed), and so is the run', async () => {
    const model = new ScriptedModel((prompt) => ({ text: `- **${angleOf(prompt)}**`, latencyMs: 5_000 }))
    const { start, spans } = await traced(model)
    const run = start('cats', 2)
    await expect.poll(() => model.calls.length, { timeout: 5_000 }).toBe(2)
    run.cancel('ada')
    await run.done
    await expect.poll(() => named(spans(), 'invoke_workflow brainstorm'), { timeout: 5_000 }).toHaveLength(1)
    const steps = spans().filter((s) => s.name.startsWith('step angle-'))
    expect(steps.map((s) => s.attributes['chorus.step.outcome'])).toEqual(['cancelled', 'cancelled'])
    for (const s of steps) expect(s.status.code).toBe(0)
    const workflow = named(spans(), 'invoke_workflow brainstorm')[0] as ReadableSpan
    expect(workflow.attributes['chorus.run.outcome']).toBe('cancelled')
    expect(workflow.attributes['chorus.run.cancel_reason']).toBe('stopped by ada')
  })

  it('a 429 a run met is a span of the wait under its run span; a run handed on ends its span as such', async () => {
    const model = new ScriptedModel(() => ({ text: '- idea', latencyMs: 5_000 }))
    const { start, spans, tracer } = await traced(model)
    const run = start('cats', 1)
    await expect.poll(() => model.calls.length, { timeout: 5_000 }).toBe(1)
    tracer.observer.rateLimited?.('slack', 'chat.update', 1_500, run.runId)
    tracer.observer.rateLimited?.('slack', 'chat.update', 1_500, 'another run')
    const wait = named(spans(), 'rate_limited chat.update')
    expect(wait).toHaveLength(1)
    const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6
    expect(ms(wait[0]?.endTime as [number, number]) - ms(wait[0]?.startTime as [number, number])).toBeCloseTo(
      1_500,
      0,
    )
    const info = {
      runId: run.runId,
      flow: 'brainstorm',
      platform: 'console' as const,
      acceptedAt: 0,
      resumed: false,
    }
    tracer.observer.handedOn?.(info, 'suspended')
    const workflow = named(spans(), 'invoke_workflow brainstorm')[0] as ReadableSpan
    expect(parentOf(wait[0] as ReadableSpan)).toBe(workflow.spanContext().spanId)
    expect(workflow.attributes['chorus.run.outcome']).toBe('suspended')
    run.cancel('test')
    await run.done
  })
})

describe('loading, protocols and settings', () => {
  /** Runs a one-shot console command and lists the OpenTelemetry modules it resolved. */
  async function loaded(env: Record<string, string>): Promise<string[]> {
    const hook = `data:text/javascript,${encodeURIComponent(`
      import { registerHooks } from 'node:module'
      const seen = new Set()
      registerHooks({ resolve(s, c, next) { const r = next(s, c); if (r.url.includes('@opentelemetry')) seen.add(r.url.replace(/.*node_modules./, '')); return r } })
      process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify([...seen]) + '\\n'))
    `)}`
    const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url))
    // Not spawnSync: the OTLP receiver lives in this process and must answer meanwhile.
    const res = await promisify(execFile)(
      process.execPath,
      ['--import', hook, main, 'brainstorm', 'cats', '--angles', '1'],
      { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 },
    )
    const line = res.stderr.split('\n').find((l) => l.startsWith('LOADED '))
    if (line === undefined) throw new Error(`no module list: ${res.stderr}`)
    return JSON.parse(line.slice('LOADED '.length)) as string[]
  }

  it('without an endpoint no OpenTelemetry SDK module is loaded; with one, the SDK and the chosen exporter are', async () => {
    // Only the no-op API, which prom-client requires in every Chorus, tracing or not.
    const off = await loaded({})
    expect(off.filter((m) => !m.startsWith('@opentelemetry/api/'))).toEqual([])
    const otlp = await startFakeOtlp()
    cleanup.push(() => otlp.close())
    // No protocol set: OTLP/HTTP JSON.
    const on = await loaded({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url })
    expect(on.some((m) => m.startsWith('@opentelemetry/sdk-trace/'))).toBe(true)
    expect(on.some((m) => m.startsWith('@opentelemetry/exporter-trace-otlp-http/'))).toBe(true)
    expect(on.some((m) => m.startsWith('@opentelemetry/exporter-trace-otlp-proto/'))).toBe(false)
    // The one-shot console run flushed its trace before it exited.
    expect(otlp.spans.map((s) => s.name)).toContain('invoke_workflow brainstorm')
  }, 60_000)

  it('with http/protobuf it sends OTLP/HTTP protobuf; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as it is', async () => {
    const otlp = await startFakeOtlp()
    cleanup.push(() => otlp.close())
    const modules = await loaded({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.url}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    })
    expect(modules.some((m) => m.startsWith('@opentelemetry/exporter-trace-otlp-proto/'))).toBe(true)
    expect(modules.some((m) => m.startsWith('@opentelemetry/exporter-trace-otlp-http/'))).toBe(false)
    expect(otlp.refused).toEqual([])
    expect(otlp.requests.length).toBeGreaterThan(0)
    for (const r of otlp.requests) {
      expect(r.headers['content-type']).toBe('application/x-protobuf')
      expect(r.bytes).toBeGreaterThan(100)
    }
  }, 60_000)

  it('refuses gRPC, malformed headers and a flag that is not true or false, saying what to set', () => {
    expect(() =>
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4317',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      }),
    ).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL must be http\/json \(the default\) or http\/protobuf.*4318/)
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key' })).toThrow(
      /OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs/,
    )
    expect(() => loadConfig({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'yes' })).toThrow(
      /OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT must be true or false/,
    )
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL such as http:\/\/localhost:4318/,
    )
    const ok = loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=a%20b,team=x', OTEL_SDK_DISABLED: 'TRUE' })
    expect(ok.OTEL_SDK_DISABLED).toBe(true)
    expect(ok.OTEL_SERVICE_NAME).toBe('chorus')
  })
})
