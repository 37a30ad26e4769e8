import { describe, expect, it } from 'vitest'
import {
  CONTENT_LIMIT,
  DESCRIPTION_LIMIT,
  EMBED_LIMIT,
  MESSAGE_LIMIT,
  neutralise,
  renderView,
  unmaskLinks,
  VOTE_ON_PREFIX,
} from '../../../adapters/discord/render.ts'
import { questionIdOf, questionModal, renderQuestion } from '../../../adapters/discord/render-question.ts'
import type { QuestionView, ReplyView } from '../../../src/bot/index.ts'

const view = (markdown: string): ReplyView => ({
  runId: 'r1',
  command: 'brainstorm',
  title: 'Brainstorm: lunch',
  user: 'ada',
  status: 'final',
  progress: { done: 5, failed: 1, total: 5, noun: 'ideas' },
  final: { markdown },
  branches: [],
  failures: [{ step: 'angle-moonshot', message: 'the model took too long' }],
  elapsedMs: 2_300,
  firstMs: 800,
  demo: true,
  retryable: false,
})

describe('Discord rendering', () => {
  it('splits long results within 4,096 per description, 6,000 and 10 embeds per message', () => {
    const { main, more } = renderView(view(`${'an idea worth having. '.repeat(200)}\n\n`.repeat(12)))
    expect(more.length).toBeGreaterThan(0)
    for (const message of [main, ...more]) {
      expect(message.embeds.length).toBeLessThanOrEqual(EMBED_LIMIT)
      const total = message.embeds.reduce(
        (n, e) => n + (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0),
        0,
      )
      expect(total).toBeLessThanOrEqual(MESSAGE_LIMIT)
      for (const e of message.embeds)
        expect(e.description?.length ?? 0).toBeLessThanOrEqual(DESCRIPTION_LIMIT)
    }
    const footer = [main, ...more].flatMap((m) => m.embeds).at(-1)?.footer?.text ?? ''
    expect(footer).toContain('failed: angle-moonshot (the model took too long)')
    expect(footer).toContain('Demo model')
  })

  it('breaks every kind of mention in text', () => {
    expect(neutralise('@everyone @here <@123> <@!456> <@&789>')).toBe(
      '@\u200beveryone @\u200bhere <@\u200b123> <@\u200b!456> <@\u200b&789>',
    )
  })
  it('shows the real target of a masked link whose text names another site', () => {
    expect(unmaskLinks('[https://bank.example/login](https://evil.test/x)')).toBe('https://evil.test/x')
    expect(unmaskLinks('[bank.example](<https://evil.test/x> "Bank")')).toBe('https://evil.test/x')
    expect(unmaskLinks('[[bank.example]](https://evil.test/x)')).toBe('https://evil.test/x')
    expect(unmaskLinks('[the docs](https://example.com/docs)')).toBe('[the docs](https://example.com/docs)')
    expect(unmaskLinks('`[bank.example](https://evil.test/x)`')).toBe('`[bank.example](https://evil.test/x)`')
  })

  it("shows the user's topic as typed in the title", () => {
    const { main } = renderView({ ...view('x'), title: 'Brainstorm: R&D <b> *x* _y_' })
    expect(main.embeds[0]?.title).toBe('Brainstorm: R&D <b> \\*x\\* \\_y\\_')
  })
})

const question = (over: Partial<QuestionView> = {}): QuestionView => ({
  runId: '0b7a1f6e-3c1d-4d7e-9a0b-2f6c8e1d5a3b',
  key: 'AbCd-_12',
  prompt: 'Ship it?',
  who: { kind: 'requester', user: '444444444444444444', name: 'ada' },
  choices: [
    { value: 'yes', label: 'Yes', count: 0 },
    { value: 'no', label: 'No', count: 0 },
  ],
  form: undefined,
  collect: undefined,
  answered: 0,
  deadlineAt: 1_800_000_000_000,
  state: 'open',
  ...over,
})

describe('Discord question messages', () => {
  it('shows up to 5 choices as one row of buttons, each id naming the run, the question and the choice', () => {
    const { content, components } = renderQuestion(question())
    expect(content).toBe('Ship it?\n\n-# For <@444444444444444444> to answer. · closes <t:1800000000:R>')
    expect(components).toEqual([
      {
        type: 1,
        components: [
          {
            type: 2,
            style: 1,
            label: 'Yes',
            custom_id: 'ask:0b7a1f6e-3c1d-4d7e-9a0b-2f6c8e1d5a3b:AbCd-_12:0',
          },
          {
            type: 2,
            style: 1,
            label: 'No',
            custom_id: 'ask:0b7a1f6e-3c1d-4d7e-9a0b-2f6c8e1d5a3b:AbCd-_12:1',
          },
        ],
      },
    ])
    expect(questionIdOf('0b7a1f6e-3c1d-4d7e-9a0b-2f6c8e1d5a3b:AbCd-_12:1')).toEqual({
      runId: '0b7a1f6e-3c1d-4d7e-9a0b-2f6c8e1d5a3b',
      key: 'AbCd-_12',
      index: 1,
    })
  })

  it('shows more than 5 choices as a select whose values are the indexes, with the vote count of each', () => {
    const choices = Array.from({ length: 25 }, (_, i) => ({
      value: `v${i}`,
      label: `Choice ${i}`,
      count: i % 2,
    }))
    const view = question({ choices, collect: { agree: 3 }, answered: 12, who: { kind: 'anyone' } })
    const { content, components } = renderQuestion(view)
    const [row] = components
    expect(row?.components).toHaveLength(1)
    const select = row?.components[0] as {
      type: number
      custom_id: string
      options: Array<Record<string, unknown>>
    }
    expect(select.type).toBe(3)
    expect(select.custom_id).toBe('ask:0b7a1f6e-3c1d-4d7e-9a0b-2f6c8e1d5a3b:AbCd-_12')
    expect(select.options).toHaveLength(25)
    expect(select.options[1]).toEqual({ label: 'Choice 1', value: '1', description: '1 vote' })
    expect(content).toContain('Closes when 3 agree, or at the deadline.')
    expect(content).toContain('Anyone here can answer.')
    expect(content.length).toBeLessThanOrEqual(CONTENT_LIMIT)
  })

  it('a form is one Answer… button, and its modal has one text input per field within Discord limits', () => {
    const form = {
      title: 'A title far longer than the forty-five characters a modal allows',
      fields: [
        {
          name: 'name',
          label: 'Release name',
          multiline: false,
          required: true,
          minLength: 3,
          maxLength: 20,
        },
        { name: 'note', label: 'N'.repeat(60), multiline: true, required: false, maxLength: 9_000 },
      ],
    }
    const view = question({ choices: undefined, form })
    expect(renderQuestion(view).components).toEqual([
      {
        type: 1,
        components: [
          {
            type: 2,
            style: 1,
            label: 'Answer…',
            custom_id: 'askform:0b7a1f6e-3c1d-4d7e-9a0b-2f6c8e1d5a3b:AbCd-_12',
          },
        ],
      },
    ])
    const modal = questionModal(view)
    expect(modal.custom_id).toBe('askmodal:0b7a1f6e-3c1d-4d7e-9a0b-2f6c8e1d5a3b:AbCd-_12')
    expect(modal.title.length).toBeLessThanOrEqual(45)
    expect(modal.components).toEqual([
      {
        type: 1,
        components: [
          {
            type: 4,
            custom_id: 'name',
            label: 'Release name',
            style: 1,
            required: true,
            min_length: 3,
            max_length: 20,
          },
        ],
      },
      {
        type: 1,
        components: [
          {
            type: 4,
            custom_id: 'note',
            label: `${'N'.repeat(44)}…`,
            style: 2,
            required: false,
            max_length: 4_000,
          },
        ],
      },
    ])
  })

  it('once decided: the prompt, the tally and how it ended, no components', () => {
    const view = question({
      state: 'decided',
      collect: { agree: 2 },
      answered: 3,
      choices: [
        { value: 'yes', label: 'Yes', count: 2 },
        { value: 'no', label: 'No', count: 1 },
      ],
      outcome: 'Decided: **Yes** (2 of 3 votes), by ada.',
    })
    expect(renderQuestion(view)).toEqual({
      content: 'Ship it?\n\n`███░░` **Yes** 2\n`██░░░` **No** 1\n✅ Decided: **Yes** (2 of 3 votes), by ada.',
      components: [],
    })
  })

  it('makes the prompt and the labels inert: no mention resolves, a disguised link shows its target, markdown in labels is literal', () => {
    const view = question({
      prompt: `@everyone [bank.example](https://evil.test/x) ${'long '.repeat(600)}`,
      collect: { answers: 5 },
      choices: [
        { value: 'a', label: '*bold* <@123>', count: 1 },
        { value: 'b', label: 'B', count: 0 },
      ],
      answered: 1,
    })
    const { content } = renderQuestion(view)
    expect(content).toContain('@\u200beveryone')
    expect(content).toContain('https://evil.test/x')
    expect(content).not.toContain('[bank.example]')
    expect(content).toContain('**\\*bold\\* <@\u200b123>** 1')
    expect(content.length).toBeLessThanOrEqual(CONTENT_LIMIT)
    expect(content).toContain('Closes when 5 have voted, or at the deadline.')
  })

  it('offers Vote on these under a final reply that can be put to a vote, within 5 buttons', () => {
    const ids = (v: ReplyView) => renderView(v).main.components.flatMap((r) => r.components.map((c) => c))
    const plain = ids({ ...view('x'), retryable: true })
    expect(plain.some((c) => 'custom_id' in c && String(c.custom_id).startsWith(VOTE_ON_PREFIX))).toBe(false)
    const offered = ids({ ...view('x'), retryable: true, voteOn: true })
    expect(offered).toHaveLength(5)
    expect(offered[2]).toEqual({
      type: 2,
      style: 2,
      label: 'Vote on these',
      custom_id: `${VOTE_ON_PREFIX}r1`,
    })
  })
})
