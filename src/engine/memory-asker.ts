/**
 * An asker that keeps its questions in memory: for tests and the console, where nothing outlives the
 * process. Answers come in through `answer`; the deadline is a timer; the rule is tally.ts'.
 */
import { type Answer, type Asker, NoAnswerError, type Question } from './ask.ts'
import { CancelledError } from './errors.ts'
import { decide, type Vote } from './tally.ts'

export type AnswerResult =
  | { ok: true; decided: boolean }
  | { ok: false; reason: 'unknown' | 'not_allowed' | 'decided' | 'invalid'; message: string }

interface Open {
  question: Question
  votes: Vote[]
  settle(answer: Answer<unknown> | Error): void
}

export class MemoryAsker implements Asker {
  readonly #requester: string
  readonly #open = new Map<string, Open>()
  readonly #onAsk: ((question: Question) => void) | undefined

  /** `requester`: the user id that `who: 'requester'` means. `onAsk` hears each new question. */
  constructor(options: { requester?: string; onAsk?: (question: Question) => void } = {}) {
    this.#requester = options.requester ?? 'requester'
    this.#onAsk = options.onAsk
  }

  /** Questions still open, oldest first. */
  get open(): Question[] {
    return [...this.#open.values()].map((o) => o.question)
  }

  ask(question: Question, signal: AbortSignal): Promise<Answer<unknown>> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason ?? new CancelledError('cancelled'))
        return
      }
      const timer = deadlineTimer(question.timeoutMs, () => this.close(question.id))
      const onAbort = (): void => entry.settle(signal.reason ?? new CancelledError('cancelled'))
      const entry: Open = {
        question,
        votes: [],
        settle: (answer) => {
          timer.clear()
          signal.removeEventListener('abort', onAbort)
          this.#open.delete(question.id)
          if (answer instanceof Error) reject(answer)
          else resolve(answer)
        },
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#open.set(question.id, entry)
      this.#onAsk?.(question)
    })
  }

  /** `user` answers question `id` (a choice's value, or the form's fields). */
  answer(id: string, user: string, value: unknown): AnswerResult {
    const entry = this.#open.get(id)
    if (entry === undefined)
      return { ok: false, reason: 'unknown', message: 'That question is no longer open.' }
    const { question } = entry
    if (!mayAnswer(question, user, this.#requester))
      return { ok: false, reason: 'not_allowed', message: 'You are not among those asked.' }
    if (question.choices !== undefined && !question.choices.some((c) => c.value === value))
      return {
        ok: false,
        reason: 'invalid',
        message: `Pick one of: ${question.choices.map((c) => c.label).join(', ')}.`,
      }
    if (question.form !== undefined) {
      const parsed = question.form.schema.safeParse(value)
      if (!parsed.success)
        return { ok: false, reason: 'invalid', message: parsed.error.issues.map((i) => i.message).join('; ') }
    }
    const mine = entry.votes.find((v) => v.user === user)
    if (mine !== undefined) mine.value = value
    else entry.votes.push({ user, value })
    const decision = decide(question, entry.votes, false, user)
    if (decision === undefined) return { ok: true, decided: false }
    entry.settle(
      decision.ok
        ? { ...decision, value: decision.value }
        : new NoAnswerError(question, decision.answers, decision.tally),
    )
    return { ok: true, decided: true }
  }

  /** Closes question `id` now, as its deadline would (the console closes a vote when its input ends). */
  close(id: string): void {
    const entry = this.#open.get(id)
    if (entry === undefined) return
    const decision = decide(entry.question, entry.votes, true)
    if (decision === undefined || !decision.ok)
      entry.settle(new NoAnswerError(entry.question, entry.votes, decision?.tally ?? []))
    else entry.settle(decision)
  }
}

/** Whether `user` may answer: the requester, anyone, or one of the named users. */
export function mayAnswer(question: Pick<Question, 'who'>, user: string, requester: string): boolean {
  const { who } = question
  if (who === 'anyone') return true
  if (who === 'requester') return user === requester
  return who.users.includes(user)
}

/** Node: a timer past 2^31 - 1 ms fires after 1 ms; a question may stay open for days (`'30d'`). */
const MAX_TIMER_MS = 2 ** 31 - 1

/** Calls `fn` after `ms`, in legs a timer can hold. */
function deadlineTimer(ms: number, fn: () => void): { clear(): void } {
  const end = performance.now() + ms
  let timer: ReturnType<typeof setTimeout>
  const arm = (): void => {
    const left = end - performance.now()
    timer = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fn, Math.max(0, left))
  }
  arm()
  return { clear: () => clearTimeout(timer) }
}
