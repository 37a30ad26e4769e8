/**
 * The asker of a journaled run: each question is recorded first (its deadline fixed then), posted
 * once, decided exactly once through the store, and waited for in memory only while the run is live.
 * A run whose live steps all wait for people parks (runs/park.ts); when it is woken, the asking step
 * runs again and finds its decision here without posting anything twice.
 */
import type { Logger } from 'pino'
import {
  type Answer,
  AskError,
  type Asker,
  CancelledError,
  decide,
  NoAnswerError,
  type Question,
} from '../../engine/index.ts'
import type { QuestionRecord } from '../../store/index.ts'
import type { Platform } from '../platform.ts'
import type { Runs } from '../runs/runs.ts'
import { closeAtDeadline, withdraw } from './answer.ts'
import { specOf, viewOf } from './spec.ts'
import { CannotAskError, type QuestionSpec } from './types.ts'

const MAX_TIMER_MS = 2 ** 31 - 1

/** A question this run waits for in memory. */
interface Waiting {
  step: string
  deadlineAt: number
  /** Read the record again (a wake): settles the wait when it is decided. */
  recheck(): Promise<void>
}

export interface JournalAskerPlan {
  runs: Runs
  runId: string
  requester: { id: string; name: string }
  platform: Platform | undefined
  log: Logger
  /** The set of questions waited for changed (the run may be able to park). */
  onChange(): void
  /** Settles once the run's reply is on screen: a question is posted after it, not above it. */
  replyShown: Promise<void>
}

/** A question waits at most this long for its run's reply to appear before it is posted anyway. */
const REPLY_WAIT_MS = 5_000

export class JournalAsker implements Asker {
  readonly #plan: JournalAskerPlan
  readonly #waiting = new Map<string, Waiting>()
  /** Set while the run parks or is suspended: its questions stay open for the next process. */
  #leaving = false

  constructor(plan: JournalAskerPlan) {
    this.#plan = plan
  }

  /** The steps waiting for people now, and the earliest deadline among their questions. */
  get waiting(): { steps: Set<string>; wakeAt: number | undefined } {
    const all = [...this.#waiting.values()]
    const wakeAt = all.length === 0 ? undefined : Math.min(...all.map((w) => w.deadlineAt))
    return { steps: new Set(all.map((w) => w.step)), wakeAt }
  }

  /** The run is parking or suspending: its open questions are left open, not withdrawn. */
  leave(): void {
    this.#leaving = true
  }

  /** A question was decided elsewhere (or might have been): every wait reads its record again. */
  async wake(): Promise<void> {
    await Promise.all([...this.#waiting.values()].map((w) => w.recheck()))
  }

  async ask(question: Question, signal: AbortSignal): Promise<Answer<unknown>> {
    const { runs, runId, requester, log } = this.#plan
    const now = Date.now()
    let record = await runs.store.openQuestion({
      runId,
      id: question.id,
      step: question.step,
      spec: specOf(question, requester),
      createdAt: now,
      deadlineAt: now + question.timeoutMs,
    })
    if (record.decision === undefined && record.message === undefined)
      log.info({ event: 'ask.opened', question: question.id, deadlineAt: record.deadlineAt }, 'ask.opened')
    record = await this.#settleEarly(record)
    if (record.decision === undefined && record.message === undefined)
      record = await this.#post(question, record)
    if (record.decision !== undefined) return answerOf(question, record)
    const form = `${runId}/${question.id}`
    if (question.form !== undefined) runs.forms.set(form, question.form.schema)
    try {
      return await this.#wait(question, record, signal)
    } finally {
      runs.forms.delete(form)
    }
  }

  /** Answers given before the question was recorded (or while no one waited), and a passed deadline. */
  async #settleEarly(start: QuestionRecord): Promise<QuestionRecord> {
    let record = start
    if (record.decision !== undefined) return record
    if (Date.now() >= record.deadlineAt) return await this.#close(record)
    const decision = decide(record.spec as QuestionSpec, record.answers, false, record.answers.at(-1)?.user)
    if (decision === undefined) return record
    const claim = await this.#plan.runs.store.decide(
      record.runId,
      record.id,
      { ...decision, at: Date.now() },
      record.version,
    )
    record = claim.record ?? record
    if (claim.won) await this.#edit(record)
    return record
  }

  /** Posts the question; a platform that cannot is a failed ask with its reason, never a silent wait. */
  async #post(question: Question, record: QuestionRecord): Promise<QuestionRecord> {
    const { runs, runId, platform, log } = this.#plan
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.#plan.replyShown,
      new Promise((r) => {
        timer = setTimeout(r, REPLY_WAIT_MS)
      }),
    ])
    clearTimeout(timer)
    const run = await runs.store.get(runId)
    if (platform?.postQuestion === undefined || run === undefined)
      throw new AskError(
        question.step,
        `Chorus cannot ask questions on ${run?.target.platform ?? 'this platform'}`,
      )
    try {
      const message = await platform.postQuestion(run.target, viewOf(record), { log })
      await runs.store.setQuestionMessage(runId, record.id, message)
      return { ...record, message }
    } catch (error) {
      const reason = error instanceof CannotAskError ? error.message : 'Chorus could not post the question.'
      await withdraw(runs, record, reason)
      log.warn({ err: error, event: 'ask.post_failed', question: record.id }, 'ask.post_failed')
      throw new AskError(question.step, reason)
    }
  }

  #wait(question: Question, record: QuestionRecord, signal: AbortSignal): Promise<Answer<unknown>> {
    const { runs, runId } = this.#plan
    return new Promise((resolve, reject) => {
      let settled = false
      const finish = (outcome: { record: QuestionRecord } | { error: unknown }): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        this.#waiting.delete(question.id)
        this.#plan.onChange()
        if ('error' in outcome) reject(outcome.error)
        else {
          try {
            resolve(answerOf(question, outcome.record))
          } catch (error) {
            reject(error)
          }
        }
      }
      const recheck = (): Promise<void> =>
        runs.store.question(runId, question.id).then(
          (r) => {
            if (r?.decision !== undefined) finish({ record: r })
          },
          (err: unknown) => this.#plan.log.warn({ err, question: question.id }, 'ask.recheck_failed'),
        )
      const onDeadline = (): void => {
        runs.store
          .question(runId, question.id)
          .then((r) => (r === undefined ? record : this.#close(r)))
          .then(
            (r) => finish({ record: r }),
            (error: unknown) => finish({ error }),
          )
      }
      const onAbort = (): void => {
        const reason = signal.reason ?? new CancelledError('cancelled')
        finish({ error: reason })
        if (!this.#leaving) void this.#withdraw(question.id, 'the run no longer needs it.')
      }
      // A timer holds at most 24.8 days: a longer wait is re-armed until the deadline.
      let timer: NodeJS.Timeout
      const arm = (): void => {
        const left = record.deadlineAt - Date.now()
        timer =
          left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(onDeadline, Math.max(0, left))
      }
      arm()
      if (signal.aborted) {
        onAbort()
        return
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#waiting.set(question.id, { step: question.step, deadlineAt: record.deadlineAt, recheck })
      this.#plan.onChange()
      // An answer may have decided it between the post and now.
      void recheck()
    })
  }

  /** Decides at the deadline (once, whoever gets there first) and shows the outcome. */
  async #close(record: QuestionRecord): Promise<QuestionRecord> {
    const closed = await closeAtDeadline(this.#plan.runs, record)
    if (record.decision === undefined) await this.#edit(closed)
    return closed
  }

  async #withdraw(id: string, why: string): Promise<void> {
    const { runs, runId, log } = this.#plan
    try {
      const record = await runs.store.question(runId, id)
      if (record === undefined || record.decision !== undefined) return
      await this.#edit(await withdraw(runs, record, why))
    } catch (err) {
      log.warn({ err, question: id }, 'ask.withdraw_failed')
    }
  }

  /** Shows a question's state on its message; a failed edit is logged (the decision stands). */
  async #edit(record: QuestionRecord): Promise<void> {
    const { runs, runId, platform, log } = this.#plan
    if (record.message === undefined || platform?.editQuestion === undefined) return
    try {
      const run = await runs.store.get(runId)
      if (run !== undefined) await platform.editQuestion(run.target, record.message, viewOf(record), { log })
    } catch (err) {
      log.warn({ err, event: 'ask.edit_failed', question: record.id }, 'ask.edit_failed')
    }
  }
}

/** The decided record as the step's answer, or the error the step fails with. */
function answerOf(question: Question, record: QuestionRecord): Answer<unknown> {
  const d = record.decision
  const nameOf = (user: string | undefined): string | undefined =>
    user === undefined ? undefined : (record.answers.find((a) => a.user === user)?.name ?? user)
  if (d === undefined) throw new AskError(question.step, `question ${question.id} is not decided`)
  if (d.withdrawn !== undefined) throw new AskError(question.step, d.withdrawn)
  const answers = d.answers.map((a) => ({ user: nameOf(a.user) ?? a.user, value: a.value }))
  if (!d.ok) throw new NoAnswerError(question, answers, d.tally)
  return { value: d.value, outcome: d.outcome, by: nameOf(d.by), answers, tally: d.tally }
}
