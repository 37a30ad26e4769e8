import {
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIModalInteractionResponseCallbackData,
  escapeMarkdown,
} from 'discord.js'
import { type QuestionView, ruleText, tallyLines, truncate, whoText } from '../../src/bot/index.ts'
import { CONTENT_LIMIT, neutralise, unmaskLinks } from './render.ts'

/** A choice: `ask:<run>:<key>:<index>` on a button, `ask:<run>:<key>` on a select (its values are indexes). */
export const ASK_PREFIX = 'ask:'
/** A form's Answer… button: `askform:<run>:<key>`. */
export const ASK_FORM_PREFIX = 'askform:'
/** A form's modal: `askmodal:<run>:<key>`; its text inputs are the fields' names. */
export const ASK_MODAL_PREFIX = 'askmodal:'

/** Discord: 5 buttons to a row; more choices go in a select menu (up to 25 options). */
const MAX_BUTTONS = 5
/** Discord: button labels 80, select option labels 100, modal titles and text input labels 45. */
const BUTTON_LABEL = 80
const OPTION_LABEL = 100
const MODAL_LABEL = 45
/** Discord: a text input holds 0–4,000 characters. */
const INPUT_MAX = 4_000
/** Room the tally, the rule and who answers may take of a message's 2,000 characters; the prompt gets the rest. */
const TAIL_LIMIT = 1_500

export interface QuestionMessage {
  content: string
  components: Array<APIActionRowComponent<APIComponentInMessageActionRow>>
}

/**
 * A question's message: the prompt, the live tally of a vote, its rule, who may answer and when it
 * closes (Discord's own timestamp markup, which keeps counting down in every client); choices as
 * buttons (a select past 5), a form as one Answer… button. Once decided or closed: the prompt, the
 * tally and how it ended, with no components.
 */
export function renderQuestion(view: QuestionView): QuestionMessage {
  const tally = tallyLines({
    ...view,
    choices: view.choices?.map((c) => ({ ...c, label: neutralise(escapeMarkdown(truncate(c.label, 80))) })),
  })
  if (view.state !== 'open') {
    const mark = view.state === 'decided' ? '✅' : '⏹️'
    const outcome = neutralise(view.outcome ?? 'Closed.')
    return { content: compose(view.prompt, [...tally, `${mark} ${outcome}`]), components: [] }
  }
  const rule = ruleText(view)
  // Mentions show who is asked; `allowed_mentions` on every message keeps them from pinging.
  const who = whoText(view.who, (id) => `<@${id}>`)
  const closes = `closes <t:${Math.ceil(view.deadlineAt / 1000)}:R>`
  const lines = [...tally, ...(rule === undefined ? [] : [rule]), `-# ${who} · ${closes}`]
  return { content: compose(view.prompt, lines), components: componentsOf(view) }
}

/** The modal of a form question: one text input per field, named after it. */
export function questionModal(view: QuestionView): APIModalInteractionResponseCallbackData {
  const form = view.form ?? { title: 'Answer', fields: [] }
  return {
    custom_id: `${ASK_MODAL_PREFIX}${view.runId}:${view.key}`,
    title: truncate(form.title.trim() === '' ? 'Answer' : form.title, MODAL_LABEL),
    components: form.fields.map((f) => ({
      type: 1,
      components: [
        {
          type: 4,
          custom_id: f.name,
          label: truncate(f.label.trim() === '' ? f.name : f.label, MODAL_LABEL),
          style: f.multiline ? 2 : 1,
          required: f.required,
          ...(f.minLength === undefined ? {} : { min_length: Math.min(f.minLength, INPUT_MAX) }),
          ...(f.maxLength === undefined ? {} : { max_length: Math.max(1, Math.min(f.maxLength, INPUT_MAX)) }),
          ...(f.placeholder === undefined ? {} : { placeholder: truncate(f.placeholder, 100) }),
        },
      ],
    })),
  }
}

/** `<run>:<key>[:<index>]`, the custom id after its prefix. */
export function questionIdOf(rest: string): { runId: string; key: string; index: number | undefined } {
  const [runId = '', key = '', index] = rest.split(':')
  const n = index === undefined ? undefined : Number(index)
  return { runId, key, index: n !== undefined && Number.isInteger(n) ? n : undefined }
}

function componentsOf(view: QuestionView): QuestionMessage['components'] {
  const id = `${view.runId}:${view.key}`
  if (view.form !== undefined)
    return [
      {
        type: 1,
        components: [{ type: 2, style: 1, label: 'Answer…', custom_id: `${ASK_FORM_PREFIX}${id}` }],
      },
    ]
  const choices = view.choices ?? []
  if (choices.length <= MAX_BUTTONS)
    return [
      {
        type: 1,
        components: choices.map((c, i) => ({
          type: 2,
          style: 1,
          label: truncate(c.label, BUTTON_LABEL),
          custom_id: `${ASK_PREFIX}${id}:${i}`,
        })),
      },
    ]
  return [
    {
      type: 1,
      components: [
        {
          type: 3,
          custom_id: `${ASK_PREFIX}${id}`,
          placeholder: 'Choose…',
          min_values: 1,
          max_values: 1,
          options: choices.map((c, i) => ({
            label: truncate(c.label, OPTION_LABEL),
            value: String(i),
            ...(view.collect === undefined
              ? {}
              : { description: `${c.count} ${c.count === 1 ? 'vote' : 'votes'}` }),
          })),
        },
      ],
    },
  ]
}

/** The prompt (markdown, made inert), then `lines`, within Discord's 2,000 characters. */
function compose(prompt: string, lines: string[]): string {
  const tail = truncate(lines.join('\n'), TAIL_LIMIT)
  const head = truncate(neutralise(unmaskLinks(prompt.trim())), CONTENT_LIMIT - tail.length - 2)
  return `${head}\n\n${tail}`
}
