import type { Logger } from 'pino'
import type { FlowEvent, RunResult } from '../engine/index.ts'
import { describeFailure, failedStepOf } from './errors.ts'
import type { ReplySink, ReplyView } from './types.ts'

const TERMINAL = new Set<ReplyView['status']>(['final', 'failed', 'stopped'])

/**
 * Delivers views to a sink: never two `show` calls at once; progress views at least `minIntervalMs`
 * apart with only the newest kept; the first result and the terminal view go out as soon as the
 * previous call returns; the terminal view is always the last one shown.
 */
export class ReplyPump {
  readonly #sink: ReplySink
  readonly #minIntervalMs: number
  readonly #log: Logger
  #pending: ReplyView | undefined
  #busy = false
  #lastAt = Number.NEGATIVE_INFINITY
  #timer: ReturnType<typeof setTimeout> | undefined
  #closed = false
  #lastStatus: ReplyView['status'] | undefined
  #drained: Promise<void>
  #resolveDrained!: () => void

  constructor(sink: ReplySink, minIntervalMs: number, log: Logger) {
    this.#sink = sink
    this.#minIntervalMs = minIntervalMs
    this.#log = log
    this.#drained = new Promise((resolve) => {
      this.#resolveDrained = resolve
    })
  }

  push(view: ReplyView): void {
    if (this.#closed) return
    if (TERMINAL.has(view.status)) this.#closed = true
    this.#pending = view
    this.#pump()
  }

  /** Settles once the terminal view was shown (or failed to show). */
  get drained(): Promise<void> {
    return this.#drained
  }

  #pump(): void {
    if (this.#busy || this.#pending === undefined) return
    // A change of status (the first result, the end) goes out at once; progress waits its turn.
    const urgent = this.#pending.status !== this.#lastStatus
    const wait = urgent ? 0 : this.#lastAt + this.#minIntervalMs - performance.now()
    if (wait > 0) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined
        this.#pump()
      }, wait)
      return
    }
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    const view = this.#pending
    this.#pending = undefined
    this.#lastStatus = view.status
    this.#busy = true
    this.#sink
      .show(view)
      .catch((error: unknown) => this.#log.error({ err: error, status: view.status }, 'reply.show_failed'))
      .finally(() => {
        this.#busy = false
        this.#lastAt = performance.now()
        if (TERMINAL.has(view.status)) this.#resolveDrained()
        else this.#pump()
      })
  }
}

/** Builds reply views from engine events. */
export class ViewBuilder {
  readonly #view: ReplyView
  readonly #starts: Set<string>
  readonly #firstLabel: string

  constructor(init: {
    runId: string
    command: string
    title: string
    user: string
    noun: string
    demo: boolean
    firstLabel: string
  }) {
    this.#firstLabel = init.firstLabel
    this.#starts = new Set()
    this.#view = {
      runId: init.runId,
      command: init.command,
      title: init.title,
      user: init.user,
      status: 'working',
      progress: { done: 0, failed: 0, total: 0, noun: init.noun },
      failures: [],
      elapsedMs: 0,
      demo: init.demo,
    }
  }

  /** Applies an event; returns a fresh view when the reply should change. */
  apply(event: FlowEvent): ReplyView | undefined {
    const v = this.#view
    v.elapsedMs = Math.round(event.at)
    switch (event.type) {
      case 'run.started':
        for (const s of event.steps) if (s.kind === 'start') this.#starts.add(s.name)
        v.progress.total = this.#starts.size
        return this.snapshot()
      case 'step.completed':
        if (!this.#starts.has(event.step)) return undefined
        v.progress.done++
        return this.snapshot()
      case 'step.failed':
        if (!this.#starts.has(event.step)) return undefined
        v.progress.failed++
        v.failures.push({ step: event.step, message: describeFailure(event.error) })
        return this.snapshot()
      // Cancelled tasks are not failures: either the run was stopped (the terminal view says so)
      // or the flow no longer needed them (a quorum was reached).
      case 'run.first':
        v.status = 'first'
        v.first = { label: this.#firstLabel, markdown: asMarkdown(event.value) }
        v.firstMs = Math.round(event.at)
        return this.snapshot()
      default:
        return undefined
    }
  }

  /** The terminal view for a finished run. */
  finish(result: RunResult, stoppedBy: string | undefined): ReplyView {
    const v = this.#view
    v.elapsedMs = Math.round(result.durationMs)
    if (result.status === 'completed') {
      v.status = 'final'
      v.final = { markdown: asMarkdown(result.output) }
      // Failures on branches that do not lead to the final answer are still worth saying.
      for (const f of result.failures) {
        if (this.#starts.has(f.step) || v.failures.some((x) => x.step === f.step)) continue
        v.failures.push({ step: f.step, message: describeFailure(f.error) })
      }
    } else if (result.status === 'cancelled') {
      v.status = 'stopped'
      if (stoppedBy !== undefined) v.stoppedBy = stoppedBy
    } else {
      v.status = 'failed'
      v.error = failureText(result, v)
    }
    // A failed run lists start tasks; the failure that stopped it is explained by `error`.
    return this.snapshot()
  }

  snapshot(): ReplyView {
    const v = this.#view
    return {
      ...v,
      progress: { ...v.progress },
      failures: v.failures.map((f) => ({ ...f })),
      ...(v.first === undefined ? {} : { first: { ...v.first } }),
      ...(v.final === undefined ? {} : { final: { ...v.final } }),
    }
  }
}

function failureText(result: RunResult, view: ReplyView): string {
  const why = describeFailure(result.error)
  const code = (result.error as { code?: string } | undefined)?.code
  if (code === 'deadline_exceeded') return `This took longer than Chorus allows and was cut off (${why}).`
  const { failed, total, noun } = view.progress
  if (total > 0 && failed === total) {
    return `All ${total} ${noun} failed: ${view.failures[0]?.message ?? why}. Please try again in a moment.`
  }
  const step = failedStepOf(result.error)
  const where = step === undefined ? '' : ` (step ${step} failed)`
  return `Chorus could not finish: ${why}${where}. Please try again in a moment.`
}

function asMarkdown(value: unknown): string {
  if (typeof value === 'string') return value
  return `\`\`\`\n${JSON.stringify(value, null, 2)}\n\`\`\``
}
