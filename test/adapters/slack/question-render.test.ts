import { describe, expect, it } from 'vitest'
import {
  ANSWER_ACTION,
  ANSWER_FORM,
  ANSWER_SELECT,
  answerModal,
  answerValue,
  questionMessage,
  readAnswerValue,
} from '../../../adapters/slack/question-render.ts'
import { renderView, VOTE_ON_ACTION } from '../../../adapters/slack/render.ts'
import type { QuestionView, ReplyView } from '../../../src/bot/index.ts'
import { invalidBlocks, invalidModal } from '../../fakes/slack.ts'

const RUN = '6f1c1c9e-8f5e-4a43-9d0e-4d1b9c7a2b10'
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0)

function question(over: Partial<QuestionView> = {}): QuestionView {
  return {
    runId: RUN,
    key: 'Ab3_x-9Z',
    prompt: 'Ship **it**? <!channel>',
    who: { kind: 'requester', user: 'U1', name: 'ada' },
    choices: [
      { value: 'yes', label: 'Ship it', count: 0 },
      { value: 'no', label: 'Hold', count: 0 },
    ],
    form: undefined,
    collect: undefined,
    answered: 0,
    deadlineAt: NOW + 10 * 60_000,
    state: 'open',
    ...over,
  }
}

const json = (x: unknown) => JSON.stringify(x)
type Elements = Array<{ type: string; action_id: string; value?: string; options?: unknown[] }>
const controlsOf = (blocks: unknown[]): Elements =>
  (blocks as Array<{ type: string; elements?: Elements }>).filter((b) => b.type === 'actions')[0]?.elements ??
  []

describe('a question on Slack', () => {
  it('shows the prompt escaped, who answers as a mention, when it closes, and a button per choice', () => {
    const { text, blocks } = questionMessage(question(), NOW)
    expect(invalidBlocks(blocks)).toBeUndefined()
    expect(json(blocks)).toContain('Ship *it*? &lt;!channel&gt;')
    expect(json(blocks)).not.toContain('<!channel>')
    expect(text).toBe('Question: Ship **it**? &lt;!channel&gt;')
    expect(json(blocks)).toContain('For <@U1> to answer.')
    expect(json(blocks)).toContain('closes in 10 min (<!date^')
    const buttons = controlsOf(blocks)
    expect(buttons.map((b) => [b.type, b.action_id, b.value])).toEqual([
      ['button', 'chorus_answer_0', `${RUN}:Ab3_x-9Z:0`],
      ['button', 'chorus_answer_1', `${RUN}:Ab3_x-9Z:1`],
    ])
    for (const b of buttons) expect(ANSWER_ACTION.test(b.action_id)).toBe(true)
    expect(ANSWER_ACTION.test(ANSWER_SELECT) || ANSWER_ACTION.test(ANSWER_FORM)).toBe(false)
  })

  it('never mentions what is not a Slack user id', () => {
    const { blocks } = questionMessage(
      question({ who: { kind: 'users', users: ['U2', '!channel', 'ann>'] } }),
    )
    expect(json(blocks)).toContain('For <@U2>, @!channel, @ann&gt; to answer.')
    expect(json(blocks)).not.toContain('<@!channel>')
  })

  it('shows a vote with its rule, its tally and who answered; labels are escaped', () => {
    const view = question({
      who: { kind: 'anyone' },
      collect: { agree: 3 },
      answered: 3,
      choices: [
        { value: 'yes', label: 'Ship <it>', count: 2 },
        { value: 'no', label: 'Hold', count: 1 },
      ],
    })
    const { blocks } = questionMessage(view, NOW)
    const all = json(blocks)
    expect(all).toContain('Anyone here can answer. · Closes when 3 agree, or at the deadline. · 3 answered')
    expect(all).toMatch(/`███░░` \*Ship &lt;it&gt;\* 2\\n`██░░░` \*Hold\* 1/)
    expect(invalidBlocks(blocks)).toBeUndefined()
  })

  it('puts more than 5 choices in one select whose options carry the choice', () => {
    const choices = Array.from({ length: 25 }, (_, i) => ({
      value: `v${i}`,
      label: `${'long '.repeat(30)}${i}`,
      count: 0,
    }))
    const { blocks } = questionMessage(question({ choices }))
    expect(invalidBlocks(blocks)).toBeUndefined()
    const [select] = controlsOf(blocks)
    expect(select?.type).toBe('static_select')
    expect(select?.action_id).toBe(ANSWER_SELECT)
    const options = select?.options as Array<{ text: { text: string }; value: string }>
    expect(options).toHaveLength(25)
    expect(options[7]?.value).toBe(`${RUN}:Ab3_x-9Z:7`)
    expect(options[7]?.text.text.length).toBeLessThanOrEqual(75)
  })

  it('offers a form as one Answer… button, and its modal has an input per field within Slack limits', () => {
    const view = question({
      choices: undefined,
      form: {
        title: 'A title far longer than twenty-four characters',
        fields: [
          {
            name: 'code',
            label: 'Ticket code',
            multiline: false,
            required: true,
            minLength: 7,
            maxLength: 7,
          },
          { name: 'note', label: 'Anything to add', multiline: true, required: false, maxLength: 4_000 },
        ],
      },
    })
    const { blocks } = questionMessage(view)
    expect(controlsOf(blocks).map((b) => [b.action_id, b.value])).toEqual([[ANSWER_FORM, `${RUN}:Ab3_x-9Z`]])
    const modal = answerModal(view, '{"x":1}')
    expect(invalidModal(modal as unknown as Record<string, unknown>)).toBeUndefined()
    expect(modal.title.text.length).toBeLessThanOrEqual(24)
    const inputs = modal.blocks.filter((b) => b.type === 'input')
    expect(inputs).toMatchObject([
      {
        block_id: 'code',
        optional: false,
        label: { text: 'Ticket code' },
        element: { action_id: 'code', min_length: 7, max_length: 7, multiline: false },
      },
      {
        block_id: 'note',
        optional: true,
        element: { action_id: 'note', max_length: 3_000, multiline: true },
      },
    ])
  })

  it('once decided or closed: the prompt, the tally and the outcome, no controls', () => {
    const decided = questionMessage(
      question({
        state: 'decided',
        collect: { agree: 2 },
        answered: 2,
        outcome: 'Decided: **Ship it** (2 of 2 votes), by <!here>',
      }),
    )
    expect(controlsOf(decided.blocks)).toEqual([])
    expect(json(decided.blocks)).toContain(
      ':white_check_mark: Decided: *Ship it* (2 of 2 votes), by &lt;!here&gt;',
    )
    expect(json(decided.blocks)).not.toContain('closes in')
    const closed = questionMessage(question({ state: 'closed', outcome: 'Closed: no one answered in time.' }))
    expect(controlsOf(closed.blocks)).toEqual([])
    expect(closed.text).toContain('Closed: no one answered in time.')
  })

  it('reads back what its controls carry, and nothing else', () => {
    expect(readAnswerValue(answerValue({ runId: RUN, key: 'Ab3_x-9Z' }, 4))).toEqual({
      runId: RUN,
      key: 'Ab3_x-9Z',
      choice: 4,
    })
    expect(readAnswerValue(answerValue({ runId: RUN, key: 'Ab3_x-9Z' }))).toEqual({
      runId: RUN,
      key: 'Ab3_x-9Z',
      choice: undefined,
    })
    for (const bad of [undefined, '', RUN, `${RUN}:k:x`, `${RUN}:k:1:2`])
      expect(readAnswerValue(bad)).toBeUndefined()
  })

  it('a final reply that offers it shows Vote on these beside Again', () => {
    const reply: ReplyView = {
      runId: 'r1',
      command: 'brainstorm',
      title: 'Brainstorm',
      user: 'ada',
      status: 'final',
      progress: { done: 1, failed: 0, total: 1, noun: 'ideas' },
      final: { markdown: '1. **A**' },
      branches: [],
      failures: [],
      elapsedMs: 1,
      demo: false,
      retryable: true,
    }
    const ids = (v: ReplyView) => controlsOf(renderView(v).main.blocks).map((b) => b.action_id)
    expect(ids(reply)).not.toContain(VOTE_ON_ACTION)
    expect(ids({ ...reply, voteOn: true })).toEqual([
      'chorus_retry',
      'chorus_refine',
      VOTE_ON_ACTION,
      'chorus_feedback_up',
      'chorus_feedback_down',
    ])
  })
})
