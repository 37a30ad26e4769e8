import { fromText } from './opaque.ts'
import type { StepEntry, StepTiming } from './types.ts'

/** Index entries a recent-runs read looks at per index at most, however few match its filter. */
export const RECENT_SCAN_CAP = 10_000

/** Marks a failure kept with its timing (`{ e, t }` as JSON); a failure without one is its bare text. */
const TIMED_FAILURE = '\u0001'

/**
 * A step outcome's value in a run's steps hash. A success is `1` and `{ v, t }` as JSON (`fromText`
 * reads `v`, so its timing costs no other field or command); a failure is its error, or the marker
 * and `{ e, t }` when it has a timing.
 */
export function stepValue(
  outcome: { ok: true; value: unknown } | { ok: false; error: string },
  timing: StepTiming | undefined,
): string {
  if (outcome.ok)
    return `1${JSON.stringify(timing === undefined ? { v: outcome.value } : { v: outcome.value, t: timing })}`
  return timing === undefined
    ? outcome.error
    : `${TIMED_FAILURE}${JSON.stringify({ e: outcome.error, t: timing })}`
}

/** Every settled step call in a steps hash: a success hides the failure of the same call. */
export function stepEntries(hash: Record<string, string>): StepEntry[] {
  const entries = new Map<string, StepEntry>()
  for (const [field, value] of Object.entries(hash)) {
    const failed = field.startsWith('!')
    const key = failed ? field.slice(1) : field
    const colon = key.indexOf(':')
    if (colon < 0) continue // finish's `_`
    const step = key.slice(colon + 1)
    const call = Number(key.slice(0, colon))
    if (!failed && value.startsWith('1')) {
      const t = (JSON.parse(value.slice(1)) as { t?: StepTiming }).t
      entries.set(key, {
        step,
        call,
        ok: true,
        value: fromText(value.slice(1)),
        ...(t === undefined ? {} : { timing: t }),
      })
    } else if (!entries.get(key)?.ok) {
      // A failure: its own `!` field, or a '0' value from before failures moved apart.
      const text = failed ? value : value.slice(1)
      if (text.startsWith(TIMED_FAILURE)) {
        const { e, t } = JSON.parse(text.slice(1)) as { e: string; t: StepTiming }
        entries.set(key, { step, call, ok: false, error: e, timing: t })
      } else entries.set(key, { step, call, ok: false, error: text })
    }
  }
  return [...entries.values()].sort(
    (a, b) => a.call - b.call || (a.step < b.step ? -1 : a.step > b.step ? 1 : 0),
  )
}
