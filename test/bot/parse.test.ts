import { describe, expect, it } from 'vitest'
import { parseOptions, parseText } from '../../src/bot/commands/index.ts'
import { commandOf, loadFlows, MAX_COMMAND_TEXT } from '../../src/bot/index.ts'

const flows = await loadFlows()
const brainstorm = flows.find((r) => r.flow.name === 'brainstorm')
if (brainstorm === undefined) throw new Error('brainstorm flow missing')
const { command, flow } = brainstorm

describe('registry', () => {
  it('makes one command per flow file, with options from the zod schema', () => {
    expect(flows.map((r) => r.command.name)).toEqual([
      'brainstorm',
      'brand',
      'decide',
      'review',
      'standup',
      'vote',
    ])
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

  it('answers help with what the command does and takes, and starts nothing', () => {
    for (const text of ['help', ' HELP ', '--help', '?']) {
      const r = parseText(command, flow, text)
      expect(r.ok).toBe(false)
      if (r.ok) continue
      expect(r.message.split('\n')).toEqual([
        `*/brainstorm*: ${command.description}`,
        'Usage: `/brainstorm <topic> [--angles 1-8]`',
        expect.stringMatching(/^• `<topic>`: .+ \(text\)$/),
        expect.stringMatching(/^• `--angles`: .+ \(1 to 8, default 5\)$/),
      ])
    }
    // Only the word alone: a topic that contains it is a topic.
    expect(parseText(command, flow, 'help desk rota')).toMatchObject({
      ok: true,
      input: { topic: 'help desk rota' },
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

describe('/decide options', () => {
  const decide = flows.find((r) => r.flow.name === 'decide')
  if (decide === undefined) throw new Error('decide flow missing')
  it('shows its usage and takes a duration and quoted values', () => {
    expect(decide.command.usage).toBe(
      '/decide <question> [--options 2-5] [--quorum 1-50] [--for 10m] [--choices text]',
    )
    const parsed = parseText(
      decide.command,
      decide.flow,
      'Where do we eat? --for 2h --choices “Thai place | The pizza one” --quorum 2',
    )
    expect(parsed).toEqual({
      ok: true,
      input: {
        question: 'Where do we eat?',
        options: 3,
        quorum: 2,
        for: '2h',
        choices: 'Thai place | The pizza one',
      },
    })
    const straight = parseText(decide.command, decide.flow, 'Lunch? --choices="Tacos | Sushi"')
    expect(straight.ok && straight.input.choices).toBe('Tacos | Sushi')
  })

  it('refuses a duration it cannot read, saying what it takes', () => {
    const parsed = parseText(decide.command, decide.flow, 'Lunch? --for soon')
    expect(parsed.ok).toBe(false)
    if (!parsed.ok)
      expect(parsed.message).toMatch(/^--for takes a duration from 10s to 7d, like 10m, 2h or 1d\.\nUsage: /)
  })
})
