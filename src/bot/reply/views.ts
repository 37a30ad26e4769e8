import type { FlowEvent, RunResult } from '../../engine/index.ts'
import { describeFailure, failedStepOf } from './failures.ts'
import type { BranchState, ReplyView } from './types.ts'

/** Builds reply views from engine events. */
export class ViewBuilder {
  readonly #view: ReplyView
  readonly #starts: Set<string>
  readonly #branches = new Map<string, BranchState>()
  readonly #firstLabel: string
  readonly #offsetMs: number
  /** Each running branch's text so far, as its model writes it. */
  readonly #texts = new Map<string, string>()
  /** The branch whose text the reply shows: the first to write, while it runs. */
  #leader: string | undefined
  readonly #voteOn: boolean
  readonly #replayed = new Set<string>()

  constructor(init: {
    runId: string
    command: string
    title: string
    user: string
    noun: string
    demo: boolean
    firstLabel: string
    /** Journaled runs can be retried from their reply. */
    retryable: boolean
    /** Time the run had already taken before this process (a resumed run). */
    offsetMs?: number
    /** A final reply offers Vote on these (brainstorm, journaled, with /decide at hand). */
    voteOn?: boolean
  }) {
    this.#voteOn = init.voteOn === true
    this.#firstLabel = init.firstLabel
    this.#starts = new Set()
    this.#offsetMs = init.offsetMs ?? 0
    this.#view = {
      runId: init.runId,
      command: init.command,
      title: init.title,
      user: init.user,
      status: 'working',
      progress: { done: 0, failed: 0, total: 0, noun: init.noun },
      branches: [],
      failures: [],
      elapsedMs: this.#offsetMs,
      demo: init.demo,
      retryable: init.retryable,
    }
  }

  /** Applies an event; returns a fresh view when the reply should change. */
  apply(event: FlowEvent): ReplyView | undefined {
    const v = this.#view
    v.elapsedMs = Math.round(event.at + this.#offsetMs)
    switch (event.type) {
      case 'run.started':
        for (const s of event.steps) {
          if (s.kind !== 'start') continue
          this.#starts.add(s.name)
          this.#branches.set(s.name, { name: s.name, state: 'running' })
        }
        v.progress.total = this.#starts.size
        return this.snapshot()
      case 'step.retrying':
        // The next try writes its answer from the start.
        return this.#stopWriting(event.step) ? this.snapshot() : undefined
      case 'step.completed':
        // A step replayed from the journal has no time of its own here: the first result it made was timed before.
        if (event.resumed) this.#replayed.add(event.step)
        if (!this.#starts.has(event.step)) return undefined
        v.progress.done++
        this.#branches.set(event.step, { name: event.step, state: 'done', ms: Math.round(event.durationMs) })
        // A finished branch is the first result's to show (it follows at once); another still
        // writing leads meanwhile, so no edit is spent on a text that is about to be replaced.
        this.#stopWriting(event.step)
        return this.snapshot()
      case 'step.failed': {
        if (!this.#starts.has(event.step)) return undefined
        const message = describeFailure(event.error)
        v.progress.failed++
        v.failures.push({ step: event.step, message })
        this.#branches.set(event.step, {
          name: event.step,
          state: 'failed',
          ms: Math.round(event.durationMs),
          reason: message,
        })
        this.#stopWriting(event.step)
        return this.snapshot()
      }
      // Cancelled tasks are not failures: either the run was stopped (the terminal view says so)
      // or the flow no longer needed them (a quorum was reached). Their line says so.
      case 'step.cancelled':
        if (!this.#starts.has(event.step) || this.#branches.get(event.step)?.state !== 'running')
          return undefined
        this.#branches.set(event.step, { name: event.step, state: 'cancelled' })
        this.#stopWriting(event.step)
        return this.snapshot()
      case 'run.first':
        v.status = 'first'
        // The first result replaces the streamed text; branches stop being shown as writing.
        this.#texts.clear()
        this.#leader = undefined
        v.first = { label: this.#firstLabel, markdown: asMarkdown(event.value) }
        if (this.#replayed.has(event.step)) delete v.firstMs
        else v.firstMs = v.elapsedMs
        return this.snapshot()
      default:
        return undefined
    }
  }

  /**
   * A branch's text so far, as its model writes it. Returns true when the text the reply shows
   * changed: it is the leading branch's (the first branch to write leads while it runs; when it
   * finishes, fails or is cancelled, the running branch with the most text takes over) and no first
   * result is shown yet.
   */
  stream(step: string, text: string): boolean {
    if (this.#view.status !== 'working' || this.#branches.get(step)?.state !== 'running') return false
    this.#texts.set(step, text)
    this.#leader ??= step
    return this.#leader === step
  }

  /** The view with the leading branch's text, while it is still the one to show. */
  streamingView(): ReplyView | undefined {
    if (this.#view.status !== 'working' || this.#leader === undefined) return undefined
    return this.snapshot()
  }

  /**
   * A branch stopped writing (it finished, failed, was cancelled or tries again from the start): its
   * text is dropped and, if it led, the running branch that has written most leads. True if it led.
   */
  #stopWriting(step: string): boolean {
    this.#texts.delete(step)
    if (this.#leader !== step) return false
    this.#lead()
    return true
  }

  /** The running branch that has written the most leads now (none: the next to write will). */
  #lead(): void {
    let best: string | undefined
    for (const [step, text] of this.#texts) {
      if (this.#branches.get(step)?.state !== 'running') continue
      if (best === undefined || text.length > (this.#texts.get(best) as string).length) best = step
    }
    this.#leader = best
  }

  /** The terminal view for a finished run. */
  finish(result: RunResult, stoppedBy?: string | undefined): ReplyView {
    const v = this.#view
    v.elapsedMs = Math.round(result.durationMs + this.#offsetMs)
    if (result.status === 'completed') {
      v.status = 'final'
      v.final = { markdown: asMarkdown(result.output) }
      if (this.#voteOn) v.voteOn = true
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

  /** A run that ends without its flow finishing here: stopped from the journal, or abandoned. */
  close(how: { stoppedBy: string } | { error: string }): ReplyView {
    const v = this.#view
    if ('stoppedBy' in how) {
      v.status = 'stopped'
      v.stoppedBy = how.stoppedBy
    } else {
      v.status = 'failed'
      v.error = how.error
    }
    return this.snapshot()
  }

  /** The current view with a note under it (e.g. "continues after the restart"). */
  withNotice(notice: string): ReplyView {
    return { ...this.snapshot(), notice }
  }

  snapshot(): ReplyView {
    const v = this.#view
    const leader = v.status === 'working' ? this.#leader : undefined
    const streamed = leader === undefined ? undefined : this.#texts.get(leader)
    return {
      ...v,
      progress: { ...v.progress },
      branches: [...this.#branches.values()].map((b) =>
        b.name === leader && b.state === 'running' && streamed !== undefined
          ? { ...b, writing: true }
          : { ...b },
      ),
      ...(leader === undefined || streamed === undefined
        ? {}
        : { streaming: { step: leader, markdown: streamed } }),
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
  // A question no one answered, or one that could not be asked: its own words say what to do.
  const asked = rootOf(result.error)
  if (asked !== undefined) return sentence(describeFailure(asked))
  const { failed, total, noun } = view.progress
  if (total > 0 && failed === total) {
    return `All ${total} ${noun} failed: ${view.failures[0]?.message ?? why}. Please try again in a moment.`
  }
  const step = failedStepOf(result.error)
  const where = step === undefined ? '' : ` (step ${step} failed)`
  return `Chorus could not finish: ${why}${where}. Please try again in a moment.`
}

/** The ask error at the root of a run's failure, if that is what stopped it. */
function rootOf(error: unknown): unknown {
  let e = error as { code?: unknown; cause?: unknown } | undefined
  while (e?.code === 'upstream_failed' || e?.code === 'final_not_reached') e = e.cause as typeof e
  return e?.code === 'no_answer' || e?.code === 'ask' ? e : undefined
}

/** A capital first letter and one full stop at the end. */
function sentence(text: string): string {
  const t = text.trim()
  return `${t.charAt(0).toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`
}

/** A step's output as markdown: text as is, anything else as a JSON code block. */
export function asMarkdown(value: unknown): string {
  if (typeof value === 'string') return value
  return `\`\`\`\n${JSON.stringify(value, null, 2)}\n\`\`\``
}
