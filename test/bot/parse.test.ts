import { describe, expect, it } from 'vitest'
import { parseOptions, parseText } from '../../src/bot/commands/index.ts'
import { commandOf, loadFlows, MAX_COMMAND_TEXT } from '../../src/bot/index.ts'

const flows = await loadFlows()
const brainstorm = flows.find((r) => r.flow.name === 'brainstorm')
if (brainstorm === undefined) throw new Error('brainstorm flow missing')
const { command, flow } = brainstorm

describe('registry', () => {
  it('makes one command per flow file, with options from the zod schema', () => {
    expect(flows.map((r) => r.command.name)).toEqual(['brainstorm', 'brand', 'review', 'vote'])
    expect(command.usage).toBe('/brainstorm <topic> [--angles 1-8]')
    expect(command.options).toEqual([
      {
        name: 'topic',
        description: 'What to brainstorm about',
        type: 'string',
        required: true,
        primary: true,
        maxLength: 500,
      },
      {
        name: 'angles',
        description: 'How many angles to explore at once',
        type: 'integer',
        required: false,
        primary: false,
        default: 5,
        min: 1,
        max: 8,
      },
    ])
    expect(command.noun).toBe('ideas')
    expect(commandOf(flow)).toEqual(command)
  })
})

describe('parseText', () => {
  it('puts the free text into the primary option and flags into the others', () => {
    expect(parseText(command, flow, 'a name for  our product --angles 3')).toEqual({
      ok: true,
      input: { topic: 'a name for our product', angles: 3 },
    })
    expect(parseText(command, flow, '--angles=2 cats')).toEqual({
      ok: true,
      input: { topic: 'cats', angles: 2 },
    })
    expect(parseText(command, flow, 'cats')).toEqual({ ok: true, input: { topic: 'cats', angles: 5 } })
  })

  it('answers empty text with a usage message', () => {
    const r = parseText(command, flow, '   ')
    expect(r).toEqual({
      ok: false,
      message: 'Please give the topic.\nUsage: `/brainstorm <topic> [--angles 1-8]`',
    })
  })

  it('rejects unknown options and out-of-range values clearly', () => {
    expect(parseText(command, flow, 'cats --colour red')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^Unknown option --colour\. Options: --angles\./),
    })
    expect(parseText(command, flow, 'cats --angles 9')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^--angles must be a whole number from 1 to 8\./),
    })
    expect(parseText(command, flow, 'cats --angles two')).toMatchObject({ ok: false })
    expect(parseText(command, flow, 'cats --angles')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/needs a value/),
    })
  })

  it('rejects text over the limits with the numbers', () => {
    expect(parseText(command, flow, 'x'.repeat(501))).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^The topic is 501 characters; the most is 500\./),
    })
    expect(parseText(command, flow, 'x'.repeat(MAX_COMMAND_TEXT + 1))).toMatchObject({
      ok: false,
      message: expect.stringMatching(/takes at most 4000/),
    })
  })
})

describe('parseOptions', () => {
  it('validates typed values as Discord sends them', () => {
    expect(parseOptions(command, flow, { topic: 'cats', angles: 2 })).toEqual({
      ok: true,
      input: { topic: 'cats', angles: 2 },
    })
    expect(parseOptions(command, flow, { topic: 'cats', angles: 0 })).toMatchObject({ ok: false })
    expect(parseOptions(command, flow, { nope: 1 })).toMatchObject({
      ok: false,
      message: /Unknown option nope/,
    })
  })
})
