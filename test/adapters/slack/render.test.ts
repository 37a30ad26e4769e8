import { describe, expect, it } from 'vitest'
import { BLOCK_LIMIT, renderView, SECTION_LIMIT } from '../../../adapters/slack/render.ts'
import type { ReplyView } from '../../../src/bot/index.ts'

const view = (markdown: string): ReplyView => ({
  runId: 'r1',
  command: 'brainstorm',
  title: 'Brainstorm: <!channel> & friends',
  user: 'ada',
  status: 'final',
  progress: { done: 5, failed: 0, total: 5, noun: 'ideas' },
  final: { markdown },
  branches: [],
  failures: [],
  elapsedMs: 2_300,
  firstMs: 800,
  demo: false,
  retryable: false,
})

describe('Slack rendering', () => {
  it('splits long results within 3,000 characters per section and 50 blocks per message', () => {
    const paragraph = `${'word & '.repeat(300)}\n\n`
    const { main, more } = renderView(view(paragraph.repeat(80)))
    expect(main.blocks.length).toBeLessThanOrEqual(BLOCK_LIMIT)
    expect(more.length).toBeGreaterThan(0)
    for (const message of [main, ...more]) {
      expect(message.blocks.length).toBeLessThanOrEqual(BLOCK_LIMIT)
      expect(message.text.length).toBeGreaterThan(0)
      for (const block of message.blocks) {
        const text = (block as { text?: { text: string } }).text?.text ?? ''
        expect(text.length).toBeLessThanOrEqual(SECTION_LIMIT)
      }
    }
    const all = [main, ...more]
      .flatMap((m) => m.blocks)
      .filter((b) => b.type === 'section')
      .map((b) => (b as { text?: { text: string } }).text?.text ?? '')
    expect(all.join(' ').match(/word &amp;/g)?.length).toBe(300 * 80)
  })

  it('shows the title as plain text, escapes it in the fallback, and shows the summary', () => {
    const { main } = renderView(view('done'))
    expect(main.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Brainstorm: <!channel> & friends' },
    })
    expect(main.text).toBe('Brainstorm: &lt;!channel&gt; &amp; friends: done')
    for (const block of main.blocks.slice(1)) expect(JSON.stringify(block)).not.toContain('<!')
    expect(JSON.stringify(main)).toContain('5/5 ideas · first after 0.8 s · all after 2.3 s')
  })
})
