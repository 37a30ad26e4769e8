import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { dispatch, runOnce } from '../../../adapters/console/index.ts'
import { styleMarkdown } from '../../../adapters/console/markdown.ts'
import { Bot, loadConfig } from '../../../src/bot/index.ts'
import { ScriptedModel } from '../../fakes/model.ts'

const logger = pino({ level: 'silent' })
const model = new ScriptedModel((prompt) => {
  const m = /Angle: (.+?)\./.exec(prompt)
  return m === null
    ? { text: '1. **Best** idea' }
    : { text: `- **${m[1]}** idea`, latencyMs: m[1] === 'User pain' ? 5 : 60 }
})

function output(isTTY = false) {
  let text = ''
  return { write: (s: string) => (text += s), text: () => text, isTTY, columns: 100 }
}

describe('console adapter', () => {
  it('prints the first result, then the combined one with timings', async () => {
    const bot = await Bot.create({ config: loadConfig({}), model, logger })
    const out = output()
    expect(await runOnce(bot, 'brainstorm cats --angles 3', out)).toBe(0)
    const text = out.text()
    const first = text.indexOf('⚡ First idea after')
    const final = text.indexOf(`✔ Brainstorm: cats · asked by ${process.env.USER || 'console'}`)
    expect(first).toBeGreaterThan(-1)
    expect(final).toBeGreaterThan(first)
    expect(text).toContain('**User pain** idea')
    expect(text).toContain('**Best** idea')
    expect(text).toMatch(/\(3\/3 ideas · first after \d+\.\d s · all after \d+\.\d s\)/)
  })

  it('answers /help with every command and bad input with usage, running nothing', async () => {
    const bot = await Bot.create({ config: loadConfig({}), model, logger })
    const out = output()
    expect(dispatch(bot, '/help', out)).toBeUndefined()
    for (const name of ['/brainstorm <topic>', '/brand <brand>', '/review <text>', '/vote <question>']) {
      expect(out.text()).toContain(name)
    }
    const calls = model.calls.length
    expect(dispatch(bot, '/brainstorm', out)).toBeUndefined()
    expect(out.text()).toContain('Please give the topic.\nUsage: `/brainstorm <topic> [--angles 1-8]`')
    expect(dispatch(bot, '/nope x', out)).toBeUndefined()
    expect(out.text()).toContain('Unknown command /nope.')
    expect(model.calls.length).toBe(calls)
  })
  it('on a terminal, redraws a line per branch in place; piped, prints results only', async () => {
    // Slow enough branches that a progress redraw falls between the first result and the end.
    const slow = new ScriptedModel((prompt) => {
      const m = /Angle: (.+?)\./.exec(prompt)
      return m === null
        ? { text: 'best' }
        : { text: `**${m[1]}** idea`, latencyMs: m[1] === 'User pain' ? 5 : 400 }
    })
    const bot = await Bot.create({ config: loadConfig({}), model: slow, logger })
    const tty = output(true)
    expect(await runOnce(bot, 'brainstorm cats --angles 3', tty)).toBe(0)
    expect(tty.text()).toMatch(/ {2}… angle-constraint · running/)
    expect(tty.text()).toMatch(/ {2}✓ angle-user-pain · \d+\.\d s/)
    // Each redraw moves back over the block it drew (title line plus 3 branch lines).
    expect(tty.text()).toContain('\r\x1b[3A\x1b[J')
    expect(tty.text()).toContain('\x1b[1mUser pain\x1b[22m idea')
    const pipe = output(false)
    expect(await runOnce(bot, 'brainstorm cats --angles 3', pipe)).toBe(0)
    expect(pipe.text()).not.toContain('\x1b')
    expect(pipe.text()).not.toContain('· running')
    expect(pipe.text()).toContain('✔ Brainstorm: cats')
    expect(pipe.text()).toContain('**User pain** idea')
  })
})

describe('console streaming', () => {
  it('on a terminal, shows the leading branch as it is written under the branch lines; piped, only results', async () => {
    const writing = new ScriptedModel((prompt) => {
      const m = /Angle: (.+?)\./.exec(prompt)
      if (m === null) return { text: 'best' }
      return m[1] === 'User pain'
        ? { text: 'one two three four\x1b[2J five six seven eight', latencyMs: 5, writeMs: 800 }
        : { text: `**${m[1]}** idea`, latencyMs: 1_500 }
    })
    const bot = await Bot.create({ config: loadConfig({}), model: writing, logger })
    const tty = output(true)
    expect(await runOnce(bot, 'brainstorm cats --angles 2', tty)).toBe(0)
    const text = tty.text()
    const partial = text.search(
      /✎ angle-user-pain · writing\n {2}… angle-contrarian · running\n\n {4}one two( \w+)* ▍/,
    )
    expect(partial).toBeGreaterThan(-1)
    expect(text.indexOf('⚡ First idea')).toBeGreaterThan(partial)
    expect(text.slice(partial, text.indexOf('⚡ First idea'))).not.toContain('eight ▍')
    // The model's own escape sequence never reaches the terminal.
    expect(text).not.toContain('\x1b[2J')
    const pipe = output(false)
    expect(await runOnce(bot, 'brainstorm cats --angles 2', pipe)).toBe(0)
    expect(pipe.text()).not.toContain('▍')
    expect(pipe.text()).not.toContain('writing')
  })
})

describe('console markdown', () => {
  it('styles markdown on a terminal and drops the control characters the model wrote', () => {
    const styled = styleMarkdown(
      '# Head\n- **bold** and *it* and _it_ and `code`\n> quote\nbad \x1b[2J\rclear',
    )
    expect(styled).toBe(
      '\x1b[1mHead\x1b[22m\n• \x1b[1mbold\x1b[22m and \x1b[3mit\x1b[23m and \x1b[3mit\x1b[23m and \x1b[36mcode\x1b[39m\n\x1b[2m│ quote\x1b[22m\nbad [2Jclear',
    )
  })
})
