import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { dispatch, runOnce } from '../../../adapters/console/index.ts'
import { Bot, loadConfig } from '../../../src/bot/index.ts'
import { ScriptedModel } from '../../fakes/model.ts'

const logger = pino({ level: 'silent' })
const model = new ScriptedModel((prompt) => {
  const m = /Angle: (.+?)\./.exec(prompt)
  return m === null
    ? { text: '1. **Best** idea' }
    : { text: `- **${m[1]}** idea`, latencyMs: m[1] === 'User pain' ? 5 : 60 }
})

function output() {
  let text = ''
  return { write: (s: string) => (text += s), text: () => text }
}

describe('console adapter', () => {
  it('prints the first result, then the combined one with timings', async () => {
    const bot = await Bot.create({ config: loadConfig({}), model, logger })
    const out = output()
    expect(await runOnce(bot, 'brainstorm cats --angles 3', out)).toBe(0)
    const text = out.text()
    const first = text.indexOf('⚡ First idea after')
    const final = text.indexOf('✔ Brainstorm: cats')
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
})
