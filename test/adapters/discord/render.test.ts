import { describe, expect, it } from 'vitest'
import {
  DESCRIPTION_LIMIT,
  EMBED_LIMIT,
  MESSAGE_LIMIT,
  neutralise,
  renderView,
  unmaskLinks,
} from '../../../adapters/discord/render.ts'
import type { ReplyView } from '../../../src/bot/index.ts'

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
