import type { z } from 'zod'
import { closesText, ruleText } from '../../src/bot/index.ts'
// The bot does not re-export the engine's in-memory asker (yet); the console needs nothing else of it.
import {
  type Answer,
  type Asker,
  CancelledError,
  MemoryAsker,
  NoAnswerError,
  type Question,
} from '../../src/engine/index.ts'
import type { Lines } from './lines.ts'
import { printable, styleMarkdown } from './markdown.ts'
import type { ConsoleSink, Out } from './sink.ts'

/** Where a console run's questions are shown and answered. */
export interface ConsoleIO {
  out: Out
  /** The input's lines; opened when the first question needs them. */
  lines(): Lines
  sink: ConsoleSink
}

type Choice = { value: string; label: string }

/**
 * Puts a console run's questions to whoever types at it, one question at a time, and keeps them in a
 * MemoryAsker (its deadline timer and decision rule). Who may answer is moot on a console: the person
 * at it is everyone asked. In a vote each line is one more voter (`console 1`, `console 2`, …), and an
 * empty line or the end of the input closes it as its deadline would; a single question still open
 * when the input ends closes at once (its `onTimeout`, or no answer).
 */
export class ConsoleAsker implements Asker {
  readonly #memory: MemoryAsker
  readonly #user: string
  readonly #io: ConsoleIO
  /** The question being answered: the next waits for it. */
  #turn: Promise<void> = Promise.resolve()

  /** `user`: who ran the command; the single answers are theirs. */
  constructor(user: string, io: ConsoleIO) {
    this.#memory = new MemoryAsker({ requester: user })
    this.#user = user
    this.#io = io
  }

  ask(question: Question, signal: AbortSignal): Promise<Answer<unknown>> {
    const pending = this.#memory.ask({ ...question, who: 'anyone' }, signal)
    // Settled by an answer, its deadline or an abort: stop reading for it, and say how it ended.
    const settled = new AbortController()
    let shown = false
    const end = (how: string | undefined): void => {
      settled.abort()
      if (shown && how !== undefined) this.#io.out.write(`  ${how}\n`)
    }
    pending.then(
      (answer) => end(outcomeText(question, answer)),
      (error: unknown) => end(closedText(error)),
    )
    const turn = async (): Promise<void> => {
      if (settled.signal.aborted) return
      shown = true
      await this.#converse(question, settled.signal)
    }
    this.#turn = this.#turn.then(turn)
    return pending
  }

  async #converse(question: Question, settled: AbortSignal): Promise<void> {
    const { out, sink } = this.#io
    let release = (): void => {}
    try {
      const lines = this.#io.lines()
      release = sink.hold(() => {
        if (!lines.terminal) return
        out.write(`  (still open: ${firstLine(question.prompt)})\n`)
        lines.reprompt()
      })
      out.write(questionText(question, out.isTTY === true))
      if (question.form !== undefined) await this.#fill(question, question.form.schema, lines, settled)
      else await this.#choose(question, lines, settled)
    } catch (error) {
      // Reading failed (the input broke): decide as the deadline would rather than wait for it.
      out.write(`  Could not read an answer: ${(error as Error)?.message ?? String(error)}\n`)
      this.#memory.close(question.id)
    } finally {
      release()
    }
  }

  /** A choice, or a vote of one line per voter. */
  async #choose(question: Question, lines: Lines, settled: AbortSignal): Promise<void> {
    const { out } = this.#io
    const choices = question.choices ?? []
    const vote = question.collect !== undefined
    const counts = new Map<string, number>()
    let voters = 0
    for (;;) {
      lines.prompt(vote ? 'vote> ' : 'answer> ')
      const line = await lines.next(settled)
      if (settled.aborted) return
      const text = line?.trim() ?? ''
      if (line === undefined || (vote && text === '')) {
        this.#memory.close(question.id)
        return
      }
      if (text === '') continue
      const choice = choiceOf(choices, text)
      if (choice === undefined) {
        out.write(`  ✖ "${printable(text)}" is not a choice: type 1 to ${choices.length}, or a label.\n`)
        continue
      }
      counts.set(choice.value, (counts.get(choice.value) ?? 0) + 1)
      const tally = choices.map((c) => `${printable(c.label)} ${counts.get(c.value) ?? 0}`).join(' · ')
      out.write(vote ? `  → ${printable(choice.label)} (${tally})\n` : `  → ${printable(choice.label)}\n`)
      const result = this.#memory.answer(question.id, vote ? `console ${++voters}` : this.#user, choice.value)
      if (!result.ok) out.write(`  ✖ ${result.message}\n`)
      if (!result.ok && result.reason === 'unknown') return
      if (result.ok && result.decided) return
    }
  }

  /** A form: each field in turn, checked as it is typed, then the whole through the form's schema. */
  async #fill(question: Question, schema: z.ZodObject, lines: Lines, settled: AbortSignal): Promise<void> {
    const { out } = this.#io
    const fields = Object.entries(schema.shape) as Array<[string, z.ZodType]>
    for (;;) {
      const value: Record<string, string> = {}
      for (const [name, field] of fields) {
        const label = printable(field.description ?? name)
        for (;;) {
          lines.prompt(`  ${label}: `)
          const line = await lines.next(settled)
          if (settled.aborted) return
          if (line === undefined) {
            this.#memory.close(question.id)
            return
          }
          const text = line.trim()
          // A blank optional field is left out, as an empty modal input is.
          const raw = text === '' && field.safeParse(undefined).success ? undefined : text
          const parsed = field.safeParse(raw)
          if (!parsed.success) {
            out.write(`  ✖ ${label}: ${parsed.error.issues.map((i) => i.message).join('; ')}\n`)
            continue
          }
          if (!lines.terminal) out.write(`  ${label}: ${printable(text)}\n`)
          if (raw !== undefined) value[name] = raw
          break
        }
      }
      const result = this.#memory.answer(question.id, this.#user, value)
      if (result.ok) return
      out.write(`  ✖ ${result.message}\n`)
      if (result.reason === 'unknown') return
    }
  }
}

/** The choice a typed line names: its number, label or value (case aside). */
export function choiceOf(choices: readonly Choice[], text: string): Choice | undefined {
  if (/^\d+$/.test(text)) return choices[Number(text) - 1]
  const lower = text.toLowerCase()
  return (
    choices.find((c) => c.label.toLowerCase() === lower) ??
    choices.find((c) => c.value.toLowerCase() === lower)
  )
}

/** The question as printed: its prompt, numbered choices, how a vote closes and when it times out. */
function questionText(q: Question, styled: boolean): string {
  const prompt = (styled ? styleMarkdown(q.prompt.trim()) : printable(q.prompt.trim())).split('\n')
  const out = ['', `? ${prompt[0] ?? ''}`, ...prompt.slice(1).map((l) => `  ${l}`)]
  for (const [i, c] of (q.choices ?? []).entries()) out.push(`  ${i + 1}) ${printable(c.label)}`)
  const rule = ruleText(q)
  if (rule !== undefined) out.push(`  ${rule} One vote per line; an empty line closes the vote now.`)
  const fallback = q.onTimeout === undefined ? '' : `; then ${labelOf(q, q.onTimeout.value)} applies`
  out.push(`  (${closesText(Date.now() + q.timeoutMs)}${fallback})`)
  return `${out.join('\n')}\n`
}

/** How a question was decided, for votes and deadlines; a single answer was already echoed. */
function outcomeText(q: Question, answer: Answer<unknown>): string | undefined {
  const label = labelOf(q, answer.value)
  const votes = answer.answers.length
  const count = answer.tally.find((t) => t.value === answer.value)?.count ?? 0
  switch (answer.outcome) {
    case 'answered':
      return undefined
    case 'timeout':
      return `No answer in time: ${label} applies.`
    default:
      return `Vote closed: ${label} (${count} of ${votes} ${votes === 1 ? 'vote' : 'votes'}).`
  }
}

function closedText(error: unknown): string {
  if (error instanceof NoAnswerError)
    return `${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}.`
  if (error instanceof CancelledError) return `Question closed: ${error.reason}.`
  return `Question closed: ${(error as Error)?.message ?? String(error)}.`
}

function labelOf(q: Question, value: unknown): string {
  const choice = q.choices?.find((c) => c.value === value)
  return printable(choice?.label ?? (typeof value === 'string' ? value : 'the default'))
}

function firstLine(text: string): string {
  const line = printable(text.trim().split('\n')[0] ?? '')
  return line.length > 60 ? `${line.slice(0, 59)}…` : line
}
