/**
 * Model markdown → Slack mrkdwn. Slack: only `&`, `<` and `>` are control characters and must be
 * escaped (api.slack.com/reference/surfaces/formatting#escaping); everything the model wrote is
 * escaped first, so it can never produce `<!channel>`, `<!here>`, `<@U…>` or a link of its own.
 * Only the links this function builds itself (from `[text](http…)`) become `<url|text>`.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
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
      links.push(`<${escapeMrkdwn(url).replace(/\|/g, '%7C')}|${escapeMrkdwn(label).replace(/\|/g, '/')}>`)
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
