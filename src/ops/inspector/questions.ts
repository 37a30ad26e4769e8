import type { QuestionRecord } from '../../store/index.ts'
import { esc, when } from './html.ts'

/** A value as one short line of text. */
function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/**
 * The questions the run put to people (`ctx.ask`, `/decide`'s vote): what was asked, who answered
 * what and when, and how it was decided. Where a question was posted (platform data) is not shown.
 */
export function questionsView(questions: QuestionRecord[]): string {
  if (questions.length === 0) return ''
  const rows = questions.map((q) => {
    const prompt = (q.spec as { prompt?: unknown } | undefined)?.prompt
    const answers = q.answers.map((a) => `${a.name}: ${shown(a.value)} (${when(a.at)})`).join('\n')
    const d = q.decision
    const decision =
      d === undefined
        ? 'open'
        : d.withdrawn !== undefined
          ? `withdrawn: ${d.withdrawn}`
          : d.ok
            ? `${shown(d.value)} (${d.outcome}${d.by === undefined ? '' : ` by ${d.by}`}, ${when(d.at)})`
            : `no decision (${when(d.at)})`
    return `<tr data-question="${esc(q.id)}"><td>${esc(q.step)}</td><td>${esc(typeof prompt === 'string' ? prompt : q.id)}</td>
<td>${esc(when(q.createdAt))}<br><span class="muted">closes ${esc(when(q.deadlineAt))}</span></td>
<td style="white-space:pre-line">${esc(answers)}</td><td>${esc(decision)}</td></tr>`
  })
  return `<h2>Questions to people</h2><table id="questions"><thead><tr><th>step</th><th>asked</th><th>opened (UTC)</th><th>answers</th><th>decision</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
}
