import type { Pick, Tally } from '../../llm/index.ts'
import { truncate } from './text.ts'
import type { BranchState, ReplyView } from './types.ts'

/** `1.2 s`, or `–` when there is no time yet. */
export function seconds(ms: number | undefined): string {
  return ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`
}

/** `2/5 ideas ready, 1 failed`. */
export function progressText(view: ReplyView): string {
  const { done, failed, total, noun } = view.progress
  return `${done}/${total} ${noun} ready${failed > 0 ? `, ${failed} failed` : ''}`
}

/** A branch's reason is cut to this, so 8 branches fit a Discord embed field (1,024) and a Slack block. */
const BRANCH_REASON_MAX = 60

/**
 * `✓ slogan · 1.2 s`, `… tagline · running`, `✎ pitch · writing` (the branch whose text the reply
 * shows), `✗ moonshot · the model took too long`, `⏹ risk · cancelled`.
 */
export function branchLine(branch: BranchState): string {
  switch (branch.state) {
    case 'running':
      return branch.writing === true ? `✎ ${branch.name} · writing` : `… ${branch.name} · running`
    case 'done':
      return `✓ ${branch.name} · ${seconds(branch.ms)}`
    case 'failed':
      return `✗ ${branch.name} · ${truncate(branch.reason ?? 'failed', BRANCH_REASON_MAX)}`
    case 'cancelled':
      return `⏹ ${branch.name} · cancelled`
  }
}

/** A streamed text is shown from its start, at most this long: enough to read on while the rest comes. */
export const STREAMED_MAX = 2_800

/**
 * The start of an unfinished text, with a cursor where the model is writing. Markup the model has
 * opened but not yet closed (a code block, inline code, bold) is closed, so a half-written `**name`
 * shows bold rather than as asterisks, and a code block does not swallow the cursor.
 */
export function streamedText(markdown: string): string {
  let text = markdown.length > STREAMED_MAX ? `${markdown.slice(0, STREAMED_MAX)}…` : markdown
  const fences = text.match(/```/g)?.length ?? 0
  if (fences % 2 === 1) return `${text}\n\`\`\`\n▍`
  // Outside code blocks: inline code, then bold (`**` inside inline code does not count).
  const outside = text.split(/```[\s\S]*?```/).join('')
  if ((outside.match(/`/g)?.length ?? 0) % 2 === 1) text += '`'
  const plain = outside.split(/`[^`]*`?/).join('')
  if ((plain.match(/\*\*/g)?.length ?? 0) % 2 === 1) text = `${text.trimEnd()}**`
  return `${text} ▍`
}

/** The line under a finished reply: `5/5 ideas · first after 0.8 s · all after 2.3 s · failed: …`. */
export function summaryText(view: ReplyView): string {
  const { done, total, noun } = view.progress
  // A resumed run's first result was timed by the process that showed it: not said again.
  const parts = [
    `${done}/${total} ${noun}`,
    ...(view.firstMs === undefined ? [] : [`first after ${seconds(view.firstMs)}`]),
    `all after ${seconds(view.elapsedMs)}`,
  ]
  if (view.failures.length > 0)
    parts.push(`failed: ${view.failures.map((f) => `${f.step} (${f.message})`).join(', ')}`)
  return parts.join(' · ')
}

/** `1,234`: one formatter for every reply (`toLocaleString` builds one per call). */
const count = new Intl.NumberFormat('en-US').format

/**
 * `gpt-4o-mini · 6 calls · 1,234 tokens (1,000 in, 234 out) · ≈ $0.0003`, led by the budget when it
 * cut the run short; undefined without calls. The cost is left out when a model's price is unknown.
 */
export function usageText(view: ReplyView): string | undefined {
  const u = view.usage
  if (u === undefined || u.calls === 0) return undefined
  const parts = [
    u.models.join(', '),
    u.calls === 1 ? '1 call' : `${u.calls} calls`,
    `${count(u.tokens)} tokens (${count(u.promptTokens)} in, ${count(u.completionTokens)} out)`,
  ]
  if (u.costUsd !== undefined) parts.push(`≈ ${dollars(u.costUsd)}`)
  if (u.budgetReached !== undefined)
    parts.unshift(`Token budget of ${count(u.budgetReached)} reached: unfinished tasks were stopped`)
  return parts.join(' · ')
}

/** Said on every reply that comes from the offline demo model. */
export const DEMO_NOTE = 'Demo model: canned text, not a real model. Set OPENAI_API_KEY for real answers.'

/** What a vote's reply needs: the tally, what was not waited for or failed, and the judge's pick if asked. */
export interface VoteSummary {
  tally: Tally
  notNeeded: number
  failed: number
  /** The winner has more than half of the answers received and not needed. */
  strict: boolean
  pick?: Pick
  judgeFailed?: boolean
}

/**
 * A vote's reply: `*Paris*` then `4 of 4 answers agree; 1 not needed.`: the true tally of what was
 * received (never capped by the early stop), unreadable and failed answers, and a plain note when a
 * judge chose the answer.
 */
export function voteText(v: VoteSummary): string {
  const { tally } = v
  const received = tally.total
  const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`
  if (tally.count === 0) {
    return [
      '_No readable answer: every answer was empty or unreadable._',
      countsLine(v, `0 of ${plural(received, 'answer', 'answers')} readable`),
    ].join('\n')
  }
  const judged = v.pick?.judged === true
  const shownAnswer = judged ? (v.pick?.answer ?? tally.answer) : tally.answer
  const agree = `${tally.count} of ${plural(received, 'answer', 'answers')} ${tally.count === 1 ? 'agrees' : 'agree'}`
  const lines = [`*${shownAnswer}*`, countsLine(v, judged ? `most common: ${tally.answer}, ${agree}` : agree)]
  if (judged)
    lines.push('_No answer had a majority, so a judge model picked the one most consistent with the others._')
  else if (v.pick !== undefined || v.judgeFailed)
    lines.push('_No answer had a majority and the judge could not decide; this is the most common answer._')
  else if (!v.strict && received > 1) lines.push('_No answer had a majority; this is the most common one._')
  const others = tally.tally.filter((t) => t.key !== tally.key)
  if (others.length > 0)
    lines.push(`Other answers: ${others.map((t) => `${t.answer} (${t.count})`).join(', ')}`)
  return lines.join('\n')
}

function countsLine(v: VoteSummary, head: string): string {
  const parts = [head]
  if (v.notNeeded > 0) parts.push(`${v.notNeeded} not needed`)
  if (v.tally.invalid > 0) parts.push(`${v.tally.invalid} unreadable`)
  if (v.failed > 0) parts.push(`${v.failed} failed`)
  return `${parts.join('; ')}.`
}

/** `$0.0003`, `$0.042`, `$1.20`: two significant digits under a cent, cents above. */
function dollars(usd: number): string {
  if (usd === 0) return '$0'
  if (usd < 0.01) return `$${usd.toPrecision(2).replace(/0+$/, '')}`
  return `$${usd.toFixed(2)}`
}
