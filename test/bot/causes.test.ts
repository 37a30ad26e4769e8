import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { Bot, loadConfig, type ReplyView } from '../../src/bot/index.ts'
import { ScriptedModel } from '../fakes/model.ts'

const flowsDir = fileURLToPath(new URL('./fixtures/flows/', import.meta.url))

async function runCommand(name: string): Promise<ReplyView | undefined> {
  const model = new ScriptedModel(() => ({ text: 'an answer' }))
  const bot = await Bot.create({ config: loadConfig({}), model, logger: pino({ level: 'silent' }), flowsDir })
  const command = bot.command(name)
  if (command === undefined) throw new Error(`no ${name}`)
  const views: ReplyView[] = []
  const run = bot.start({
    command,
    input: { topic: 'cats' },
    user: 'U1',
    platform: 'console',
    minIntervalMs: 0,
    sink: { show: async (v) => void views.push(v) },
  })
  await run.done
  return views.at(-1)
}

describe('replies name what went wrong', () => {
  it('a final answer still mentions a side branch that failed', async () => {
    const view = await runCommand('side')
    expect(view?.status).toBe('final')
    expect(view?.failures).toEqual([{ step: 'audit', message: 'the model provider is unavailable' }])
  })

  it('a failed run names the step whose failure made the final answer unreachable, and why', async () => {
    const view = await runCommand('routed')
    expect(view?.status).toBe('failed')
    expect(view?.error).toBe(
      'Chorus could not finish: the model provider is unavailable (step pick failed). Please try again in a moment.',
    )
  })
})
