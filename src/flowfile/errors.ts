/** What is wrong with a flow file, where: every problem found, each with its line and column. */
import { ChorusError } from '../errors.ts'

/** One problem, at a 1-based line and column of the file. */
export interface Problem {
  line: number
  col: number
  /** `<what is wrong>. <what to do>` */
  message: string
}

/** A flow file that cannot be loaded; its message lists `file:line:col: problem`, one per line. */
export class FlowFileError extends ChorusError {
  readonly file: string
  readonly problems: readonly Problem[]
  constructor(file: string, problems: readonly Problem[]) {
    const sorted = [...problems].sort((a, b) => a.line - b.line || a.col - b.col)
    super('flow_invalid', sorted.map((p) => `${file}:${p.line}:${p.col}: ${p.message}`).join('\n'))
    this.file = file
    this.problems = sorted
  }
}

/** `'a', 'b' and 'c'` */
export function listed(names: readonly string[]): string {
  const quoted = names.map((n) => `'${n}'`)
  return quoted.length <= 1
    ? (quoted[0] ?? '')
    : `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`
}

/** ` (did you mean 'x'?)` when one of `names` is a likely typo of `name`, else ''. */
export function didYouMean(name: string, names: Iterable<string>): string {
  let best: string | undefined
  let bestDistance = Math.max(1, Math.floor(name.length / 3))
  for (const candidate of names) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase())
    if (d <= bestDistance && (best === undefined || d < bestDistance)) {
      best = candidate
      bestDistance = d
    }
  }
  return best === undefined ? '' : ` (did you mean '${best}'?)`
}

/** Edit distance, a swap of two neighbours counting as one edit (`firts` → `first`). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  const at = (i: number, j: number): number => d[i]?.[j] as number
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1)
      ;(d[i] as number[])[j] = best
    }
  }
  return at(a.length, b.length)
}
