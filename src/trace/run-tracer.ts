import {
  type Attributes,
  type Context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import { type BotObserver, isTerminal, type ReplyView, type RunInfo } from '../bot/index.ts'
import type { FlowEvent } from '../engine/index.ts'
import { tracedModel } from './chat.ts'
import { contextOf, traceparentOf } from './context.ts'
import { failSpan } from './errors.ts'
import { StepSpans } from './steps.ts'

/** Now, as the SDK stamps a span's start (it adds monotonic time to that for an end it takes itself). */
const now = (): number => Date.now()

/** A run's final reply that never shows (the platform refused it) still ends its span after this. */
const FINAL_WAIT_MS = 30_000

/** One run's spans in this process. */
interface TracedRun {
  span: Span
  context: Context
  steps: StepSpans
  inputTokens: number
  outputTokens: number
  firstAt: number | undefined
  completedAt: number | undefined
  shown: Set<string>
  ending: NodeJS.Timeout | undefined
  /** The latest end given to a child span explicitly: the run's span ends no earlier (clocks differ by a millisecond). */
  lastEnd: number
}

/**
 * Writes each run as one trace: `accept <flow>` where a platform command is journaled (its context
 * kept with the run), `invoke_workflow <flow>` wherever the run is worked (a child of it, in whatever
 * process; a resumed run's span also links to it), a span per step call, a `chat <model>` span per
 * model call, and spans for the replies shown (first result, final) and for 429 waits.
 */
export class RunTracer {
  readonly observer: BotObserver
  readonly #tracer: Tracer
  readonly #content: boolean
  readonly #runs = new Map<string, TracedRun>()

  constructor(tracer: Tracer, options: { captureContent: boolean }) {
    this.#tracer = tracer
    this.#content = options.captureContent
    this.observer = {
      accepting: (run, platform, follows) => {
        const earlier = follows === undefined ? undefined : trace.getSpanContext(contextOf(follows))
        const span = tracer.startSpan(
          `accept ${run.command}`,
          {
            kind: SpanKind.SERVER,
            links:
              earlier === undefined ? [] : [{ context: earlier, attributes: { 'chorus.link': 'rerun_of' } }],
            attributes: {
              'chorus.run.id': run.id,
              'chorus.flow': run.command,
              'chorus.platform': platform,
              'enduser.id': run.userId ?? run.user,
            },
          },
          ROOT_CONTEXT,
        )
        return {
          traceparent: traceparentOf(span),
          end: (error) => {
            if (error !== undefined) failSpan(span, error)
            span.end()
          },
        }
      },
      event: (run, event) => this.#event(run, event),
      shown: (run, view) => this.#shown(run, view),
      stepModel: (run, step, model) => {
        const parent = this.#open(run).steps.open(step.step, step.call)
        return tracedModel(model, {
          tracer,
          parent: trace.setSpan(ROOT_CONTEXT, parent),
          runId: run.runId,
          step: step.step,
          content: this.#content,
        })
      },
      rateLimited: (platform, route, retryAfterMs, runId) => {
        const run = runId === undefined ? undefined : this.#runs.get(runId)
        if (run === undefined) return
        const at = now()
        tracer
          .startSpan(
            `rate_limited ${route}`,
            {
              startTime: at,
              attributes: {
                'chorus.platform': platform,
                'chorus.route': route,
                'chorus.retry_after_ms': retryAfterMs,
              },
            },
            run.context,
          )
          .end(at + retryAfterMs)
        run.lastEnd = Math.max(run.lastEnd, at + retryAfterMs)
      },
      handedOn: (run, why) => {
        const traced = this.#runs.get(run.runId)
        if (traced === undefined) return
        traced.span.setAttribute('chorus.run.outcome', why)
        this.#finish(run.runId, traced)
      },
    }
  }

  /** Ends every open span (a shutdown): what was not finished is sent as it is. */
  close(): void {
    for (const [runId, run] of this.#runs) {
      run.span.setAttribute('chorus.run.outcome', 'unfinished')
      this.#finish(runId, run)
    }
  }

  /** The run's spans here, opened at its first sign (a step may ask for its model before run.started is read). */
  #open(info: RunInfo): TracedRun {
    const known = this.#runs.get(info.runId)
    if (known !== undefined) return known
    const parent = contextOf(info.traceparent)
    const parentSpan = trace.getSpanContext(parent)
    const links: Link[] =
      info.resumed && parentSpan !== undefined
        ? [{ context: parentSpan, attributes: { 'chorus.link': 'resumed' } }]
        : []
    const attributes: Attributes = {
      'gen_ai.operation.name': 'invoke_workflow',
      // v1.37–1.41 name the workflow `gen_ai.workflow.name`; the standalone GenAI conventions (v0.1) `gen_ai.agent.name`.
      'gen_ai.workflow.name': info.flow,
      'gen_ai.agent.name': info.flow,
      'gen_ai.conversation.id': info.runId,
      'chorus.run.id': info.runId,
      'chorus.flow': info.flow,
      'chorus.platform': info.platform,
      'chorus.run.resumed': info.resumed,
      ...(info.requester === undefined ? {} : { 'enduser.id': info.requester }),
      ...(info.resumed ? {} : { 'chorus.run.queued_ms': Math.max(0, Date.now() - info.acceptedAt) }),
    }
    const span = this.#tracer.startSpan(
      `invoke_workflow ${info.flow}`,
      { kind: SpanKind.INTERNAL, attributes, links },
      parent,
    )
    const context = trace.setSpan(ROOT_CONTEXT, span)
    const run: TracedRun = {
      span,
      context,
      steps: new StepSpans(this.#tracer, context),
      inputTokens: 0,
      outputTokens: 0,
      firstAt: undefined,
      completedAt: undefined,
      shown: new Set(),
      ending: undefined,
      lastEnd: 0,
    }
    this.#runs.set(info.runId, run)
    return run
  }

  #event(info: RunInfo, event: FlowEvent): void {
    if (event.type === 'run.started') {
      this.#open(info).span.setAttribute('chorus.run.steps', event.steps.length)
      return
    }
    const run = this.#runs.get(info.runId)
    if (run === undefined) return
    switch (event.type) {
      case 'usage':
        run.inputTokens += event.usage.promptTokens
        run.outputTokens += event.usage.completionTokens
        return
      case 'router.routed':
        run.span.addEvent('routed', { 'chorus.step.name': event.step, 'chorus.route.label': event.label })
        return
      case 'run.first':
        run.firstAt = now()
        run.span.addEvent('first result', { 'chorus.step.name': event.step })
        return
      case 'run.completed': {
        const { status, error, reason } = event.result
        run.completedAt = now()
        run.span.setAttribute('chorus.run.outcome', status)
        if (reason !== undefined) run.span.setAttribute('chorus.run.cancel_reason', reason)
        if (status === 'failed') failSpan(run.span, error)
        // The final reply is part of the run: its span ends once that shows (or after FINAL_WAIT_MS).
        run.ending = setTimeout(() => this.#finish(info.runId, run), FINAL_WAIT_MS)
        run.ending.unref()
        return
      }
      default:
        run.steps.event(event)
    }
  }

  #shown(info: RunInfo, view: ReplyView): void {
    const run = this.#runs.get(info.runId)
    if (run === undefined || view.notice !== undefined) return
    const once = (what: string): boolean => {
      if (run.shown.has(what)) return false
      run.shown.add(what)
      return true
    }
    if (view.streaming !== undefined && once('text')) run.span.addEvent('first text shown')
    const at = now()
    if (view.status === 'first' && once('first')) this.#reply(run, 'first', run.firstAt ?? at, at, view)
    if (isTerminal(view.status)) {
      if (!once('final')) return
      this.#reply(run, 'final', run.completedAt ?? at, at, view)
      if (view.usage?.costUsd !== undefined) run.span.setAttribute('chorus.cost_usd', view.usage.costUsd)
      this.#finish(info.runId, run)
    }
  }

  /** A reply view reaching the platform: from the moment its result existed to the moment it showed. */
  #reply(run: TracedRun, kind: 'first' | 'final', from: number, to: number, view: ReplyView): void {
    this.#tracer
      .startSpan(
        `reply ${kind}`,
        { startTime: from, attributes: { 'chorus.reply.kind': kind, 'chorus.reply.status': view.status } },
        run.context,
      )
      .end(to)
    run.lastEnd = Math.max(run.lastEnd, to)
  }

  #finish(runId: string, run: TracedRun): void {
    if (this.#runs.get(runId) !== run) return
    this.#runs.delete(runId)
    clearTimeout(run.ending)
    run.steps.close()
    run.span.setAttributes({
      'gen_ai.usage.input_tokens': run.inputTokens,
      'gen_ai.usage.output_tokens': run.outputTokens,
    })
    run.span.end(Math.max(now(), run.lastEnd))
  }
}
