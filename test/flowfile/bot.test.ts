import { resolve } from 'node:path'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { Bot, loadConfig, type ReplyView } from '../../src/bot/index.ts'
import type { LanguageModel } from '../../src/llm/index.ts'
import { ScriptedModel } from '../fakes/model.ts'

/** A scripted model whose `withModel(name)` answers with the name, recording each prompt by model. */
function models(calls: Array<{ model: string; prompt: string }>, name = 'default'): LanguageModel {
  const scripted = new ScriptedModel(() => ({ text: name === 'default' ? 'no' : 'yes' }))
  return {
    id: name,
    demo: false,
    text: (prompt, options) => {
      calls.push({ model: name, prompt })
      return scripted.text(prompt, options)
    },
    samples: (prompt, k, options) => {
      calls.push({ model: name, prompt })
      return scripted.samples(prompt, k, options)
    },
    withModel: (other) => models(calls, other),
  }
}

describe('a file flow in the bot', () => {
  it('runs as a command, each step on the model its file names (model:), replying with the final', async () => {
    const calls: Array<{ model: string; prompt: string }> = []
    const bot = await Bot.create({
      config: loadConfig({}),
      model: models(calls),
      logger: pino({ level: 'silent' }),
      flowsDir: resolve(import.meta.dirname, 'fixtures/good/flows'),
    })
    const command = bot.command('pick')
    if (command === undefined) throw new Error('no /pick')
    const parsed = bot.parseText(command, 'Ship on Friday? --voters 3')
    expect(parsed).toEqual({ ok: true, input: { question: 'Ship on Friday?', voters: 3, style: 'short' } })
    const views: ReplyView[] = []
    const handle = bot.start({
      command,
      input: parsed.ok ? parsed.input : {},
      user: 'U1',
      platform: 'console',
      minIntervalMs: 0,
      sink: { show: async (v) => void views.push(v) },
    })
    expect((await handle.done).status).toBe('completed')
    expect(calls).toEqual([{ model: 'gpt-4o-mini', prompt: 'Ship on Friday? (short)' }])
    expect(views.at(-1)?.final?.markdown).toContain('yes')
  })
})
