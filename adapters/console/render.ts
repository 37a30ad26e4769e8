import type { ReplyView } from '../../src/bot/index.ts'

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

/** Terminal text for one reply view. */
export function renderView(view: ReplyView): string {
  const { done, failed, total, noun } = view.progress
  const demo = view.demo ? ' [demo model]' : ''
  switch (view.status) {
    case 'working':
      return `… ${view.title}: ${done}/${total} ${noun} ready${failed > 0 ? `, ${failed} failed` : ''} (${seconds(view.elapsedMs)})`
    case 'first':
      return `\n⚡ ${view.first?.label ?? 'First result'} after ${seconds(view.firstMs ?? view.elapsedMs)}${demo}\n${indent(view.first?.markdown ?? '')}\n`
    case 'final': {
      const failures =
        view.failures.length > 0
          ? `\n  Failed: ${view.failures.map((f) => `${f.step} (${f.message})`).join(', ')}`
          : ''
      const timing = `first after ${view.firstMs === undefined ? '–' : seconds(view.firstMs)}, all after ${seconds(view.elapsedMs)}`
      return `\n✔ ${view.title} (${done}/${total} ${noun}; ${timing})${demo}\n${indent(view.final?.markdown ?? '')}${failures}\n`
    }
    case 'failed':
      return `\n✖ ${view.title}: ${view.error ?? 'failed'}\n`
    case 'stopped':
      return `\n■ ${view.title}: stopped by ${view.stoppedBy ?? 'someone'} after ${seconds(view.elapsedMs)}\n`
  }
}

function indent(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')
}
