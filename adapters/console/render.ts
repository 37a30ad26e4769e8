import { progressText, type ReplyView, seconds, summaryText, usageText } from '../../src/bot/index.ts'

/** Terminal text for one reply view. */
export function renderView(view: ReplyView): string {
  const demo = view.demo ? ' [demo model]' : ''
  const used = usageText(view)
  const usage = used === undefined ? '' : `  (${used})\n`
  switch (view.status) {
    case 'working':
      return `… ${view.title}: ${progressText(view)} (${seconds(view.elapsedMs)})`
    case 'first':
      return `\n⚡ ${view.first?.label ?? 'First result'} after ${seconds(view.firstMs ?? view.elapsedMs)}${demo}\n${indent(view.first?.markdown ?? '')}\n`
    case 'final':
      return `\n✔ ${view.title}${demo}\n${indent(view.final?.markdown ?? '')}\n  (${summaryText(view)})\n${usage}`
    case 'failed':
      return `\n✖ ${view.title}: ${view.error ?? 'failed'}\n${usage}`
    case 'stopped':
      return `\n■ ${view.title}: stopped by ${view.stoppedBy ?? 'someone'} after ${seconds(view.elapsedMs)}\n${usage}`
  }
}

function indent(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')
}
