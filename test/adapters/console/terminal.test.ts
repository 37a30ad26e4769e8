import { resolve } from 'node:path'
import { PassThrough } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { runOnce, startConsole } from '../../../adapters/console/index.ts'
import { Bot, loadConfig } from '../../../src/bot/index.ts'
import { ScriptedModel } from '../../fakes/model.ts'

const flowsDir = resolve(import.meta.dirname, 'fixtures/flows')
const logger = pino({ level: 'silent' })
const user = process.env.USER || 'console'

/** A terminal: keys typed into `input`, everything shown (prompts and echo included) on `screen`. */
function terminal() {
  const input = Object.assign(new PassThrough(), { isTTY: true })
  const screen = Object.assign(new PassThrough(), { isTTY: true, columns: 100 })
  let text = ''
  screen.on('data', (d: Buffer) => (text += d))
  return {
    input,
    screen,
    text: () => text,
    type: (keys: string) => input.write(keys),
    /** Resolves once the screen shows `what` `times` times; rejects after 5 s. */
    async shows(what: string, times = 1): Promise<void> {
      const t0 = performance.now()
      while (text.split(what).length - 1 < times) {
        if (performance.now() - t0 > 5_000)
          throw new Error(`screen never showed ${JSON.stringify(what)}:\n${text}`)
        await new Promise((r) => setTimeout(r, 5))
      }
    },
  }
}

const bot = () =>
  Bot.create({ config: loadConfig({}), model: new ScriptedModel(() => ({ text: '' })), logger, flowsDir })

describe('console questions on a terminal', () => {
  it('prompts for the answer and reads what is typed', async () => {
    const t = terminal()
    const done = runOnce(await bot(), 'pick Which one?', t.screen, t.input)
    await t.shows('answer> ')
    t.type('2\r')
    expect(await done).toBe(0)
    expect(t.text()).toContain('? Which one?\n  1) Ship it\n  2) Hold\n')
    expect(t.text()).toContain('→ Hold')
    expect(t.text()).toContain(`Picked: Hold (answered by ${user})`)
  })

  it('Ctrl+C while a question is open stops the run and closes the question', async () => {
    const t = terminal()
    const done = runOnce(await bot(), 'pick Which one?', t.screen, t.input)
    await t.shows('answer> ')
    t.type('\x03')
    expect(await done).toBe(1)
    expect(t.text()).toContain('Question closed: stopped by you (Ctrl+C).')
    expect(t.text()).toContain('■ Pick: Which one?: stopped by you (Ctrl+C)')
  })

  it('a result printed while someone types is followed by the question again', async () => {
    const t = terminal()
    const done = runOnce(await bot(), 'hint Which one?', t.screen, t.input)
    await t.shows('answer> ')
    await t.shows('Hint: ship on Fridays')
    await t.shows('answer> ', 2)
    expect(t.text().indexOf('(still open: Which one?)')).toBeGreaterThan(
      t.text().indexOf('Hint: ship on Fridays'),
    )
    t.type('ship IT\r')
    expect(await done).toBe(0)
    expect(t.text()).toContain('Picked: Ship it')
  })

  it('asks a form field by field, again for a field that does not fit', async () => {
    const t = terminal()
    const done = runOnce(await bot(), 'book Luigi', t.screen, t.input)
    await t.shows('  Name: ')
    t.type('\r')
    await t.shows('✖ Name: Give a name')
    await t.shows('  Name: ', 2)
    t.type('Ann\r')
    await t.shows('  Seats: ')
    t.type('3\r')
    await t.shows('  Note: ')
    t.type('window\r')
    expect(await done).toBe(0)
    expect(t.text()).toContain('Booked 3 for Ann at Luigi (window)')
  })

  it('the interactive console reads commands and answers from one line stream; Ctrl+C at the prompt quits', async () => {
    const t = terminal()
    const done = startConsole(await bot(), t.input, t.screen)
    // readline clears the line, then draws the prompt.
    await t.shows('\x1b[0J> ')
    t.type('pick Which one?\r')
    await t.shows('answer> ')
    t.type('1\r')
    await t.shows('Picked: Ship it')
    await t.shows('\x1b[0J> ', 2)
    t.type('\x03')
    await done
    expect(t.text()).not.toContain('Unknown command')
  })
})
