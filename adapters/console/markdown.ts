/** SGR codes (ECMA-48): bold, italic, cyan for code, dim for quotes, each with its own reset. */
const BOLD = ['\x1b[1m', '\x1b[22m']
const ITALIC = ['\x1b[3m', '\x1b[23m']
const CODE = ['\x1b[36m', '\x1b[39m']
const DIM = ['\x1b[2m', '\x1b[22m']

const wrap = ([on, off]: string[], text: string): string => `${on}${text}${off}`

/**
 * Model markdown styled for a terminal: headings and `**bold**` in bold, `*italics*` and `_italics_`
 * in italics, code in cyan, `- items` as bullets, quotes dimmed. Control characters the model wrote
 * (ESC, CSI, CR, backspace…) are dropped first, so its text cannot move the cursor or recolour the terminal.
 */
export function styleMarkdown(markdown: string): string {
  let inCode = false
  const out: string[] = []
  for (const raw of printable(markdown).split('\n')) {
    if (/^\s*```/.test(raw)) {
      inCode = !inCode
      continue
    }
    if (inCode) {
      out.push(wrap(CODE, raw))
      continue
    }
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw)
    if (heading !== null) {
      out.push(wrap(BOLD, spans(heading[1] as string)))
      continue
    }
    const quote = /^\s*>\s?(.*)$/.exec(raw)
    if (quote !== null) {
      out.push(wrap(DIM, `│ ${quote[1] as string}`))
      continue
    }
    out.push(spans(raw.replace(/^(\s*)[-*+]\s+/, '$1• ')))
  }
  return out.join('\n')
}

function spans(line: string): string {
  return line
    .split(/(`[^`]+`)/)
    .map((part, i) =>
      i % 2 === 1
        ? wrap(CODE, part.slice(1, -1))
        : part
            .replace(/\*\*(.+?)\*\*|__(.+?)__/g, (_, a?: string, b?: string) => wrap(BOLD, a ?? b ?? ''))
            .replace(
              /(^|[^\w*])\*(?!\s)([^*]+?)\*(?!\w)/g,
              (_, pre: string, t: string) => pre + wrap(ITALIC, t),
            )
            .replace(
              /(^|[^\w])_(?!\s)([^_]+?)_(?!\w)/g,
              (_, pre: string, t: string) => pre + wrap(ITALIC, t),
            ),
    )
    .join('')
}

/** Text without C0/C1 control characters other than newline and tab. */
export function printable(text: string): string {
  let out = ''
  for (const c of text) {
    const n = c.codePointAt(0) ?? 0
    if (n === 10 || n === 9 || (n >= 32 && n !== 127 && (n < 0x80 || n >= 0xa0))) out += c
  }
  return out
}
