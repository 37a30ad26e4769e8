/**
 * When a question is decided, as a pure rule over its answers: the engine's in-memory asker, the bot
 * taking a click and the run applying a deadline all decide with this, so they cannot disagree.
 */

/** Every choice with its count, most first; ties keep the declared order. */
export type Tally<T> = Array<{ value: T; label: string; count: number }>

/** One person's counted answer (their last). */
export interface Vote {
  user: string
  value: unknown
}

/** What a question's decision depends on (plain data: it is journaled with the question). */
export interface Rule {
  /** Choice questions; undefined for a form. */
  choices: Array<{ value: string; label: string }> | undefined
  /** undefined: the first answer decides. */
  collect: { agree?: number; answers?: number } | undefined
  onTimeout: { value: unknown } | undefined
}

export type Decision =
  | {
      ok: true
      value: unknown
      outcome: 'answered' | 'agreed' | 'counted' | 'closed' | 'timeout'
      by: string | undefined
      answers: Vote[]
      tally: Tally<unknown>
    }
  /** Closed with no decision (no answer, or a tie) and no `onTimeout`: the step fails. */
  | { ok: false; answers: Vote[]; tally: Tally<unknown> }

/** Counts the answers per choice (forms: empty). */
export function tallyOf<T>(
  choices: ReadonlyArray<{ value: string; label: string }>,
  answers: readonly Vote[],
): Tally<T> {
  const counts = choices.map((c, i) => ({ value: c.value as T, label: c.label, count: 0, i }))
  for (const a of answers) {
    const entry = counts.find((c) => c.value === a.value)
    if (entry !== undefined) entry.count++
  }
  return counts
    .sort((a, b) => b.count - a.count || a.i - b.i)
    .map(({ value, label, count }) => ({ value, label, count }))
}

/**
 * The decision the answers so far make (`closing` false: undefined while it stays open), or the one
 * the deadline makes (`closing` true: always a decision). `last` is who answered last (who closed it).
 */
export function decide(
  rule: Rule,
  answers: readonly Vote[],
  closing: boolean,
  last?: string,
): Decision | undefined {
  const votes = [...answers]
  const tally = tallyOf(rule.choices ?? [], votes)
  const base = { answers: votes, tally }
  if (rule.collect === undefined) {
    const first = votes[0]
    if (first !== undefined)
      return { ok: true, value: first.value, outcome: 'answered', by: first.user, ...base }
    return closing ? timedOut(rule, base) : undefined
  }
  const { agree, answers: enough } = rule.collect
  const top = tally[0]
  if (agree !== undefined && top !== undefined && top.count >= agree)
    return { ok: true, value: top.value, outcome: 'agreed', by: last, ...base }
  const leader = top !== undefined && top.count > 0 && tally[1]?.count !== top.count ? top : undefined
  if (enough !== undefined && votes.length >= enough)
    return leader !== undefined
      ? { ok: true, value: leader.value, outcome: 'counted', by: last, ...base }
      : timedOut(rule, base)
  if (!closing) return undefined
  if (leader !== undefined)
    return { ok: true, value: leader.value, outcome: 'closed', by: undefined, ...base }
  return timedOut(rule, base)
}

function timedOut(rule: Rule, base: { answers: Vote[]; tally: Tally<unknown> }): Decision {
  if (rule.onTimeout === undefined) return { ok: false, ...base }
  return { ok: true, value: rule.onTimeout.value, outcome: 'timeout', by: undefined, ...base }
}
