/**
 * A strict parser for the Prometheus text exposition format (0.0.4): HELP and TYPE lines, samples
 * with escaped label values, float values (NaN, +Inf, -Inf in any case) and optional timestamps. Anything else
 * throws with the line number, so a malformed scrape fails the test.
 */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  type: string
  help: string
  samples: Sample[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created']

export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  const lines = text.split('\n')
  if (lines.at(-1) !== '') throw new Error('exposition must end with a newline')
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${line}`
    if (line === '') return
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
      if (m === null) return // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string]
      if (!NAME.test(name)) throw new Error(`bad metric name, ${where}`)
      const family = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] }
      families.set(name, family)
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`bad type, ${where}`)
        if (family.samples.length > 0) throw new Error(`TYPE after samples, ${where}`)
        family.type = rest
      } else family.help = rest
      return
    }
    const sample = parseSample(line, where)
    const base = familyOf(sample.name, families)
    const family = families.get(base)
    if (family === undefined) throw new Error(`sample without a TYPE or HELP, ${where}`)
    family.samples.push(sample)
  })
  return families
}

function familyOf(name: string, families: Map<string, Family>): string {
  if (families.has(name)) return name
  for (const suffix of SUFFIXES) {
    if (name.endsWith(suffix) && families.has(name.slice(0, -suffix.length)))
      return name.slice(0, -suffix.length)
  }
  return name
}

function parseSample(line: string, where: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)(?: (-?\d+))?$/.exec(line)
  if (m === null) throw new Error(`bad sample, ${where}`)
  const [, name, rawLabels, rawValue] = m as unknown as [string, string, string | undefined, string]
  const labels: Record<string, string> = {}
  if (rawLabels !== undefined) {
    let rest = rawLabels.slice(1, -1)
    while (rest.length > 0) {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/.exec(rest)
      if (lm === null) throw new Error(`bad labels, ${where}`)
      const [all, key, value] = lm as unknown as [string, string, string]
      if (!LABEL.test(key) || key in labels) throw new Error(`bad or repeated label ${key}, ${where}`)
      labels[key] = value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
      rest = rest.slice(all.length)
    }
  }
  // Prometheus reads values with Go's ParseFloat: NaN and Inf in any case (prom-client writes `Nan`).
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(rawValue)
  const value =
    special === null
      ? Number(rawValue)
      : special[2]?.toLowerCase() === 'nan'
        ? Number.NaN
        : special[1] === '-'
          ? Number.NEGATIVE_INFINITY
          : Number.POSITIVE_INFINITY
  if (special === null && (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(rawValue) || Number.isNaN(value)))
    throw new Error(`bad value, ${where}`)
  return { name, labels, value }
}

/** The value of the one sample named `name` whose labels include `labels`; throws if none or several. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = [...families.values()]
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`)
  return (found[0] as Sample).value
}
