/**
 * Answer normalisation for voting (notes/llm-aggregation.md §2.1: self-consistency votes on the parsed
 * final answer). Two rules beat cleverness: what is the same must merge, and what differs must stay
 * apart; a wrong merge is the worse failure (a wrong winner shown with a false agreement), so when in
 * doubt two answers stay apart.
 */

/** The key of an answer that has no readable content ("...", "?", "**", ""): it never wins a vote. */
export const INVALID = ''

/**
 * The answer part of a model reply, as it should be shown: the last "Answer:"-style line when there
 * is one, else the reply without courtesy lines ("Sure."), list markers, emphasis and quotes.
 */
export function extractAnswer(reply: string): string {
  const text = reply.replace(/^\s*_\(demo\)_\s*/i, '').trim()
  const boxed = [...text.matchAll(/\\boxed\{([^{}]*)\}/g)].at(-1)?.[1]
  if (boxed !== undefined) return unwrap(boxed)
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = ANSWER_LINE.exec(unwrapLine(lines[i] as string))
    const found = m?.[1] ?? m?.[2]
    if (found !== undefined && found.trim().length > 0) return unwrap(found)
  }
  while (lines.length > 1 && FILLER.test(unwrapLine(lines[0] as string))) lines.shift()
  return unwrap(lines.join(' '))
}

/** The comparison key of a reply: equal keys are the same answer; `INVALID` for unreadable ones. */
export function normalizeAnswer(reply: string): string {
  let s = extractAnswer(reply).normalize('NFKC').toLowerCase()
  s = s.replace(PREFIX, '')
  s = unwrap(s)
  s = s.replace(/\s+/g, ' ').trim()
  // "Yes, because it has bread." / "Paris, since ..." → the answer before the reason.
  // Only "because": "the same as X" / "since 1990" carry the answer, not a reason.
  s = s.replace(/^(.+?)\s*[,;:—–-]?\s+because\b.*$/, '$1')
  s = s.replace(/^(yes|no|true|false)\s*[,.;:!—–-].*$/, '$1')
  s = stripEdges(s)
  if (!/[\p{L}\p{N}]/u.test(s)) return INVALID
  return booleanKey(s) ?? choiceKey(s) ?? dateKey(s) ?? quantityKey(s) ?? s
}

// "Answer: X", "**Final answer:** X", "The answer is X", "My answer: X"; a word boundary after
// "answer" so "Answerable" is not an answer line.
const ANSWER_LINE =
  /^(?:(?:the|my|final|short)\s+)*answer\b(?:\s+is\b)?\s*(?:[:=—–-]|\bis\b)?\s*(.+)$|^(?:so,?\s+|therefore,?\s+|thus,?\s+)?the\s+(?:final\s+)?answer\s+is\s*:?\s*(.+)$/i
const PREFIX = /^(?:(?:the|my|final|short)\s+)*answer\b\s*(?:is\b)?\s*[:=—–-]?\s*/

const FILLER =
  /^(?:sure|certainly|of course|okay|ok|alright|great question|good question|here(?:'s| is) (?:the|my) answer|let me think|hmm+)[\s.!,:;…]*$|:$/i

const QUOTES = `"'“”‘’„‚«»‹›「」\``

/** Strips list markers, emphasis wrappers and quotes round a whole line. */
function unwrapLine(line: string): string {
  return line
    .replace(/^(?:[-•+]|\*(?=\s))\s+/, '')
    .replace(/^([*_~]{1,3})(.+?)\1(?=\s|$|[:.,!?])/, '$2')
    .trim()
}

/** Emphasis markers at word edges (`**Paris**`, `_Lyon_`), never inside a word (`2*3`, `snake_case`). */
function unwrap(s: string): string {
  let out = unwrapLine(s.trim())
  out = out.replace(/(^|[\s(])[*_~]+(?=\S)/g, '$1').replace(/(?<=\S)[*_~]+(?=$|[\s).,!?;:])/g, '')
  out = out.replace(/(^|\s)`+|`+(?=$|\s|[.,!?;:])/g, '$1')
  return stripEdges(out)
}

/** Quotes, brackets and trailing sentence punctuation round the whole answer. */
function stripEdges(s: string): string {
  let prev: string
  let out = s.trim()
  do {
    prev = out
    out = out.replace(/[\s.!?,;:…]+$/, '').trim()
    for (const [open, close] of PAIRS)
      if (out.startsWith(open) && out.endsWith(close) && out.length > 1) out = out.slice(1, -1).trim()
    if (QUOTES.includes(out.charAt(0)) && !out.slice(1).match(new RegExp(`[${QUOTES}]`)))
      out = out.slice(1).trim()
  } while (out !== prev)
  return out
}

const PAIRS: Array<[string, string]> = [
  ['"', '"'],
  ["'", "'"],
  ['“', '”'],
  ['‘', '’'],
  ['„', '“'],
  ['«', '»'],
  ['‹', '›'],
  ['「', '」'],
  ['`', '`'],
  ['(', ')'],
  ['[', ']'],
  ['{', '}'],
]

const YES = new Set(['yes', 'yeah', 'yep', 'true', 'correct'])
const NO = new Set(['no', 'nope', 'false', 'incorrect'])

function booleanKey(s: string): string | undefined {
  if (YES.has(s)) return 'yes'
  if (NO.has(s)) return 'no'
  return undefined
}

/** "B", "(B)", "b)", "Option B", "(B) Lyon", "B) Lyon" → `choice:b`. "B. Lyon" stays text ("C. S. Lewis"). */
function choiceKey(s: string): string | undefined {
  const m =
    /^(?:option\s+|choice\s+)?(?:\(([a-j])\)|([a-j])\))(?:\s+.*)?$|^(?:option\s+|choice\s+)?([a-j])$/.exec(s)
  const letter = m?.[1] ?? m?.[2] ?? m?.[3]
  return letter === undefined ? undefined : `choice:${letter}`
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] as const

/** ISO, "1 March 2024", "March 1st, 2024" → `date:2024-03-01`. Slashed dates are ambiguous (US/EU) and left alone. */
function dateKey(s: string): string | undefined {
  let ymd: [number, number, number] | undefined
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s)
  const dmy = /^(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]+)\.?,?\s+(\d{4})$/.exec(s)
  const mdy = /^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$/.exec(s)
  if (iso !== null) ymd = [Number(iso[1]), Number(iso[2]), Number(iso[3])]
  else if (dmy !== null) ymd = [Number(dmy[3]), monthOf(dmy[2] as string), Number(dmy[1])]
  else if (mdy !== null) ymd = [Number(mdy[3]), monthOf(mdy[1] as string), Number(mdy[2])]
  if (ymd === undefined) return undefined
  const [y, mo, d] = ymd
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return undefined
  return `date:${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`
}

function monthOf(name: string): number {
  if (name.length < 3 || (name.length > 3 && !FULL_MONTH.test(name))) return 0
  return MONTHS.indexOf(name.slice(0, 3) as (typeof MONTHS)[number]) + 1
}

const FULL_MONTH =
  /^(?:january|february|march|april|may|june|july|august|september|sept|october|november|december)$/

const WORDS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
}

// Unit spellings → one symbol. Only units whose spellings are unambiguous are folded.
const UNITS: Array<[RegExp, string]> = [
  [/^(?:km|kms|kilometers?|kilometres?)$/, 'km'],
  [/^(?:m|meters?|metres?)$/, 'm'],
  [/^(?:cm|centimeters?|centimetres?)$/, 'cm'],
  [/^(?:mm|millimeters?|millimetres?)$/, 'mm'],
  [/^(?:kg|kgs|kilograms?|kilos?)$/, 'kg'],
  [/^(?:g|grams?)$/, 'g'],
  [/^(?:mi|miles?)$/, 'mi'],
  [/^(?:s|secs?|seconds?)$/, 's'],
  [/^(?:min|mins|minutes?)$/, 'min'],
  [/^(?:h|hrs?|hours?)$/, 'h'],
  [/^(?:%|percent|per cent)$/, '%'],
  [/^(?:°c|degrees? c|degrees? celsius|celsius)$/, '°c'],
  [/^(?:°f|degrees? f|degrees? fahrenheit|fahrenheit)$/, '°f'],
  [/^(?:usd|dollars?|us dollars?)$/, 'usd'],
  [/^(?:eur|euros?)$/, 'eur'],
]

/** "1,000", "1 000", "1000.0", "one thousand" stays text; ".5" = "0.5"; "5km" = "5 kilometres"; "$5" = "5 usd". */
function quantityKey(s: string): string | undefined {
  let t = s.replace(/[−–]/g, '-')
  let unit = ''
  const currency = /^([$€])\s*(.+)$/.exec(t)
  if (currency !== null) {
    unit = currency[1] === '$' ? 'usd' : 'eur'
    t = currency[2] as string
  }
  const m = /^([-+]?(?:\d{1,3}(?:[,\u00a0\u202f ]\d{3})+|\d+)?(?:\.\d+)?)\s*(.*)$/.exec(t)
  let value: number | undefined
  let rest = ''
  if (m !== null && /\d/.test(m[1] as string)) {
    value = Number((m[1] as string).replace(/[,\u00a0\u202f ]/g, ''))
    rest = (m[2] as string).trim()
  } else {
    const w = /^([a-z]+)(?:\s+(.*))?$/.exec(t)
    if (w === null || WORDS[w[1] as string] === undefined) return undefined
    value = WORDS[w[1] as string]
    rest = (w[2] ?? '').trim()
  }
  if (value === undefined || !Number.isFinite(value)) return undefined
  if (rest !== '') {
    if (unit !== '') return undefined
    const known = UNITS.find(([re]) => re.test(rest))
    if (known === undefined) {
      if (/^\d/.test(s) || WORDS[s.split(' ')[0] as string] === undefined) return `${value} ${rest}`
      return undefined
    }
    unit = known[1]
  }
  return unit === '' ? String(value) : `${value} ${unit}`
}

/** What kind of answer a key is: closed forms can be counted exactly; free text may need a judge. */
export function answerKind(key: string): 'invalid' | 'boolean' | 'choice' | 'date' | 'number' | 'text' {
  if (key === INVALID) return 'invalid'
  if (key === 'yes' || key === 'no') return 'boolean'
  if (key.startsWith('choice:')) return 'choice'
  if (key.startsWith('date:')) return 'date'
  if (/^-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?: \S+)?$/.test(key)) return 'number'
  return 'text'
}
