import { disguisesLink } from '../../src/bot/index.ts'

/**
 * Model markdown → Slack mrkdwn. Slack: only `&`, `<` and `>` are control characters and must be
 * escaped (api.slack.com/reference/surfaces/formatting#escaping); everything the model wrote is
 * escaped first, so it can never produce `<!channel>`, `<!here>`, `<@U…>` or a link of its own.
 * Only the links this function builds itself (from `[text](http…)`) become `<url|text>`, and only
 * when the text does not name another site than the URL's (`disguisesLink`).
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/**
 * Text as the user typed it, from Slack's encoding of it (api.slack.com/reference/surfaces/formatting):
 * `&amp;`, `&lt;` and `&gt;` decoded, `<url|label>` as its label, `<url>` as the URL, `<@U1>` as
 * `@U1`, `<#C1|general>` as `#general`, `<!here>` as `@here`. Entities are decoded last, so a
 * typed `&lt;` (sent as `&amp;lt;`) stays `&lt;`.
 */
export function fromSlackText(text: string): string {
  return text
    .replace(/<([^<>]*)>/g, (_, inner: string) => {
      const bar = inner.indexOf('|')
      const id = bar < 0 ? inner : inner.slice(0, bar)
      const label = bar < 0 ? undefined : inner.slice(bar + 1)
      if (id.startsWith('#')) return `#${label ?? id.slice(1)}`
      if (id.startsWith('@')) return label === undefined ? id : `@${label.replace(/^@/, '')}`
      if (id.startsWith('!')) return label ?? `@${id.slice(1)}`
      return label ?? id
    })
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

export function toMrkdwn(markdown: string): string {
  const out: string[] = []
  let inCode = false
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) {
      inCode = !inCode
      out.push('```')
      continue
    }
    out.push(inCode ? escapeMrkdwn(line) : inline(line))
  }
  if (inCode) out.push('```')
  return out.join('\n')
}

function inline(line: string): string {
  const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
  if (heading !== null) return `*${spans(stripEmphasis(heading[1] as string))}*`
  const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(line)
  if (bullet !== null) return `${bullet[1]}• ${spans(bullet[2] as string)}`
  const quote = /^\s*>\s?(.*)$/.exec(line)
  if (quote !== null) return `> ${spans(quote[1] as string)}`
  return spans(line)
}

/** Inline code is kept verbatim (escaped); links, bold, italics and strikes are converted around it. */
function spans(text: string): string {
  return text
    .split(/(`[^`]+`)/)
    .map((part, i) => (i % 2 === 1 ? escapeMrkdwn(part) : emphasis(part)))
    .join('')
}

/** Private-use characters mark converted spans while the rest is rewritten; model text may not carry them. */
const BOLD = '\uE001'
const LINK = '\uE000'

function emphasis(text: string): string {
  const links: string[] = []
  let s = text
    .replace(/[\uE000\uE001]/g, '')
    .replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g, (_, label: string, url: string) => {
      const href = escapeMrkdwn(url).replace(/\|/g, '%7C')
      // A label that names another site is dropped: the link shows where it really goes.
      links.push(
        disguisesLink(label, url) ? `<${href}>` : `<${href}|${escapeMrkdwn(label).replace(/\|/g, '/')}>`,
      )
      return `${LINK}${links.length - 1}${LINK}`
    })
  s = escapeMrkdwn(s)
  s = s.replace(/\*\*(.+?)\*\*|__(.+?)__/g, (_, a?: string, b?: string) => `${BOLD}${a ?? b}${BOLD}`)
  s = s.replace(/(^|[^\w*])\*(?!\s)([^*]+?)\*(?!\w)/g, '$1_$2_')
  s = s.replace(/~~(.+?)~~/g, '~$1~')
  s = s.replaceAll(BOLD, '*')
  return s.replace(new RegExp(`${LINK}(\\d+)${LINK}`, 'g'), (_, i: string) => links[Number(i)] as string)
}

function stripEmphasis(text: string): string {
  return text.replace(/\*\*(.+?)\*\*/g, '$1').replace(/__(.+?)__/g, '$1')
}
