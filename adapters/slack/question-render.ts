import type { types } from '@slack/bolt'
import {
  closesText,
  type QuestionView,
  ruleText,
  tallyLines,
  truncate,
  whoText,
} from '../../src/bot/index.ts'
import { escapeMrkdwn, toMrkdwn } from './mrkdwn.ts'
import { bodySections, context, type SlackMessage, section } from './render.ts'

type KnownBlock = types.KnownBlock

/** A choice's button: `chorus_answer_<i>`, value `<runId>:<key>:<i>`. */
export const ANSWER_ACTION = /^chorus_answer_(\d+)$/
/** Past `MOST_BUTTONS` choices, one select menu; each option's value is `<runId>:<key>:<i>`. */
export const ANSWER_SELECT = 'chorus_answer_select'
/** A form question's "Answer…" button, value `<runId>:<key>`; it opens `ANSWER_VIEW`. */
export const ANSWER_FORM = 'chorus_answer_form'
export const ANSWER_VIEW = 'chorus_answer_modal'
/** Choices shown as buttons; more go in a select menu. */
export const MOST_BUTTONS = 5

/** Block Kit: button and option text ≤ 75, ≤ 100 options, modal title ≤ 24, text input lengths ≤ 3,000. */
const BUTTON_TEXT = 75
const MOST_OPTIONS = 100
const MODAL_TITLE = 24
const INPUT_LENGTH = 3_000
const LABEL = 2_000
const PLACEHOLDER = 150
/** Sections of the prompt a question message keeps, leaving room for the tally, the line and the controls. */
const PROMPT_SECTIONS = 40
/** Slack user ids; anything else a flow named is shown as text, never as a mention. */
const USER_ID = /^[UW][A-Z0-9]+$/

/** The question's message: the prompt, who answers and until when, the tally of a vote, then its controls. */
export function questionMessage(view: QuestionView, now: number = Date.now()): SlackMessage {
  const blocks: KnownBlock[] = bodySections(view.prompt).slice(0, PROMPT_SECTIONS)
  const tally = tallyLines(view)
  if (tally.length > 0) blocks.push(section(toMrkdwn(tally.join('\n'))))
  const title = escapeMrkdwn(truncate(view.prompt.split('\n')[0] ?? '', 150))
  if (view.state === 'open') {
    blocks.push(context(aboutLine(view, now)))
    blocks.push(controls(view))
    return { text: `Question: ${title}`, blocks }
  }
  const icon = view.state === 'decided' ? ':white_check_mark:' : ':no_entry_sign:'
  const outcome = view.outcome ?? (view.state === 'decided' ? 'Decided.' : 'Closed.')
  blocks.push(section(`${icon} ${toMrkdwn(outcome)}`))
  return { text: `${title}: ${escapeMrkdwn(outcome.replace(/\*\*/g, ''))}`, blocks }
}

/** A user id as a Slack mention; anything that is not one is shown as escaped text. */
export function mention(userId: string): string {
  return USER_ID.test(userId) ? `<@${userId}>` : escapeMrkdwn(`@${userId}`)
}

/** "For @ana to answer · Closes when 3 agree, or at the deadline · 2 answered · closes in 9 min (at 3:04 PM)". */
function aboutLine(view: QuestionView, now: number): string {
  const rule = ruleText(view)
  const seconds = Math.floor(view.deadlineAt / 1000)
  // Slack renders the date token in each reader's time zone; the fallback is for clients that cannot.
  const at = `<!date^${seconds}^{date_short_pretty} at {time}|${new Date(view.deadlineAt).toISOString()}>`
  return [
    whoText(view.who, mention),
    rule === undefined ? undefined : escapeMrkdwn(rule),
    view.collect === undefined ? undefined : `${view.answered} answered`,
    `${closesText(view.deadlineAt, now)} (${at})`,
  ]
    .filter((part) => part !== undefined)
    .join(' · ')
}

function controls(view: QuestionView): KnownBlock {
  const block_id = `chorus_question_${view.key}`
  if (view.form !== undefined) {
    const value = answerValue(view)
    const text = plain('Answer…')
    return {
      type: 'actions',
      block_id,
      elements: [{ type: 'button', action_id: ANSWER_FORM, value, style: 'primary', text }],
    }
  }
  const choices = view.choices ?? []
  if (choices.length <= MOST_BUTTONS) {
    return {
      type: 'actions',
      block_id,
      elements: choices.map((c, i) => ({
        type: 'button',
        action_id: `chorus_answer_${i}`,
        value: answerValue(view, i),
        text: plain(truncate(c.label, BUTTON_TEXT)),
      })),
    }
  }
  return {
    type: 'actions',
    block_id,
    elements: [
      {
        type: 'static_select',
        action_id: ANSWER_SELECT,
        placeholder: plain('Choose…'),
        options: choices.slice(0, MOST_OPTIONS).map((c, i) => ({
          text: plain(truncate(c.label, BUTTON_TEXT)),
          value: answerValue(view, i),
        })),
      },
    ],
  }
}

/** The modal of a form question: one text input per field; where it came from rides in private_metadata. */
export function answerModal(view: QuestionView, metadata: string): types.ModalView {
  const form = view.form ?? { title: 'Answer', fields: [] }
  return {
    type: 'modal',
    callback_id: ANSWER_VIEW,
    private_metadata: metadata,
    title: plain(truncate(form.title || 'Answer', MODAL_TITLE)),
    submit: plain('Answer'),
    close: plain('Cancel'),
    blocks: [
      ...bodySections(view.prompt).slice(0, 3),
      ...form.fields.map((field): KnownBlock => {
        const max = Math.min(field.maxLength ?? INPUT_LENGTH, INPUT_LENGTH)
        const min = field.minLength === undefined ? undefined : Math.min(field.minLength, max)
        return {
          type: 'input',
          block_id: field.name,
          optional: !field.required,
          label: plain(truncate(field.label || field.name, LABEL)),
          element: {
            type: 'plain_text_input',
            action_id: field.name,
            multiline: field.multiline,
            max_length: max,
            ...(min === undefined || min === 0 ? {} : { min_length: min }),
            ...(field.placeholder === undefined
              ? {}
              : { placeholder: plain(truncate(field.placeholder, PLACEHOLDER)) }),
          },
        }
      }),
    ],
  }
}

/** What a control carries: `<runId>:<key>` (a form) or `<runId>:<key>:<i>` (a choice). */
export function answerValue(view: Pick<QuestionView, 'runId' | 'key'>, choice?: number): string {
  return choice === undefined ? `${view.runId}:${view.key}` : `${view.runId}:${view.key}:${choice}`
}

/** The run, question and choice a control's value names, or undefined when it is not one of ours. */
export function readAnswerValue(
  value: string | undefined,
): { runId: string; key: string; choice: number | undefined } | undefined {
  const match = /^([^:\s]+):([A-Za-z0-9_-]+)(?::(\d{1,3}))?$/.exec(value ?? '')
  if (match === null) return undefined
  const [, runId, key, choice] = match as unknown as [string, string, string, string | undefined]
  return { runId, key, choice: choice === undefined ? undefined : Number(choice) }
}

function plain(text: string) {
  return { type: 'plain_text', text, emoji: true } as const
}
