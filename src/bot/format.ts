import type { ReplyView } from './types.ts'

/** `1.2 s`, or `–` when there is no time yet. */
export function seconds(ms: number | undefined): string {
  return ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`
}

/** `2/5 ideas ready, 1 failed`. */
export function progressText(view: ReplyView): string {
  const { done, failed, total, noun } = view.progress
  return `${done}/${total} ${noun} ready${failed > 0 ? `, ${failed} failed` : ''}`
}

/** The line under a finished reply: `5/5 ideas · first after 0.8 s · all after 2.3 s · failed: …`. */
export function summaryText(view: ReplyView): string {
  const { done, total, noun } = view.progress
  const parts = [
    `${done}/${total} ${noun}`,
    `first after ${seconds(view.firstMs)}`,
    `all after ${seconds(view.elapsedMs)}`,
  ]
  if (view.failures.length > 0)
    parts.push(`failed: ${view.failures.map((f) => `${f.step} (${f.message})`).join(', ')}`)
  return parts.join(' · ')
}

/** Said on every reply that comes from the offline demo model. */
export const DEMO_NOTE = 'Demo model: canned text, not a real model. Set OPENAI_API_KEY for real answers.'
