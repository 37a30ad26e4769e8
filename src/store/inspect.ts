import type { DeliveredView, RunSummary, StepTiming } from './types.ts'

/**
 * What the run inspector reads from a run, kept by both backends in the writes they already make:
 * a step's timing travels with its outcome, a view's time with its delivery, the totals with the
 * end. These are their text forms.
 */

/** `view:at,` appended per delivered view → when each was shown. */
export function shownTimes(text: string | undefined): Partial<Record<DeliveredView, number>> {
  const at: Partial<Record<DeliveredView, number>> = {}
  for (const part of (text ?? '').split(',')) {
    const colon = part.indexOf(':')
    if (colon > 0) at[part.slice(0, colon) as DeliveredView] = Number(part.slice(colon + 1))
  }
  return at
}

/** A run's totals (`RunSummary`) or a step's timing (`StepTiming`) from its JSON; none when empty. */
export function jsonOf<T extends RunSummary | StepTiming>(text: string | null | undefined): T | undefined {
  return text === null || text === undefined || text === '' ? undefined : (JSON.parse(text) as T)
}

/** The newest runs the list may show at once. */
export const MAX_RECENT = 500

/** The list's length: at least none, at most MAX_RECENT. */
export function recentLimit(limit: number): number {
  return Math.max(0, Math.min(Math.floor(limit), MAX_RECENT))
}
