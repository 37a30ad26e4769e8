import { describe, expect, it } from 'vitest'
import { FlowFileError, flowFromText } from '../../src/flowfile/index.ts'

/** The error loading `text` as flows/t.yaml gives (its message: one problem a line). */
function errorOf(text: string): string {
  try {
    flowFromText(text, 'flows/t.yaml')
  } catch (error) {
    expect(error).toBeInstanceOf(FlowFileError)
    return (error as Error).message
  }
  throw new Error('the file loaded')
}

const head = `name: t
description: A test flow
input:
  notes: { type: string, description: The notes }
`

describe('flow file checks: each problem with file:line:col and what to do', () => {
  it('an unknown step in a trigger, with its position and a did-you-mean', () => {
    const text = `${head}steps:
  wins: { prompt: "Wins: {{notes}}" }
  blockers: { prompt: "Blockers: {{notes}}" }
  summary:
    after: { all: [wins, blokers] }
    prompt: "{{wins}}"
final: summary
`
    expect(errorOf(text)).toBe(
      "flows/t.yaml:9:26: step 'summary' listens to 'blokers', which is no step or label of this flow (did you mean 'blockers'?). Name one of: wins, blockers",
    )
  })

  it('a template variable nothing provides, at the placeholder', () => {
    const text = `${head}steps:
  wins: { prompt: "Wins: {{notes}}" }
  blockers: { prompt: "Blockers: {{notes}}" }
  summary:
    after: wins
    prompt: |
      Write a summary.
      Wins: {{wins}}
      Blockers: {{blockers}}
final: summary
`
    expect(errorOf(text)).toBe(
      "flows/t.yaml:13:17: {{blockers}} in step 'summary': no option or step it listens to is called 'blockers'. To wait for step 'blockers', add it to this step's after",
    )
  })

  it('a variable that is no name at all gets the names in reach', () => {
    const text = `${head}steps:
  wins: { prompt: "Wins: {{note}}" }
final: wins
`
    expect(errorOf(text)).toBe(
      "flows/t.yaml:6:26: {{note}} in step 'wins': no option or step it listens to is called 'note'. Use one of: notes (did you mean 'notes'?)",
    )
  })

  it('a cycle without a router', () => {
    const text = `${head}steps:
  draft: { prompt: "Draft: {{notes}}" }
  critique:
    after: { any: [draft, revise] }
    prompt: "Critique: {{value}}"
  revise:
    after: critique
    prompt: "Revise: {{critique}}"
final: revise
`
    expect(errorOf(text)).toBe(
      "flows/t.yaml:8:12: steps 'critique' and 'revise' listen to each other with no router between them: they would run until their call limit. Break the cycle, or put a router (route:) in it that decides when it ends",
    )
  })

  it('a bad option type, and every problem of a file, one a line', () => {
    const text = `name: t
description: A test flow
input:
  notes: { type: text, description: The notes }
  count: { type: integer, description: How many, min: 1, max: 5, default: 9 }
steps:
  wins: { prompt: "Wins: {{notes}}", temperature: hot }
final: wins
`
    expect(errorOf(text)).toBe(
      [
        "flows/t.yaml:4:18: 'type' of option 'notes' must be one of string, number, integer, boolean, choice, not \"text\". Write for example type: string",
        "flows/t.yaml:7:51: 'temperature' of step 'wins' must be a number from 0 to 2, not \"hot\". Write for example temperature: 0.7",
      ].join('\n'),
    )
  })

  it('a default outside its bounds', () => {
    const text = `${head.replace('The notes }', 'The notes }\n  count: { type: integer, description: How many, min: 1, max: 5, default: 9 }')}steps:
  wins: { prompt: "Wins: {{notes}}" }
final: wins
`
    expect(errorOf(text)).toBe(
      "flows/t.yaml:5:75: option 'count': default 9 is not a valid value: Too big: expected number to be <=5. Change it",
    )
  })

  it('an unknown key, with the known keys', () => {
    const text = `${head}steps:
  wins: { promt: "Wins: {{notes}}" }
final: wins
`
    expect(errorOf(text)).toBe(
      "flows/t.yaml:6:11: step 'wins' has an unknown key 'promt' (did you mean 'prompt'?). Its keys are: after, prompt, system, temperature, model, repeat, join, route, text, ask",
    )
    expect(errorOf(`${head}steps:\n  wins: { text: "x" }\nfinal: wins\nfirts: wins\n`)).toBe(
      "flows/t.yaml:8:1: the flow has an unknown key 'firts' (did you mean 'first'?). Its keys are: name, description, example, noun, first_label, input, steps, first, final",
    )
    expect(errorOf(`${head}steps:\n  wins: { text: "x" }\n  none: { after: wins }\nfinal: wins\n`)).toBe(
      "flows/t.yaml:7:3: step 'none' does nothing. Give it exactly one of prompt (a model call), text (a template) or ask (a question to people)",
    )
  })

  it('a YAML syntax error, with its position', () => {
    const text = `${head}steps:
  wins: { prompt: "Wins: {{notes}}"
final: wins
`
    expect(errorOf(text)).toMatch(
      /^flows\/t\.yaml:7:1: .+ \(YAML syntax\)\. Check the indentation, quotes and brackets here/,
    )
    expect(errorOf(`${head}  notes: { type: string, description: again }\nsteps: {}\nfinal: x\n`)).toBe(
      'flows/t.yaml:5:3: this key is written twice in the same map. Give each option, step and setting its own name',
    )
  })

  it('final missing, and final naming no step', () => {
    const text = `${head}steps:
  wins: { prompt: "Wins: {{notes}}" }
`
    expect(errorOf(text)).toBe("flows/t.yaml:1:1: the flow has no 'final'. Add final: summary")
    expect(errorOf(`${text}final: win\n`)).toBe(
      "flows/t.yaml:7:8: final 'win' is no step of this flow (did you mean 'wins'?). Name the step whose output is the answer: one of wins",
    )
  })

  it('names: a step named like an option, a reserved name, a self-listening step', () => {
    const text = `${head}steps:
  notes: { prompt: "x" }
  value: { text: "y" }
  loop: { after: loop, text: "z" }
final: loop
`
    expect(errorOf(text)).toBe(
      [
        "flows/t.yaml:6:3: the step name 'notes' is already used by an option. Options, steps and labels need names of their own",
        "flows/t.yaml:7:3: 'value' is a name the joins fill in ({{value}}, {{from}}, {{values}}). Give the step another name",
        "flows/t.yaml:8:18: step 'loop' listens to itself. Name a step or label before it",
      ].join('\n'),
    )
    expect(
      errorOf(`${head}steps:\n  go: { text: "a" }\n  loop: { after: loop, text: "{{go}}" }\nfinal: loop\n`),
    ).toBe(
      [
        "flows/t.yaml:7:18: step 'loop' listens to itself. Name a step or label before it",
        "flows/t.yaml:7:31: {{go}} in step 'loop': no option or step it listens to is called 'go'. To wait for step 'go', add it to this step's after",
      ].join('\n'),
    )
  })

  it('a step that can never run is refused by the engine, at the step', () => {
    const text = `${head}steps:
  triage: { after: start, route: [bug, question], prompt: "Kind? {{notes}}" }
  start: { text: "{{notes}}" }
  both: { after: { all: [bug, question] }, text: "never" }
final: both
`
    expect(errorOf(text)).toBe(
      "flows/t.yaml:8:3: step 'both' can never run: it waits for labels 'bug' and 'question' of router 'triage', which emits one label per call. Check what it listens to (after)",
    )
  })

  it('a flow with no start step', () => {
    expect(
      errorOf(
        `${head}steps:\n  a: { after: b, text: "{{b}}" }\n  b: { after: a, route: [x, y], prompt: "{{a}}" }\nfinal: a\n`,
      ),
    ).toBe(
      'flows/t.yaml:5:1: no step starts the flow: every step has an after. Leave after out of the steps that start at once',
    )
  })

  it('templates: an unknown filter and an unclosed placeholder', () => {
    const text = `${head}steps:
  a: { text: "{{notes|upper}} and {{notes" }
final: a
`
    expect(errorOf(text)).toBe(
      [
        "flows/t.yaml:6:15: step 'a': {{notes|upper}}: 'upper' is not a filter. Use trim, capitalize, quote, default:\"text\"",
        "flows/t.yaml:6:35: step 'a': `{{` is not closed. Close it with `}}`",
      ].join('\n'),
    )
  })

  it('an ask: on_timeout among its choices, and a duration', () => {
    const text = `${head}steps:
  ok:
    ask: { prompt: "Ship?", choices: [yes, no], timeout: soon, on_timeout: maybe }
final: ok
`
    expect(errorOf(text)).toBe(
      [
        "flows/t.yaml:7:49: step 'ok': timeout 'soon' is not a duration. Write one like 90s, 10m, 2h or 1d",
        "flows/t.yaml:7:64: step 'ok': on_timeout 'maybe' is not one of its choices (yes, no). Use one of them",
      ].join('\n'),
    )
  })

  it('a file that runs nothing: tags are refused', () => {
    expect(errorOf(`${head}steps:\n  a: { text: !!js/function "x" }\nfinal: a\n`)).toMatch(
      /^flows\/t\.yaml:6:14: unresolved tag: tag:yaml.org,2002:js\/function\. A flow file takes plain values only: remove the tag$/,
    )
  })

  it('step settings that do not go together', () => {
    const text = `${head}steps:
  a: { prompt: "{{notes}}", repeat: 3 }
  b: { text: "{{notes}}", temperature: 1 }
  c: { after: a, route: [x, y], ask: { prompt: "?", choices: [x, z] } }
final: a
`
    expect(errorOf(text)).toBe(
      [
        "flows/t.yaml:6:29: step 'a': 'repeat' needs 'join'. Write both: repeat: 5 and join: vote (the majority) or join: merge (every idea once)",
        "flows/t.yaml:7:27: step 'b': 'temperature' applies to a prompt step only. Remove it, or make the step a prompt",
        "flows/t.yaml:8:18: step 'c': an ask that routes offers its labels as its choices. Leave choices out, or give each label its text: choices: { x: …, y: … }",
      ].join('\n'),
    )
  })

  it('an example that does not fit the options', () => {
    expect(errorOf(`${head}example: { notes: 42 }\nsteps:\n  a: { text: "{{notes}}" }\nfinal: a\n`)).toBe(
      'flows/t.yaml:5:19: the example does not fit the options (notes: Invalid input: expected string, received number). Change the example',
    )
  })

  it('a step whose output nothing uses loads, with a warning', () => {
    const { warnings } = flowFromText(
      `${head}steps:\n  a: { text: "{{notes}}" }\n  b: { text: "b" }\nfinal: a\n`,
      'flows/t.yaml',
    )
    expect(warnings).toEqual([
      {
        line: 7,
        col: 3,
        message:
          "step 'b': nothing listens to it and it is neither first nor final, so its output is never used. Listen to it, or remove it",
      },
    ])
  })
})
