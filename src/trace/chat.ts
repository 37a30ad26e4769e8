import { type Attributes, type Context, type Span, SpanKind, type Tracer } from '@opentelemetry/api'
import type { LanguageModel, SampleOptions, TextOptions, Usage } from '../llm/index.ts'
import { failSpan } from './errors.ts'

/** Where a step's model calls go in the trace. */
export interface ChatScope {
  tracer: Tracer
  /** The step span's context. */
  parent: Context
  runId: string
  step: string
  /** OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: prompts and answers on the spans. */
  content: boolean
}

/**
 * The model with a `chat <model>` span (GenAI semantic conventions, kind CLIENT) around every call:
 * provider, requested and answering model, token usage, time to the first streamed text, the error
 * type; the messages only when content capture is on. A sampling is one span (`choice.count` k).
 */
export function tracedModel(model: LanguageModel, scope: ChatScope): LanguageModel {
  const colon = model.id.indexOf(':')
  const provider = colon < 0 ? `chorus.${model.id}` : model.id.slice(0, colon)
  const name = colon < 0 ? model.id : model.id.slice(colon + 1)
  const open = (prompt: string, options: TextOptions | undefined, k: number) => {
    const span = scope.tracer.startSpan(
      `chat ${name}`,
      { kind: SpanKind.CLIENT, attributes: requestAttributes(provider, name, options, k, scope) },
      scope.parent,
    )
    if (scope.content) setInput(span, prompt, options?.system)
    return { span, options: observing(span, options) }
  }
  return {
    id: model.id,
    demo: model.demo,
    ...(model.withModel === undefined ? {} : { withModel: model.withModel.bind(model) }),
    text: (prompt, options) => {
      const call = open(prompt, options, 1)
      return settle(
        call.span,
        () => model.text(prompt, call.options),
        (text) => {
          if (scope.content) setOutput(call.span, [text])
        },
      )
    },
    samples: (prompt, k, options) => {
      const call = open(prompt, options, k)
      return settle(
        call.span,
        () => model.samples(prompt, k, call.options as SampleOptions),
        (samples) => {
          call.span.setAttributes({
            'chorus.samples.failed': samples.failed,
            'chorus.samples.not_needed': samples.notNeeded,
          })
          if (samples.texts.length === 0 && samples.error !== undefined) failed(call.span, samples.error)
          if (scope.content) setOutput(call.span, samples.texts)
        },
      )
    },
  }
}

function requestAttributes(
  provider: string,
  model: string,
  options: TextOptions | undefined,
  k: number,
  scope: ChatScope,
): Attributes {
  return {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': provider,
    'gen_ai.request.model': model,
    'gen_ai.conversation.id': scope.runId,
    'gen_ai.output.type': options?.json === undefined ? 'text' : 'json',
    'gen_ai.request.stream': options?.json === undefined,
    ...(k > 1 ? { 'gen_ai.request.choice.count': k } : {}),
    ...(options?.temperature === undefined ? {} : { 'gen_ai.request.temperature': options.temperature }),
    ...(options?.maxTokens === undefined ? {} : { 'gen_ai.request.max_tokens': options.maxTokens }),
    'chorus.run.id': scope.runId,
    'chorus.step.name': scope.step,
  }
}

/** The call's options, reporting usage, the answering model and the first text to the span as well. */
function observing<T extends TextOptions>(span: Span, options: T | undefined): T {
  const t0 = performance.now()
  let firstText = false
  let input = 0
  let output = 0
  return {
    ...(options as T),
    onText: (text: string) => {
      if (!firstText) {
        firstText = true
        span.setAttribute('gen_ai.response.time_to_first_chunk', (performance.now() - t0) / 1000)
      }
      options?.onText?.(text)
    },
    onUsage: (usage: Usage) => {
      input += usage.promptTokens
      output += usage.completionTokens
      span.setAttributes({ 'gen_ai.usage.input_tokens': input, 'gen_ai.usage.output_tokens': output })
      if (usage.model !== undefined) span.setAttribute('gen_ai.response.model', usage.model)
      options?.onUsage?.(usage)
    },
  }
}

/** Runs the call; `done` notes its result on the span, a throw its error type; the span ends either way. */
async function settle<T>(span: Span, call: () => Promise<T>, done: (value: T) => void): Promise<T> {
  try {
    const value = await call()
    done(value)
    return value
  } catch (error) {
    failed(span, error)
    throw error
  } finally {
    span.end()
  }
}

/** A failed call: its error type; a call Chorus aborted itself (Stop, a race lost) is not an error. */
function failed(span: Span, error: unknown): void {
  const code = (error as { code?: unknown } | undefined)?.code
  if (code === 'model_aborted') {
    span.setAttribute('chorus.cancelled', true)
    return
  }
  failSpan(span, error)
}

/** The messages as the GenAI conventions (v1.37+) lay them out: parts of type text. */
function setInput(span: Span, prompt: string, system: string | undefined): void {
  if (system !== undefined)
    span.setAttribute('gen_ai.system_instructions', JSON.stringify([{ type: 'text', content: system }]))
  span.setAttribute(
    'gen_ai.input.messages',
    JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: prompt }] }]),
  )
}

function setOutput(span: Span, texts: string[]): void {
  span.setAttribute(
    'gen_ai.output.messages',
    JSON.stringify(
      texts.map((text) => ({
        role: 'assistant',
        parts: [{ type: 'text', content: text }],
        finish_reason: 'stop',
      })),
    ),
  )
}
