/** Shared aggregators for voting and synthesis flows (notes/llm-aggregation.md). */
import { extractAnswer, INVALID, normalizeAnswer } from './normalize.ts'

export interface Tally {
  /** The winning answer as first written (its extracted answer part); '' when every answer was invalid. */
  answer: string
  key: string
  count: number
  /** Every answer counted, invalid ones included. */
  total: number
  /** Answers with no readable content: never a winner. */
  invalid: number
  /** count / total: the agreement, used as confidence. */
  share: number
  /** Every distinct valid answer, most votes first, ties by first appearance. */
  tally: Array<{ answer: string; key: string; count: number }>
}

/** Plurality vote over normalised answers; ties go to the answer seen first; invalid answers never win. */
export function majority(answers: string[], normalize: (s: string) => string = normalizeAnswer): Tally {
  const groups = new Map<string, { answer: string; key: string; count: number; firstAt: number }>()
  let invalid = 0
  answers.forEach((answer, i) => {
    const key = normalize(answer)
    if (key === INVALID) {
      invalid++
      return
    }
    const group = groups.get(key)
    if (group === undefined) groups.set(key, { answer: extractAnswer(answer), key, count: 1, firstAt: i })
    else group.count++
  })
  const tally = [...groups.values()].sort((a, b) => b.count - a.count || a.firstAt - b.firstAt)
  const top = tally[0]
  return {
    answer: top?.answer ?? '',
    key: top?.key ?? INVALID,
    count: top?.count ?? 0,
    total: answers.length,
    invalid,
    share: answers.length === 0 ? 0 : (top?.count ?? 0) / answers.length,
    tally: tally.map(({ answer, key, count }) => ({ answer, key, count })),
  }
}

/**
 * Exact early stop: true once the leader cannot be caught (nor tied) by any other answer even
 * if every remaining vote went to that answer; the full vote's winner is then already known.
 */
export function leaderDecided(counts: number[], remaining: number): boolean {
  const sorted = [...counts].sort((a, b) => b - a)
  const leader = sorted[0] ?? 0
  const second = sorted[1] ?? 0
  return leader > second + remaining
}

export interface Idea {
  text: string
  /** How many of the lists proposed it. */
  count: number
}

/**
 * Splits model outputs into idea lines (bullets, numbered lines, paragraphs), and merges
 * near-duplicates (token Jaccard ≥ threshold). Most-proposed first, then first appearance.
 */
export function dedupeIdeas(outputs: string[], threshold = 0.6): Idea[] {
  const merged: Array<Idea & { tokens: Set<string>; lists: Set<number> }> = []
  outputs.forEach((output, list) => {
    for (const line of ideaLines(output)) {
      const tokens = tokensOf(line)
      if (tokens.size === 0) continue
      const same = merged.find((m) => jaccard(m.tokens, tokens) >= threshold)
      if (same === undefined) merged.push({ text: line, count: 1, tokens, lists: new Set([list]) })
      else if (!same.lists.has(list)) {
        same.lists.add(list)
        same.count++
      }
    }
  })
  return merged
    .map((m, i) => ({ ...m, i }))
    .sort((a, b) => b.count - a.count || a.i - b.i)
    .map(({ text, count }) => ({ text, count }))
}

function ideaLines(output: string): string[] {
  return output
    .split('\n')
    .map((l) => l.replace(/^\s*_\(demo\)_\s*/i, ''))
    .map((l) => l.replace(/^\s*(?:[-*•+]|\d+[.)])\s+/, '').trim())
    .filter((l) => l.length > 0 && !/^_.*_$/.test(l) && !l.endsWith(':'))
}

const STOP = new Set([
  'a',
  'an',
  'the',
  'and',
  'or',
  'of',
  'to',
  'for',
  'in',
  'on',
  'with',
  'that',
  'is',
  'it',
  'your',
  'our',
])

function tokensOf(line: string): Set<string> {
  const lower = line.toLowerCase()
  // Letters and digits of plain ASCII text are [a-z0-9]: the Unicode classes cost several times more.
  const words = !NOT_PLAIN.test(lower)
    ? lower.replace(/[^a-z0-9\s]/g, ' ')
    : lower.replace(/[^\p{L}\p{N}\s]/gu, ' ')
  return new Set(words.split(/\s+/).filter((t) => t.length > 1 && !STOP.has(t)))
}

/** Anything but printable ASCII and its whitespace. */
const NOT_PLAIN = /[^\t\n\v\f\r\x20-\x7e]/

function jaccard(a: Set<string>, b: Set<string>): number {
  let inter = 0
  for (const t of a) if (b.has(t)) inter++
  return inter / (a.size + b.size - inter)
}
