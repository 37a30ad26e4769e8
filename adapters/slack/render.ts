import type { types } from '@slack/bolt'
import {
  branchLine,
  DEMO_NOTE,
  progressText,
  type ReplyView,
  seconds,
  splitText,
  streamedText,
  summaryText,
  truncate,
  usageText,
} from '../../src/bot/index.ts'
import { escapeMrkdwn, toMrkdwn } from './mrkdwn.ts'

type KnownBlock = types.KnownBlock

/** Slack Block Kit: header text ≤ 150 characters, section text ≤ 3,000, ≤ 50 blocks per message. */
export const HEADER_LIMIT = 150
export const SECTION_LIMIT = 3_000
export const BLOCK_LIMIT = 50
export const STOP_ACTION = 'chorus_stop'
export const RETRY_ACTION = 'chorus_retry'
export const REFINE_ACTION = 'chorus_refine'
/** **Vote on these**: the final reply's ranked ideas as a /decide vote; the run id as value. */
export const VOTE_ON_ACTION = 'chorus_vote_on'
/** The modal Refine opens; its one field. */
export const REFINE_VIEW = 'chorus_refine_view'
export const REFINE_FIELD = 'request'
/** 👍 and 👎: `chorus_feedback_up` / `chorus_feedback_down`, the run id as value. */
export const FEEDBACK_ACTION = /^chorus_feedback_(up|down)$/

export interface SlackMessage {
  /** Notification fallback; always set when blocks are sent. */
  text: string
  blocks: KnownBlock[]
}

/** The message for a view, plus continuation messages (thread replies) when it needs more than 50 blocks. */
export function renderView(view: ReplyView): { main: SlackMessage; more: SlackMessage[] } {
  // A header is plain text: the user's topic shows as typed (`*x*`, `R&D`), and nothing in it is markup.
  // Named, never mentioned: a mention would ping them.
  const head: KnownBlock[] = [header(view.title), context(`Asked by ${escapeMrkdwn(view.user)}`)]
  const tail: KnownBlock[] = []
  let body: string | undefined
  let fallback = view.title
  switch (view.status) {
    case 'working':
      head.push(section(`:hourglass_flowing_sand: ${escapeMrkdwn(progressText(view))}`))
      head.push(...branchBlock(view))
      if (view.streaming !== undefined) {
        head.push(context(`:writing_hand: ${escapeMrkdwn(view.streaming.step)} is writing…`))
        body = streamedText(view.streaming.markdown)
      }
      tail.push(stopButton(view.runId))
      fallback = `${view.title}: working`
      break
    case 'first':
      head.push(
        context(
          `:zap: ${escapeMrkdwn(view.first?.label ?? 'First result')} after ${seconds(view.firstMs)} · ${escapeMrkdwn(progressText(view))}`,
        ),
      )
      head.push(...branchBlock(view))
      body = view.first?.markdown
      tail.push(stopButton(view.runId))
      fallback = `${view.title}: first result`
      break
    case 'final':
      body = view.final?.markdown
      tail.push(context(escapeMrkdwn(summaryText(view))))
      if (view.retryable) tail.push(carryOnButtons(view.runId, view.voteOn === true))
      fallback = `${view.title}: done`
      break
    case 'failed':
      head.push(section(`:warning: ${escapeMrkdwn(view.error ?? 'Chorus could not finish this.')}`))
      fallback = `${view.title}: failed`
      break
    case 'stopped':
      head.push(
        section(
          `:black_square_for_stop: Stopped by ${escapeMrkdwn(view.stoppedBy ?? 'someone')} after ${seconds(view.elapsedMs)}.`,
        ),
      )
      head.push(...branchBlock(view))
      if (view.first !== undefined) {
        head.push(context(`${escapeMrkdwn(view.first.label)} before it was stopped:`))
        body = view.first.markdown
      }
      fallback = `${view.title}: stopped`
      break
  }
  if (view.notice !== undefined) tail.push(context(`:arrows_counterclockwise: ${escapeMrkdwn(view.notice)}`))
  if (view.retryable && (view.status === 'failed' || view.status === 'stopped'))
    tail.push(retryButton(view.runId))
  const usage = usageText(view)
  if (usage !== undefined) tail.push(context(escapeMrkdwn(usage)))
  if (view.demo) tail.push(context(`_${escapeMrkdwn(DEMO_NOTE)}_`))
  const sections = body === undefined ? [] : bodySections(body)
  const room = BLOCK_LIMIT - head.length - tail.length
  const main: SlackMessage = {
    text: escapeMrkdwn(fallback),
    blocks: [...head, ...sections.slice(0, room), ...tail],
  }
  const more: SlackMessage[] = []
  for (let i = room; i < sections.length; i += BLOCK_LIMIT) {
    more.push({ text: escapeMrkdwn(`${view.title} (continued)`), blocks: sections.slice(i, i + BLOCK_LIMIT) })
  }
  return { main, more }
}

/** Markdown → mrkdwn sections of at most 3,000 characters each. */
export function bodySections(markdown: string): KnownBlock[] {
  const out: KnownBlock[] = []
  // Escaping can grow text (`&` → `&amp;`), so split the source with room to spare, then re-split.
  for (const part of splitText(markdown, 2_000)) {
    for (const piece of splitText(toMrkdwn(part), SECTION_LIMIT))
      if (piece.length > 0) out.push(section(piece))
  }
  return out
}

/** One context block, one line per branch: 8 branches take one block of the 50. */
function branchBlock(view: ReplyView): KnownBlock[] {
  if (view.branches.length === 0) return []
  return [context(view.branches.map((b) => escapeMrkdwn(branchLine(b))).join('\n'))]
}

function header(text: string): KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text: truncate(text, HEADER_LIMIT) } }
}

export function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: text.slice(0, SECTION_LIMIT) } }
}

export function context(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: text.slice(0, SECTION_LIMIT) }] }
}

function stopButton(runId: string): KnownBlock {
  return {
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: STOP_ACTION,
        value: runId,
        style: 'danger',
        text: { type: 'plain_text', text: 'Stop' },
      },
    ],
  }
}

/** Again (a new run of the same command), Refine (a modal), Vote on these when offered, 👍 and 👎 under a final reply. */
function carryOnButtons(runId: string, voteOn: boolean): KnownBlock {
  const button = (action_id: string, text: string) =>
    ({ type: 'button', action_id, value: runId, text: { type: 'plain_text', text, emoji: true } }) as const
  return {
    type: 'actions',
    elements: [
      button(RETRY_ACTION, 'Again'),
      button(REFINE_ACTION, 'Refine'),
      ...(voteOn ? [button(VOTE_ON_ACTION, 'Vote on these')] : []),
      button('chorus_feedback_up', '👍'),
      button('chorus_feedback_down', '👎'),
    ],
  }
}

/** The Refine modal: one field, "What should change?"; the run id and where to answer ride in private_metadata. */
export function refineModal(metadata: string): types.ModalView {
  return {
    type: 'modal',
    callback_id: REFINE_VIEW,
    private_metadata: metadata,
    title: { type: 'plain_text', text: 'Refine' },
    submit: { type: 'plain_text', text: 'Run again' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: REFINE_FIELD,
        label: { type: 'plain_text', text: 'What should change?' },
        element: { type: 'plain_text_input', action_id: REFINE_FIELD, multiline: true, max_length: 2_000 },
      },
    ],
  }
}

function retryButton(runId: string): KnownBlock {
  return {
    type: 'actions',
    elements: [
      { type: 'button', action_id: RETRY_ACTION, value: runId, text: { type: 'plain_text', text: 'Retry' } },
    ],
  }
}
