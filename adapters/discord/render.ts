import {
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  escapeMarkdown,
} from 'discord.js'
import {
  branchLine,
  DEMO_NOTE,
  disguisesLink,
  progressText,
  type ReplyView,
  seconds,
  splitText,
  streamedText,
  summaryText,
  truncate,
  usageText,
} from '../../src/bot/index.ts'

/** Discord: 2,000 characters of content, 4,096 per embed description, 6,000 per message, 10 embeds. */
export const CONTENT_LIMIT = 2_000
export const DESCRIPTION_LIMIT = 4_096
export const MESSAGE_LIMIT = 6_000
export const EMBED_LIMIT = 10
/** Discord: an embed field's value holds at most 1,024 characters. */
export const FIELD_VALUE_LIMIT = 1_024
export const STOP_PREFIX = 'chorus:stop:'
/** Discord: pings nobody, whatever the text says (set on the client and on every message). */
export const NO_MENTIONS = { parse: [] as never[] }
export const RETRY_PREFIX = 'chorus:retry:'
/** Refine's button and its modal share one custom id prefix; the modal's one field is `request`. */
export const REFINE_PREFIX = 'chorus:refine:'
export const REFINE_FIELD = 'request'
/** `chorus:feedback:up:<run>` / `chorus:feedback:down:<run>`. */
export const FEEDBACK_PREFIX = 'chorus:feedback:'
/** Vote on these: `voteon:<run>`. */
export const VOTE_ON_PREFIX = 'voteon:'

export interface DiscordMessage {
  content: string
  embeds: APIEmbed[]
  components: Array<APIActionRowComponent<APIButtonComponent>>
}

const COLOURS = {
  working: 0x5865f2,
  first: 0xfee75c,
  final: 0x57f287,
  failed: 0xed4245,
  stopped: 0x99aab5,
} as const

/**
 * Belt and braces next to `allowed_mentions: { parse: [] }`: a zero-width space keeps @everyone,
 * @here and <@…> mentions from ever resolving, even if the text is copied into another message.
 */
export function neutralise(text: string): string {
  return text.replace(/@(everyone|here)/gi, '@\u200b$1').replace(/<@([!&]?\d+)>/g, '<@\u200b$1>')
}

/**
 * Discord renders `[text](url)` as a masked link in embeds. Where the text names another site than
 * the URL's (`disguisesLink`), the link becomes its bare URL, which Discord shows and links as is.
 * Code is left alone: Discord renders no links there.
 */
export function unmaskLinks(markdown: string): string {
  return markdown
    .split(/(```[\s\S]*?```|`[^`\n]*`)/)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part.replace(MASKED_LINK, (link: string, label: string, url: string) =>
            disguisesLink(label, url) ? url : link,
          ),
    )
    .join('')
}

/** `[label](url)`, `[label](<url>)` and `[label](url "title")`, with one level of brackets in the label. */
const MASKED_LINK = /\[((?:[^[\]]|\[[^\]]*\])*)\]\(\s*<?([a-z][a-z0-9+.-]*:[^\s)>]+)>?(?:\s+"[^"]*")?\s*\)/gi

/** The reply for a view, plus follow-up messages when the body does not fit in one message. */
export function renderView(view: ReplyView): { main: DiscordMessage; more: DiscordMessage[] } {
  // Embed titles render markdown; the user's topic shows as typed (`*x*` stays `*x*`).
  const title = truncate(neutralise(escapeMarkdown(view.title, { maskedLink: true })), 256)
  let body: string | undefined
  let status: string
  const components: DiscordMessage['components'] = []
  switch (view.status) {
    case 'working':
      status = `⏳ ${progressText(view)}`
      if (view.streaming !== undefined) {
        status += ` · ✍️ ${view.streaming.step} is writing…`
        body = streamedText(view.streaming.markdown)
      }
      components.push(stopRow(view.runId))
      break
    case 'first':
      status = `⚡ ${view.first?.label ?? 'First result'} after ${seconds(view.firstMs)} · ${progressText(view)}`
      body = view.first?.markdown
      components.push(stopRow(view.runId))
      break
    case 'final':
      status = `✅ ${summaryText(view)}`
      body = view.final?.markdown
      if (view.retryable) components.push(carryOnRow(view.runId, view.voteOn === true))
      break
    case 'failed':
      status = '⚠️ Failed'
      body = view.error ?? 'Chorus could not finish this.'
      break
    case 'stopped':
      status = `⏹️ Stopped by ${view.stoppedBy ?? 'someone'} after ${seconds(view.elapsedMs)}`
      body =
        view.first === undefined
          ? undefined
          : `${view.first.label} before it was stopped:\n${view.first.markdown}`
      break
  }
  if (view.retryable && (view.status === 'failed' || view.status === 'stopped'))
    components.push(retryRow(view.runId))
  const notice = view.notice === undefined ? '' : `\n🔄 ${view.notice}`
  const usage = usageText(view)
  const demo = `${usage === undefined ? '' : `\n${usage}`}${view.demo ? `\n${DEMO_NOTE}` : ''}`
  // Named, never mentioned: a mention would ping them.
  const footerText = truncate(neutralise(`Asked by ${view.user} · ${status}${notice}${demo}`), 2_048)
  const parts = body === undefined ? [''] : splitText(neutralise(unmaskLinks(body)), DESCRIPTION_LIMIT)
  const colour = COLOURS[view.status]
  const branches =
    view.status === 'final' || view.status === 'failed' || view.branches.length === 0
      ? undefined
      : [{ name: 'Branches', value: branchField(view) }]
  const embeds: APIEmbed[] = parts.map((description, i) => ({
    color: colour,
    ...(i === 0 ? { title } : {}),
    ...(i === 0 && branches !== undefined ? { fields: branches } : {}),
    ...(description === '' ? {} : { description }),
    ...(i === parts.length - 1 ? { footer: { text: footerText } } : {}),
  }))
  const [first, ...rest] = packMessages(embeds)
  const main: DiscordMessage = { content: '', embeds: first ?? [], components }
  return { main, more: rest.map((e) => ({ content: '', embeds: e, components: [] })) }
}

/** Groups embeds into messages of at most 10 embeds and 6,000 counted characters. */
function packMessages(embeds: APIEmbed[]): APIEmbed[][] {
  const out: APIEmbed[][] = []
  let current: APIEmbed[] = []
  let size = 0
  for (const embed of embeds) {
    const n =
      (embed.title?.length ?? 0) +
      (embed.description?.length ?? 0) +
      (embed.footer?.text.length ?? 0) +
      (embed.fields ?? []).reduce((sum, f) => sum + f.name.length + f.value.length, 0)
    if (current.length > 0 && (current.length === EMBED_LIMIT || size + n > MESSAGE_LIMIT)) {
      out.push(current)
      current = []
      size = 0
    }
    current.push(embed)
    size += n
  }
  if (current.length > 0) out.push(current)
  return out
}

/** One line per branch, within a field's 1,024 characters. */
function branchField(view: ReplyView): string {
  return truncate(neutralise(escapeMarkdown(view.branches.map(branchLine).join('\n'))), FIELD_VALUE_LIMIT)
}

/** Again, Refine, 👍 and 👎 under a final reply, and Vote on these when its ideas can be put to a vote (5 buttons, Discord's most in a row). */
function carryOnRow(runId: string, voteOn: boolean): APIActionRowComponent<APIButtonComponent> {
  return {
    type: 1,
    components: [
      { type: 2, style: 1, label: 'Again', custom_id: `${RETRY_PREFIX}${runId}` },
      { type: 2, style: 2, label: 'Refine', custom_id: `${REFINE_PREFIX}${runId}` },
      ...(voteOn
        ? [{ type: 2, style: 2, label: 'Vote on these', custom_id: `${VOTE_ON_PREFIX}${runId}` } as const]
        : []),
      { type: 2, style: 2, emoji: { name: '👍' }, custom_id: `${FEEDBACK_PREFIX}up:${runId}` },
      { type: 2, style: 2, emoji: { name: '👎' }, custom_id: `${FEEDBACK_PREFIX}down:${runId}` },
    ],
  }
}

/** The Refine modal (interaction response type 9): one paragraph field, "What should change?". */
export function refineModal(runId: string) {
  return {
    custom_id: `${REFINE_PREFIX}${runId}`,
    title: 'Refine',
    components: [
      {
        type: 1,
        components: [
          {
            type: 4,
            custom_id: REFINE_FIELD,
            label: 'What should change?',
            style: 2,
            required: true,
            max_length: 2_000,
          },
        ],
      },
    ],
  }
}

function retryRow(runId: string): APIActionRowComponent<APIButtonComponent> {
  return {
    type: 1,
    components: [{ type: 2, style: 2, label: 'Retry', custom_id: `${RETRY_PREFIX}${runId}` }],
  }
}

function stopRow(runId: string): APIActionRowComponent<APIButtonComponent> {
  return { type: 1, components: [{ type: 2, style: 4, label: 'Stop', custom_id: `${STOP_PREFIX}${runId}` }] }
}
