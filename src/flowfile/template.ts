/**
 * Templates: `{{name}}` with a few named filters (`trim`, `capitalize`, `quote`, `default:"text"`).
 * Substitution only, in one pass: a substituted value is text and is never read as a template again.
 */

export type Filter =
  | { kind: 'trim' }
  | { kind: 'capitalize' }
  | { kind: 'quote' }
  | { kind: 'default'; text: string }

export interface Placeholder {
  /** As written, `{{ notes | trim }}`, and how many times it is written before: to find it in the file. */
  raw: string
  nth: number
  name: string
  filters: Filter[]
}

export type Part = string | Placeholder

export type Template = readonly Part[]

export const FILTERS = ['trim', 'capitalize', 'quote', 'default:"text"'] as const

/** What is wrong with one placeholder, and the placeholder as written. */
export interface TemplateError {
  raw: string
  nth: number
  message: string
}

const NAME = /^[a-z][a-z0-9_-]*$/
const DEFAULT = /^default\s*:\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')$/

/** Splits a template into text and placeholders, or says what is wrong with each bad placeholder. */
export function parseTemplate(text: string): { template: Template; errors: TemplateError[] } {
  const parts: Part[] = []
  const errors: TemplateError[] = []
  let at = 0
  for (;;) {
    const open = text.indexOf('{{', at)
    if (open < 0) break
    const close = text.indexOf('}}', open + 2)
    if (close < 0) {
      errors.push({
        raw: '{{',
        nth: count(text, '{{', open),
        message: '`{{` is not closed. Close it with `}}`',
      })
      break
    }
    if (open > at) parts.push(text.slice(at, open))
    const raw = text.slice(open, close + 2)
    const nth = count(text, raw, open)
    const placeholder = placeholderOf(raw, nth)
    if (typeof placeholder === 'string') errors.push({ raw, nth, message: placeholder })
    else parts.push(placeholder)
    at = close + 2
  }
  if (at < text.length) parts.push(text.slice(at))
  return { template: parts, errors }
}

/** How many times `needle` is written in `text` before `end`. */
function count(text: string, needle: string, end: number): number {
  let n = 0
  for (let i = text.indexOf(needle); i >= 0 && i < end; i = text.indexOf(needle, i + 1)) n++
  return n
}

function placeholderOf(raw: string, nth: number): Placeholder | string {
  const [head = '', ...rest] = splitFilters(raw.slice(2, -2))
  const name = head.trim()
  if (!NAME.test(name))
    return `${raw} does not name a value. Write {{name}}: an option or a step, in lowercase letters, digits, '-' or '_'`
  const filters: Filter[] = []
  for (const part of rest) {
    const f = part.trim()
    if (f === 'trim' || f === 'capitalize' || f === 'quote') filters.push({ kind: f })
    else {
      const m = DEFAULT.exec(f)
      if (m === null) return `${raw}: '${f}' is not a filter. Use ${FILTERS.join(', ')}`
      filters.push({ kind: 'default', text: unescaped(m[1] ?? m[2] ?? '') })
    }
  }
  return { raw, nth, name, filters }
}

/** Splits on `|` outside quotes. */
function splitFilters(body: string): string[] {
  const out: string[] = []
  let current = ''
  let quote: string | undefined
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string
    if (quote !== undefined) {
      current += c
      if (c === '\\' && i + 1 < body.length) current += body[++i]
      else if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") {
      quote = c
      current += c
    } else if (c === '|') {
      out.push(current)
      current = ''
    } else current += c
  }
  out.push(current)
  return out
}

function unescaped(text: string): string {
  return text.replace(/\\(.)/g, '$1')
}

/** The names a template reads, each with its placeholder as written. */
export function placeholders(template: Template): Placeholder[] {
  return template.filter((p): p is Placeholder => typeof p !== 'string')
}

/** Fills a template from `values`: a missing value is empty text unless a `default` filter gives one. */
export function render(template: Template, values: Readonly<Record<string, string | undefined>>): string {
  let out = ''
  for (const part of template) {
    if (typeof part === 'string') out += part
    else {
      let value = Object.hasOwn(values, part.name) ? values[part.name] : undefined
      for (const filter of part.filters) value = applied(filter, value)
      out += value ?? ''
    }
  }
  return out
}

function applied(filter: Filter, value: string | undefined): string | undefined {
  if (filter.kind === 'default') return value === undefined ? filter.text : value
  if (value === undefined) return undefined
  if (filter.kind === 'trim') return value.trim()
  if (filter.kind === 'capitalize') return value.charAt(0).toUpperCase() + value.slice(1)
  return quoted(value)
}

/**
 * The value fenced in `"""` as data (as flows/review.ts marks the user's text); a `"""` inside it is
 * broken up so it cannot close the fence early.
 */
export function quoted(value: string): string {
  return `"""\n${value.replace(/"{3,}/g, (run) => run.split('').join(' '))}\n"""`
}
