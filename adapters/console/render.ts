import {
  branchLine,
  progressText,
  type ReplyView,
  seconds,
  summaryText,
  usageText,
} from '../../src/bot/index.ts'
import { printable, styleMarkdown } from './markdown.ts'

/** Terminal text for one reply view; `styled` (a terminal) renders the markdown, otherwise it stays as written. */
export function renderView(view: ReplyView, styled = false): string {
  const md = (text: string): string => indent(styled ? styleMarkdown(text) : text)
  const demo = view.demo ? ' [demo model]' : ''
  const used = usageText(view)
  const usage = used === undefined ? '' : `  (${used})\n`
  switch (view.status) {
    case 'working':
      return [
        `… ${view.title}: ${progressText(view)} (${seconds(view.elapsedMs)})`,
        ...view.branches.map((b) => `  ${branchLine(b)}`),
        ...(view.streaming === undefined ? [] : streamedLines(view.streaming.markdown)),
      ].join('\n')
    case 'first':
      return `\n⚡ ${view.first?.label ?? 'First result'} after ${seconds(view.firstMs ?? view.elapsedMs)} · asked by ${view.user}${demo}\n${md(view.first?.markdown ?? '')}\n`
    case 'final':
      return `\n✔ ${view.title} · asked by ${view.user}${demo}\n${md(view.final?.markdown ?? '')}\n  (${summaryText(view)})\n${usage}`
    case 'failed':
      return `\n✖ ${view.title}: ${view.error ?? 'failed'}\n${usage}`
    case 'stopped':
      return `\n■ ${view.title}: stopped by ${view.stoppedBy ?? 'someone'} after ${seconds(view.elapsedMs)}\n${usage}`
  }
}

/** Lines of a streamed text shown under the branches: the newest few, as they are written. */
const STREAMED_LINES = 6

function streamedLines(markdown: string): string[] {
  // Raw model text on a terminal: no escape sequences of the model's own, tabs as spaces.
  const lines = printable(markdown).replaceAll('\t', '  ').trimEnd().split('\n')
  const shown = lines.slice(-STREAMED_LINES)
  shown[shown.length - 1] = `${shown.at(-1) ?? ''} ▍`
  return ['', ...(lines.length > shown.length ? ['    …'] : []), ...shown.map((l) => `    ${l}`)]
}

function indent(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')
}
